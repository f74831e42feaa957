/**
 * In-process speed: `deblurrer.deblur()` wall time (pixels -> tensors -> model -> pixels; the image
 * is generated beforehand and not timed) on photo-like images, ORT and tfjs on the same image, and
 * the tiled vs untiled comparison.
 */
import { DEFAULT_TILE_SIZE, defaultOverlap, planTiles } from '@sgenet/core';
import type { Deblurrer, DeblurOptions, ModelInfo, RawImage } from '@sgenet/core';

import type { TfjsLoad } from './backends.js';
import type { CeilingResult } from './ceiling.js';
import { sizeFor, syntheticPhoto } from './images.js';
import type { ImageSize } from './images.js';
import type { Table } from './report.js';
import { Notes, num, pct, reasonOf } from './report.js';
import { median, roundUp, timed } from './stats.js';

export type Log = (line: string) => void;

export interface SpeedRow {
  size: ImageSize;
  backend: string;
  times: number[];
  /** Pixels the default tile plan feeds to the model / image pixels (overlap and padding included). */
  work?: number;
  /** Why there is no (or an incomplete) measurement. */
  error?: string;
}

export interface SpeedInput {
  ort: Deblurrer;
  /** undefined: tfjs rows not requested. */
  tfjs: TfjsLoad | undefined;
  sizes: readonly number[];
  runsFor: (megapixels: number) => number;
  tfjsBudgetSeconds: number;
  log: Log;
}

/** Times `runs` calls; stops at the first failure and reports it with the times so far. */
async function timeRuns(
  d: Deblurrer,
  image: RawImage,
  runs: number,
  label: string,
  log: Log,
  options: () => DeblurOptions = () => ({ kernel: 'none' }),
): Promise<{ times: number[]; error?: string; output?: RawImage }> {
  const times: number[] = [];
  let output: RawImage | undefined;
  for (let i = 1; i <= runs; i++) {
    try {
      const r = await timed(() => d.deblur(image, options()));
      times.push(r.seconds);
      output = r.value;
      log(`  ${label} run ${i}/${runs}: ${r.seconds.toFixed(2)} s`);
    } catch (err) {
      return { times, error: reasonOf(err), ...(output ? { output } : {}) };
    }
  }
  return { times, ...(output ? { output } : {}) };
}

export async function measureSpeed(input: SpeedInput): Promise<SpeedRow[]> {
  const rows: SpeedRow[] = [];
  let tfjsStop: string | undefined;
  for (const mp of input.sizes) {
    const size = sizeFor(mp);
    input.log(`  generating a ${size.width}x${size.height} photo-like image`);
    const image = await syntheticPhoto(size.width, size.height, 1);
    const runs = input.runsFor(size.megapixels);
    const info = input.ort.model;
    const { work } = workRatio(size.width, size.height, DEFAULT_TILE_SIZE, effectiveOverlap(info, DEFAULT_TILE_SIZE), info.multiple);
    const o = await timeRuns(input.ort, image, runs, `ORT ${size.label}`, input.log);
    rows.push({ size, backend: 'ort', times: o.times, work, ...(o.error ? { error: o.error } : {}) });
    if (input.tfjs === undefined) continue;
    if (!input.tfjs.ok) {
      rows.push({ size, backend: 'tfjs', times: [], work, error: `not available: ${input.tfjs.reason}` });
      continue;
    }
    if (tfjsStop) {
      rows.push({ size, backend: input.tfjs.label, times: [], work, error: tfjsStop });
      continue;
    }
    const budget = input.tfjsBudgetSeconds;
    const t = await timeRuns(input.tfjs.deblurrer, image, runs, `${input.tfjs.label} ${size.label}`, input.log, () => ({
      kernel: 'none',
      signal: AbortSignal.timeout(budget * 1000),
    }));
    let error = t.error;
    if (error && /abort/i.test(error)) {
      error = `cancelled: one run took over the ${budget} s budget (--tfjs-budget)`;
      tfjsStop = `skipped: a smaller image already exceeded the ${budget} s budget`;
    }
    rows.push({ size, backend: input.tfjs.label, times: t.times, work, ...(error ? { error } : {}) });
  }
  return rows;
}

