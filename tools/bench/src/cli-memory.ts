/**
 * Out-of-process measurements of the `sgenet` CLI, reusing apps/cli's own benchmark helpers
 * (apps/cli/dist/bench/memory.js: writeSyntheticPhoto, and measureCli, which runs the CLI under
 * GNU time `/usr/bin/time -v` and reads "Maximum resident set size").
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_TILE_SIZE } from '@sgenet/core';

import { sizeFor, sizeOf } from './images.js';
import type { ImageSize } from './images.js';
import type { Table } from './report.js';
import { REPO_ROOT } from './options.js';
import { importFailure, Notes, num, reasonOf, verdict } from './report.js';

export interface CliMeasurement {
  peakRssMiB: number;
  wallSeconds: number;
}

interface CliMemoryModule {
  writeSyntheticPhoto(file: string, width: number, height: number): Promise<void>;
  measureCli(input: string, output: string, backend: string): Promise<CliMeasurement>;
}

function isCliMemoryModule(v: unknown): v is CliMemoryModule {
  const m = v as Partial<Record<keyof CliMemoryModule, unknown>> | null;
  return typeof m === 'object' && m !== null && typeof m.writeSyntheticPhoto === 'function' && typeof m.measureCli === 'function';
}

/** Imports apps/cli/dist/bench/memory.js next to the installed @sgenet/cli entry point. */
export async function loadCliMemory(): Promise<CliMemoryModule> {
  let url: URL;
  try {
    url = new URL('./bench/memory.js', import.meta.resolve('@sgenet/cli'));
  } catch (err) {
    throw new Error(`@sgenet/cli cannot be resolved (${reasonOf(err)})`, { cause: err });
  }
  let mod: unknown;
  try {
    mod = await import(url.href);
  } catch (err) {
    throw new Error(`cannot load apps/cli's benchmark helpers: ${importFailure(err, REPO_ROOT)}`, { cause: err });
  }
  if (!isCliMemoryModule(mod)) throw new Error(`${url.pathname} does not export writeSyntheticPhoto and measureCli`);
  return mod;
}

/** The CLI's stderr reason from a failed execFile (GNU time's stderr includes the CLI's). */
function cliFailure(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  if (typeof stderr === 'string') {
    const line = stderr.split('\n').find((l) => l.startsWith('sgenet:') || /Error/.test(l));
    if (line) return line.trim().slice(0, 240);
  }
  return reasonOf(err);
}

export interface MemoryRow {
  backend: string;
  size: ImageSize;
  result?: CliMeasurement;
  error?: string;
}

/** A temporary folder, removed when `fn` settles. */
async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sgenet-bench-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function measureMemory(
  cli: CliMemoryModule,
  width: number,
  height: number,
  backends: readonly string[],
  log: (line: string) => void,
): Promise<MemoryRow[]> {
  const size = sizeOf(width, height);
  return withTempDir(async (dir) => {
    const input = join(dir, 'photo.png');
    await cli.writeSyntheticPhoto(input, width, height);
    log(`  wrote a ${width}x${height} PNG (${num((await stat(input)).size / 2 ** 20, 1)} MiB) with apps/cli's writeSyntheticPhoto`);
    const rows: MemoryRow[] = [];
    for (const backend of backends) {
      try {
        const result = await cli.measureCli(input, join(dir, `out-${backend}.png`), backend);
        log(`  sgenet deblur --backend ${backend}: peak RSS ${num(result.peakRssMiB, 0)} MiB, ${num(result.wallSeconds, 1)} s`);
        rows.push({ backend, size, result });
      } catch (err) {
        const error = cliFailure(err);
        log(`  sgenet deblur --backend ${backend} failed: ${error}`);
        rows.push({ backend, size, error });
      }
    }
    return rows;
  });
}

/** The 12 MP budget: peak RSS ≤ 1 GB (10^9 bytes) with tiling, on both backends. */
export const RSS_BUDGET_MIB = 1e9 / 2 ** 20;

export function memoryTable(rows: readonly MemoryRow[], budgetApplies: boolean): Table {
  const notes = new Notes();
  const table: Table = {
    title: 'Peak memory of the CLI',
    columns: ['image', 'backend', 'peak RSS MiB', 'wall s', 'budget ≤ 1 GB'],
    rows: rows.map((r) => [
      `${r.size.label} (${r.size.width}x${r.size.height})`,
      r.backend,
      r.result ? num(r.result.peakRssMiB, 0) : r.error ? notes.ref(r.error, 'not available: ') : '–',
      r.result ? num(r.result.wallSeconds, 1) : '–',
      r.result && budgetApplies ? verdict(r.result.peakRssMiB <= RSS_BUDGET_MIB) : '–',
    ]),
    notes: [
      `\`sgenet deblur photo.png -o out.png --backend B -q\` (default tile ${DEFAULT_TILE_SIZE}) under \`/usr/bin/time -v\`, "Maximum resident set size": ` +
        'Node, the model session, PNG decode/encode and the tiles, in the child `sgenet deblur` runs in on glibc (the larger process; ' +
        'its launcher holds about 45 MiB more, apps/cli/README.md, "Memory"). 1 GB = 10^9 bytes = 954 MiB.' +
        (budgetApplies ? '' : ' Quick run: the image is smaller than the 12 MP of the budget, so no verdict.'),
    ],
  };
  table.notes!.push(...notes.lines());
  return table;
}

