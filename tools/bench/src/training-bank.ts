/**
 * The Node half of training/make_restoration_bank.py: for every blurred training item, the
 * product's own estimator and deconvolution, so the kernel-guided network trains on exactly what
 * core gives it (one implementation; Python only synthesises the blur and reads the results).
 *
 *   node tools/bench/dist/training-bank.js --items DIR/items.jsonl --out DIR [--shard i/n] [--max-size N]
 *
 * Each line of items.jsonl: `{ "id", "blurred": "<png>", "deconvolve": "estimated" | { width, height, data } }`.
 * For each item whose `<id>.done.json` is missing (resumable): the kernel is estimated (always: the
 * bank keeps the estimator's failures and its fallbacks to the identity), the photo is deconvolved
 * with the estimated kernel or with the given one (a perturbed true kernel), as `deblur()` does it
 * (an identity estimate is not deconvolved), and `<id>.deconvolved.png` then `<id>.done.json` are
 * written, each atomically.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { deconvolve, estimateKernel, kernelToJson, validateKernel } from '@sgenet/core';
import type { BlurKernel, RawImage } from '@sgenet/core';
import sharp from 'sharp';

export interface BankItem {
  id: string;
  blurred: string;
  deconvolve: 'estimated' | { width: number; height: number; data: number[] };
}

export interface BankRecord {
  id: string;
  estimated: { width: number; height: number; data: number[] };
  confidence: number;
  identity: boolean;
  peakDominance: number;
  /** Which kernel the deconvolved image was made with. */
  used: 'estimated' | 'given' | 'identity';
  seconds: { estimate: number; deconvolve: number };
}

async function readRgb(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

async function writeAtomically(file: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await write(tmp);
  await rename(tmp, file);
}

export function parseItems(text: string): BankItem[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line, i) => {
    const item = JSON.parse(line) as BankItem;
    if (typeof item.id !== 'string' || !/^[\w.-]+$/.test(item.id)) throw new Error(`items line ${i + 1}: "id" must be letters, digits, _ . -`);
    if (typeof item.blurred !== 'string') throw new Error(`items line ${i + 1}: "blurred" must be a path`);
    if (item.deconvolve !== 'estimated') validateKernel(item.deconvolve, `items line ${i + 1} (${item.id})`);
    return item;
  });
}

/** Processes one item: estimate, deconvolve, record. */
export async function processItem(item: BankItem, outDir: string, maxSize: number | undefined): Promise<BankRecord> {
  const photo = await readRgb(item.blurred);
  const t0 = performance.now();
  const estimate = await estimateKernel(photo, maxSize !== undefined ? { maxSize } : {});
  const t1 = performance.now();
  let kernel: BlurKernel | undefined;
  let used: BankRecord['used'];
  if (item.deconvolve === 'estimated') {
    kernel = estimate.identity ? undefined : estimate.kernel;
    used = estimate.identity ? 'identity' : 'estimated';
  } else {
    kernel = validateKernel(item.deconvolve, item.id);
    used = kernel.width === 1 && kernel.height === 1 ? 'identity' : 'given';
    if (used === 'identity') kernel = undefined;
  }
  const restored = kernel ? await deconvolve(photo, kernel) : photo;
  const t2 = performance.now();
  await writeAtomically(join(outDir, `${item.id}.deconvolved.png`), (tmp) =>
    sharp(Buffer.from(restored.data.buffer, restored.data.byteOffset, restored.data.byteLength), {
      raw: { width: restored.width, height: restored.height, channels: restored.channels },
    }).png().toFile(tmp));
  const record: BankRecord = {
    id: item.id,
    estimated: JSON.parse(kernelToJson(estimate.kernel)) as BankRecord['estimated'],
    confidence: estimate.confidence,
    identity: estimate.identity,
    peakDominance: estimate.peakDominance,
    used,
    seconds: { estimate: (t1 - t0) / 1000, deconvolve: (t2 - t1) / 1000 },
  };
  await writeAtomically(join(outDir, `${item.id}.done.json`), (tmp) => writeFile(tmp, `${JSON.stringify(record)}\n`));
  return record;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { items: { type: 'string' }, out: { type: 'string' }, shard: { type: 'string', default: '0/1' }, 'max-size': { type: 'string' } } });
  if (!values.items || !values.out) throw new Error('usage: training-bank --items FILE --out DIR [--shard i/n] [--max-size N]');
  const [shard, shards] = values.shard.split('/').map(Number) as [number, number];
  const maxSize = values['max-size'] !== undefined ? Number(values['max-size']) : undefined;
  const items = parseItems(await readFile(values.items, 'utf8'));
  const mine = items.filter((_, i) => i % shards === shard);
  const todo = mine.filter((it) => !existsSync(join(values.out!, `${it.id}.done.json`)));
  console.log(`training-bank: ${items.length} items, shard ${shard}/${shards}: ${mine.length}, ${mine.length - todo.length} already done, ${todo.length} to do`);
  for (const [n, item] of todo.entries()) {
    const r = await processItem(item, values.out, maxSize);
    console.log(`[${n + 1}/${todo.length}] ${item.id}: ${r.estimated.width}x${r.estimated.height} kernel, confidence ${r.confidence.toFixed(2)}, ` +
      `deconvolved with the ${r.used} kernel (${r.seconds.estimate.toFixed(1)} s + ${r.seconds.deconvolve.toFixed(1)} s)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exit(1);
  });
}
