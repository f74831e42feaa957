/** The report header: machine, software versions and model metadata. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';

import { defaultModelPath, modelInfoFromBytes, readModelBytes } from '@sgenet/core';
import type { ModelInfo } from '@sgenet/core';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';

import { REPO_ROOT } from './options.js';
import type { Table } from './report.js';
import { num } from './report.js';

const run = promisify(execFile);

export interface MachineInfo {
  date: string;
  cpuModel: string;
  /** Logical CPUs listed in /proc/cpuinfo. */
  logicalCpus: number;
  /** Physical cores per socket ("cpu cores"), when listed. */
  physicalCores: number | undefined;
  availableParallelism: number;
  cpuFlags: string;
  memoryGiB: number;
  loadAverage: number;
  platform: string;
  node: string;
  ort: string;
  sharp: string;
  tfjs: string;
  git: string;
}

async function cpuInfo(): Promise<{ model: string; logical: number; physical: number | undefined; flags: string }> {
  try {
    const text = await readFile('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
    const logical = (text.match(/^processor\s*:/gm) ?? []).length;
    const physical = /^cpu cores\s*:\s*(\d+)$/m.exec(text)?.[1];
    const flags = /^flags\s*:\s*(.+)$/m.exec(text)?.[1] ?? '';
    const simd = ['avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'avx2', 'fma']
      .filter((f) => flags.split(/\s+/).includes(f));
    return {
      model: model ?? cpus()[0]?.model ?? 'unknown',
      logical: logical || cpus().length,
      physical: physical === undefined ? undefined : Number(physical),
      flags: simd.join(' ') || 'n/a',
    };
  } catch {
    return { model: cpus()[0]?.model ?? 'unknown', logical: cpus().length, physical: undefined, flags: 'n/a' };
  }
}

function packageVersion(name: string): string {
  try {
    const req = createRequire(import.meta.url);
    const pkg = req(`${name}/package.json`) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'not installed';
  }
}

async function gitDescribe(): Promise<string> {
  try {
    const { stdout: head } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT });
    const { stdout: dirty } = await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT });
    return `${head.trim()}${dirty.trim() ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'n/a';
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpu = await cpuInfo();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpuModel: cpu.model,
    logicalCpus: cpu.logical,
    physicalCores: cpu.physical,
    availableParallelism: availableParallelism(),
    cpuFlags: cpu.flags,
    memoryGiB: totalmem() / 2 ** 30,
    loadAverage: loadavg()[0] ?? 0,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
    ort: ort.env.versions.node ?? ort.env.versions.common ?? packageVersion('onnxruntime-node'),
    sharp: `${sharp.versions.sharp ?? packageVersion('sharp')} (libvips ${sharp.versions.vips})`,
    tfjs: packageVersion('@tensorflow/tfjs-core'),
    git: await gitDescribe(),
  };
}

export async function shippedModel(): Promise<{ info: ModelInfo; path: string; bytes: number }> {
  const path = defaultModelPath();
  const bytes = await readModelBytes(path);
  return { info: modelInfoFromBytes(bytes), path, bytes: bytes.length };
}

export function headerTable(m: MachineInfo, model: { info: ModelInfo; path: string; bytes: number }, quick: boolean): Table {
  const i = model.info;
  const cores = m.physicalCores !== undefined && m.physicalCores !== m.logicalCpus
    ? `${m.logicalCpus} logical CPUs (${m.physicalCores} cores per socket)`
    : `${m.logicalCpus} logical CPUs`;
  const busy = m.loadAverage > 0.5 * m.availableParallelism;
  return {
    title: 'Machine and model',
    columns: ['item', 'value'],
    align: ['l', 'l'],
    rows: [
      ['Date (UTC)', m.date + (quick ? ' — QUICK development run (small sizes only)' : '')],
      ['CPU', `${m.cpuModel} — ${cores}; SIMD: ${m.cpuFlags}`],
      ['Cores used', `${m.availableParallelism} (os.availableParallelism)`],
      ['Memory', `${num(m.memoryGiB, 1)} GiB`],
      ['Load average at start (1 min)', `${num(m.loadAverage, 2)}${busy ? ' — the machine was busy: timings are pessimistic' : ''}`],
      ['OS', m.platform],
      ['Node.js', m.node],
      ['ONNX Runtime (onnxruntime-node)', m.ort],
      ['TensorFlow.js (tfjs-core)', m.tfjs],
      ['sharp', m.sharp],
      ['Repository', m.git],
      ['Model', `${i.name} ${i.version} (packages/core/models/${model.path.split(/[\\/]/).pop() ?? ''}, ${num(model.bytes / 2 ** 20, 1)} MiB)`],
      ['Model cost', `${i.gflopPerMegapixel === undefined ? 'unknown' : num(i.gflopPerMegapixel, 2)} GFLOP per megapixel (metadata gflop_per_megapixel; 2 FLOP per multiply-accumulate)`],
      ['Model receptive field / multiple', `${i.receptiveField} px / ${i.multiple}`],
      ['Model parameters', i.parameters === undefined ? 'unknown' : i.parameters.toLocaleString('en-US')],
      ['Model training', i.metadata.training ?? 'unknown'],
    ],
  };
}