export interface GrowthRow {
  size: ImageSize;
  result?: CliMeasurement;
  error?: string;
}

export async function measureGrowth(
  cli: CliMemoryModule,
  sizes: readonly number[],
  log: (line: string) => void,
): Promise<GrowthRow[]> {
  return withTempDir(async (dir) => {
    const rows: GrowthRow[] = [];
    for (const mp of sizes) {
      const size = sizeFor(mp);
      const input = join(dir, `photo-${mp}.png`);
      try {
        await cli.writeSyntheticPhoto(input, size.width, size.height);
        const result = await cli.measureCli(input, join(dir, `out-${mp}.png`), 'ort');
        log(`  ${size.label} (${size.width}x${size.height}): ${num(result.wallSeconds, 1)} s, peak RSS ${num(result.peakRssMiB, 0)} MiB`);
        rows.push({ size, result });
      } catch (err) {
        const error = cliFailure(err);
        log(`  ${size.label} failed: ${error}`);
        rows.push({ size, error });
      }
      await rm(input, { force: true });
    }
    return rows;
  });
}

/** A cost "grows at most linearly" when its ratio to the first size is ≤ the pixel ratio (+10% noise). */
export const LINEAR_TOLERANCE = 1.1;

export function growthVerdicts(rows: readonly GrowthRow[]): { time: boolean | null; rss: boolean | null } {
  const base = rows[0]?.result;
  const first = rows[0];
  if (!base || !first) return { time: null, rss: null };
  let time: boolean | null = null;
  let rss: boolean | null = null;
  for (const r of rows.slice(1)) {
    if (!r.result) continue;
    const px = r.size.megapixels / first.size.megapixels;
    time = (time ?? true) && r.result.wallSeconds / base.wallSeconds <= px * LINEAR_TOLERANCE;
    rss = (rss ?? true) && r.result.peakRssMiB / base.peakRssMiB <= px * LINEAR_TOLERANCE;
  }
  return { time, rss };
}

/**
 * `modelWork(width, height)`: pixels the CLI's tile plan feeds to the model, to show how much of the
 * growth comes from tile overlap rather than from the pixels themselves.
 */
export function growthTable(rows: readonly GrowthRow[], modelWork?: (width: number, height: number) => number): Table {
  const first = rows[0];
  const base = first?.result;
  const notes = new Notes();
  const table: Table = {
    title: 'Cost growth with image size (ORT, CLI)',
    columns: ['image', 'pixels ×', 'model work ×', 'wall s', 'time ×', 's per MP', 'peak RSS MiB', 'RSS ×', 'at most linear'],
    rows: rows.map((r) => {
      const name = `${r.size.label} (${r.size.width}x${r.size.height})`;
      const work = modelWork && first ? modelWork(r.size.width, r.size.height) / modelWork(first.size.width, first.size.height) : undefined;
      if (!r.result || !first) return [name, '–', '–', r.error ? notes.ref(r.error, 'failed: ') : '–', '–', '–', '–', '–', '–'];
      const px = r.size.megapixels / first.size.megapixels;
      const tx = base ? r.result.wallSeconds / base.wallSeconds : undefined;
      const rx = base ? r.result.peakRssMiB / base.peakRssMiB : undefined;
      const ok = tx === undefined || rx === undefined ? null : tx <= px * LINEAR_TOLERANCE && rx <= px * LINEAR_TOLERANCE;
      return [
        name,
        `${num(px, 2)}×`,
        work === undefined ? '–' : `${num(work, 2)}×`,
        num(r.result.wallSeconds, 1),
        `${num(tx, 2)}×`,
        num(r.result.wallSeconds / r.size.megapixels, 2),
        num(r.result.peakRssMiB, 0),
        `${num(rx, 2)}×`,
        r === first ? '(reference)' : verdict(ok),
      ];
    }),
    notes: [
      'Each size is one `sgenet deblur photo.png -o out.png --backend ort -q` process under `/usr/bin/time -v` ' +
        '(wall time includes Node start-up, model load and PNG decode/encode). Ratios are against the first size; ' +
        `"at most linear" means time × and RSS × ≤ pixels × (with ${Math.round((LINEAR_TOLERANCE - 1) * 100)}% allowance for timing noise). ` +
        `"model work ×" = pixels the default tile plan (tile ${DEFAULT_TILE_SIZE}, overlap from the receptive field) feeds to the model, relative to the first size: ` +
        'where it exceeds pixels ×, tile overlap makes the model\'s work grow faster than the image.',
    ],
  };
  table.notes!.push(...notes.lines());
  return table;
}