export function speedTable(
  rows: readonly SpeedRow[],
  gflopPerMp: number | undefined,
  ceiling: CeilingResult | undefined,
  extraNotes: readonly string[] = [],
): Table {
  const table: Table = {
    title: 'Speed',
    columns: ['image', 'backend', 'runs', 'median s', 'MP/s', 'GFLOP/s', 'of conv ceiling', 'GFLOP/s incl. overlap', 'time vs ORT'],
    rows: [],
    notes: [],
  };
  const notes = new Notes();
  const noteRef = (error: string): string => notes.ref(error);
  for (const r of rows) {
    const name = `${r.size.label} (${r.size.width}x${r.size.height})`;
    if (r.times.length === 0) {
      table.rows.push([name, r.backend, '0', '–', '–', '–', '–', '–', r.error ? noteRef(r.error) : '–']);
      continue;
    }
    const med = median(r.times);
    const gflops = gflopPerMp === undefined ? undefined : (gflopPerMp * r.size.megapixels) / med;
    const ort = rows.find((x) => x.backend === 'ort' && x.size.label === r.size.label && x.times.length > 0);
    const ratio = ort ? med / median(ort.times) : undefined;
    table.rows.push([
      name,
      r.backend,
      String(r.times.length),
      num(med, 2),
      num(r.size.megapixels / med, 3),
      num(gflops, 1),
      r.backend === 'ort' && ceiling && gflops !== undefined ? pct(gflops / ceiling.gflops) : '–',
      gflops !== undefined && r.work !== undefined
        ? `${num(gflops * r.work, 1)}${r.backend === 'ort' && ceiling ? ` (${pct((gflops * r.work) / ceiling.gflops)})` : ''}`
        : '–',
      r.backend === 'ort' ? (r.error ? noteRef(r.error) : '1.00×') : ratio === undefined ? '–' : `${num(ratio, 2)}×${r.error ? ` (${noteRef(r.error)})` : ''}`,
    ]);
  }
  table.notes!.push(
    'GFLOP/s = model GFLOP per MP (metadata) × image MP / median time: useful work only, so tile overlap counts as overhead (this is the budget\'s number). ' +
      `"incl. overlap" counts every pixel the default tile plan (tile ${DEFAULT_TILE_SIZE}) feeds to the model, i.e. the engine's own throughput, with its share of the ceiling in brackets. ` +
      '"time vs ORT" > 1 means slower than ONNX Runtime on the same image.',
  );
  table.notes!.push(...notes.lines(), ...extraNotes);
  if (ceiling) {
    table.notes!.push(`Conv ceiling used for the ratio: ${num(ceiling.gflops, 1)} GFLOP/s (the higher of the two ceiling measurements).`);
  }
  return table;
}

export interface TilingResult {
  size: ImageSize;
  tileSize: number;
  overlap: number;
  tiles: number;
  untiledTile: number;
  tiledTimes: number[];
  untiledTimes: number[];
  /** Pixels fed to the model / image pixels. */
  tiledWork: number;
  untiledWork: number;
  /** Largest |tiled - untiled| in 8-bit levels, away from the borders / everywhere. */
  maxDiffInterior: number;
  maxDiffAll: number;
  margin: number;
}

function workRatio(width: number, height: number, tileSize: number, overlap: number, multiple: number): { tiles: number; work: number } {
  const plan = planTiles(width, height, { tileSize, overlap, multiple });
  let px = 0;
  for (const t of plan.tiles) px += t.x.readLength * t.y.readLength;
  return { tiles: plan.tiles.length, work: px / (width * height) };
}

/** The overlap a deblurrer uses for a per-call tile size when none is given (see core's deblurrer). */
export function effectiveOverlap(info: ModelInfo, tileSize: number): number {
  return Math.min(defaultOverlap(info), Math.floor((tileSize - 2 * info.multiple) / 3));
}

