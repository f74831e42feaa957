/**
 * Quality: runs the project's dev benchmark (training/evaluate.py: Kodak24 x 8 Levin09 kernels from
 * ../shared, read in place, never copied) and plots PSNR per kernel.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { REPO_ROOT } from './options.js';
import type { Table } from './report.js';
import { num } from './report.js';
import { lineChartSvg } from './svg-chart.js';

export interface Score {
  psnr: number | null;
  ssim: number | null;
  /** Best integer shift within ±5 px, interior (with the restoration pipeline). */
  psnr_aligned?: number | null;
}

export interface QualityResult {
  pairs: number;
  summary: Record<string, Score>;
  per_kernel: Record<string, (Score & { n?: number })[]>;
  labels: Record<string, string>;
}

function isScore(v: unknown): v is Score {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const ok = (x: unknown) => x === null || typeof x === 'number';
  return ok(s.psnr) && ok(s.ssim);
}

function isRecordOf<T>(v: unknown, item: (x: unknown) => x is T): v is Record<string, T> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(item);
}

export function parseQuality(json: unknown): QualityResult {
  if (typeof json !== 'object' || json === null) throw new Error('evaluate.py JSON is not an object');
  const j = json as Record<string, unknown>;
  const isScoreList = (x: unknown): x is Score[] => Array.isArray(x) && x.every(isScore);
  const isString = (x: unknown): x is string => typeof x === 'string';
  if (typeof j.pairs !== 'number') throw new Error('evaluate.py JSON has no "pairs" count');
  if (!isRecordOf(j.summary, isScore)) throw new Error('evaluate.py JSON has no valid "summary"');
  if (!isRecordOf(j.per_kernel, isScoreList)) throw new Error('evaluate.py JSON has no valid "per_kernel"');
  return {
    pairs: j.pairs,
    summary: j.summary,
    per_kernel: j.per_kernel,
    labels: isRecordOf(j.labels, isString) ? j.labels : {},
  };
}

/** Why the quality section cannot run here, or undefined when it can. */
export function qualityPrerequisite(): string | undefined {
  const script = join(REPO_ROOT, 'training', 'evaluate.py');
  const shared = resolve(REPO_ROOT, '..', 'shared');
  if (!existsSync(script)) return 'skipped: training/evaluate.py absent';
  if (!existsSync(shared)) return `skipped: ../shared absent (${shared}); the dev benchmark reads Kodak24 and the Levin09 kernels from there`;
  return undefined;
}

export interface QualityRun {
  result: QualityResult;
  markdown: string;
  command: string;
}

/**
 * Where evaluate.py keeps the restoration pipeline's outputs: outside the repository (they derive
 * from third-party images) and stable across runs, so an interrupted benchmark resumes.
 */
export const RESTORATION_WORK = join(tmpdir(), 'sgenet-restoration');

export async function runQuality(python: string, limit: number, log: (line: string) => void): Promise<QualityRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sgenet-quality-'));
  const jsonPath = join(dir, 'quality.json');
  const mdPath = join(dir, 'quality.md');
  const args = ['training/evaluate.py', '--json', jsonPath, '--markdown', mdPath, '--restoration', RESTORATION_WORK,
    ...(limit > 0 ? ['--limit', String(limit)] : [])];
  const shown = `${python} training/evaluate.py --json <tmp>/quality.json --markdown <tmp>/quality.md --restoration ${RESTORATION_WORK}${limit > 0 ? ` --limit ${limit}` : ''}`;
  log(`  ${shown}`);
  try {
    const tail: string[] = [];
    let inReport = false;
    const code = await new Promise<number>((done, fail) => {
      const child = spawn(python, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const remember = (line: string) => {
        tail.push(line);
        if (tail.length > 20) tail.shift();
      };
      const onStdout = (line: string) => {
        remember(line);
        // Its closing report is re-printed as our table; per-pair lines ("[ 17/192] ...") every 16th pair.
        if (line.startsWith('Dev benchmark:')) inReport = true;
        const m = /^\[\s*(\d+)\/(\d+)\]/.exec(line);
        if (!inReport && (!m || Number(m[1]) % 16 === 0 || m[1] === m[2])) log(`    | ${line}`);
      };
      const onStderr = (line: string) => {
        remember(line);
        log(`    ! ${line}`);
      };
      createInterface({ input: child.stdout }).on('line', onStdout);
      createInterface({ input: child.stderr }).on('line', onStderr);
      child.on('error', fail);
      child.on('close', (c) => done(c ?? 1));
    });
    if (code !== 0) throw new Error(`evaluate.py exited with code ${code}: ${tail.slice(-3).join(' / ')}`);
    if (!existsSync(jsonPath)) {
      const skipped = tail.find((l) => l.startsWith('SKIPPED'));
      throw new Error(skipped ?? 'evaluate.py wrote no JSON');
    }
    const result = parseQuality(JSON.parse(await readFile(jsonPath, 'utf8')) as unknown);
    const markdown = existsSync(mdPath) ? await readFile(mdPath, 'utf8') : '';
    return { result, markdown, command: shown };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Methods in the summary table and the chart, in this order, when present. */
const PLOTTED: readonly { key: string; name: string; color: string; dashed?: boolean }[] = [
  { key: 'blurry', name: 'blurry input', color: '#8c8c8c' },
  { key: 'sharpen', name: 'sharp().sharpen()', color: '#e69f00' },
  { key: 'unsharp_strong', name: 'strong unsharp mask', color: '#d55e00' },
  { key: 'model', name: 'SGENet v0.4.0 alone', color: '#0072b2' },
  { key: 'pipeline', name: "kernel 'auto' (estimated kernel, deconvolution)", color: '#cc79a7' },
  { key: 'ours_true', name: 'our deconvolution, true kernel', color: '#009e73', dashed: true },
  { key: 'wiener', name: 'Wiener, true kernel', color: '#56b4e9', dashed: true },
];

export function qualityTable(q: QualityResult): Table {
  const methods = Object.keys(q.summary);
  return {
    title: `Quality: dev benchmark (${q.pairs} pairs)`,
    columns: ['method', 'PSNR dB', 'PSNR aligned dB', 'SSIM', 'description'],
    align: ['l', 'r', 'r', 'r', 'l'],
    rows: methods.map((m) => [
      m, num(q.summary[m]?.psnr, 2), num(q.summary[m]?.psnr_aligned, 2), num(q.summary[m]?.ssim, 4), q.labels[m] ?? '',
    ]),
  };
}

export function psnrPerKernelSvg(q: QualityResult): string {
  const present = PLOTTED.filter((p) => q.per_kernel[p.key]);
  if (present.length === 0) throw new Error('evaluate.py reported none of blurry, sharpen, unsharp_strong, model');
  const nk = Math.max(...present.map((p) => q.per_kernel[p.key]!.length));
  return lineChartSvg({
    title: 'PSNR per blur kernel: dev benchmark (Kodak24 × Levin09)',
    subtitle: `${q.pairs} pairs, noise σ 0.01, 8-bit; mean over the images of each kernel. Wiener knows the true kernel (upper reference).`,
    categories: Array.from({ length: nk }, (_, i) => `k${i + 1}`),
    series: present.map((p) => ({
      name: p.name,
      color: p.color,
      values: q.per_kernel[p.key]!.map((s) => s.psnr),
      ...(p.dashed ? { dashed: true } : {}),
    })),
    yLabel: 'PSNR (dB, higher is better)',
    width: 900,
  });
}