export async function measureTiling(
  ort: Deblurrer,
  mp: number,
  tileSize: number,
  runs: number,
  log: Log,
): Promise<TilingResult> {
  const info = ort.model;
  const size = sizeFor(mp);
  const image = await syntheticPhoto(size.width, size.height, 2);
  const untiledTile = roundUp(Math.max(size.width, size.height), info.multiple);
  if (untiledTile > 8192) throw new Error(`an untiled run needs tileSize ${untiledTile} > 8192`);
  const overlap = effectiveOverlap(info, tileSize);
  const tiled = workRatio(size.width, size.height, tileSize, overlap, info.multiple);
  const untiled = workRatio(size.width, size.height, untiledTile, effectiveOverlap(info, untiledTile), info.multiple);
  if (untiled.tiles !== 1) throw new Error(`untiled plan has ${untiled.tiles} tiles`);
  if (tiled.tiles === 1) log(`  note: tile ${tileSize} covers the whole ${size.width}x${size.height} image (1 tile)`);
  const tiledTimes: number[] = [];
  const untiledTimes: number[] = [];
  let a: RawImage | undefined;
  let b: RawImage | undefined;
  // Interleaved so that background load drifts hit both alike.
  for (let i = 1; i <= runs; i++) {
    const t = await timed(() => ort.deblur(image, { tileSize, kernel: 'none' }));
    tiledTimes.push(t.seconds);
    a = t.value;
    log(`  tiled (tile ${tileSize}, ${tiled.tiles} tiles) run ${i}/${runs}: ${t.seconds.toFixed(2)} s`);
    const u = await timed(() => ort.deblur(image, { tileSize: untiledTile, kernel: 'none' }));
    untiledTimes.push(u.seconds);
    b = u.value;
    log(`  untiled (tile ${untiledTile}) run ${i}/${runs}: ${u.seconds.toFixed(2)} s`);
  }
  const margin = info.receptiveField;
  let maxDiffInterior = 0;
  let maxDiffAll = 0;
  if (a && b) {
    const { width, height } = size;
    for (let y = 0; y < height; y++) {
      const inside = y >= margin && y < height - margin;
      for (let x = 0; x < width; x++) {
        const interior = inside && x >= margin && x < width - margin;
        for (let c = 0; c < 3; c++) {
          const i = (y * width + x) * 3 + c;
          const d = Math.abs(a.data[i]! - b.data[i]!);
          if (d > maxDiffAll) maxDiffAll = d;
          if (interior && d > maxDiffInterior) maxDiffInterior = d;
        }
      }
    }
  }
  return {
    size,
    tileSize,
    overlap,
    tiles: tiled.tiles,
    untiledTile,
    tiledTimes,
    untiledTimes,
    tiledWork: tiled.work,
    untiledWork: untiled.work,
    maxDiffInterior,
    maxDiffAll,
    margin,
  };
}

export function tilingTable(r: TilingResult): Table {
  const t = median(r.tiledTimes);
  const u = median(r.untiledTimes);
  const name = `${r.size.label} (${r.size.width}x${r.size.height})`;
  return {
    title: 'Tiling overhead (ORT)',
    columns: ['image', 'mode', 'tile / overlap', 'tiles', 'pixels fed to model', 'median s', 'overhead'],
    rows: [
      [name, 'untiled', `${r.untiledTile} / –`, '1', `${num(r.untiledWork, 2)}×`, num(u, 2), '–'],
      [name, 'tiled', `${r.tileSize} / ${r.overlap}`, String(r.tiles), `${num(r.tiledWork, 2)}×`, num(t, 2), pct(t / u - 1, 1)],
    ],
    notes: [
      `Median of ${r.tiledTimes.length} interleaved runs each. "pixels fed to model" = sum of tile areas (with overlap and padding to the model's multiple) / image area: the overhead expected from the extra work alone is ${pct(r.tiledWork / r.untiledWork - 1, 1)}.`,
      `Tiled vs untiled output: max |difference| ${r.maxDiffInterior} levels (8-bit) more than ${r.margin} px (the receptive field) from the borders, ${r.maxDiffAll} anywhere (architecture target: ≤ 1 level away from borders).`,
    ],
  };
}
