/**
 * Tile planning. An image axis of length L is split into n equal-ish *cores* that partition
 * [0, L). Each tile reads its core plus at least `overlap` pixels of context on both sides
 * (clamped to the image), starting on the model's grid and rounded up to its multiple (reflect
 * padding past the image end), so every pixel a tile writes is computed from the same
 * neighbourhood, at the same sampling phase, as in an untiled run.
 *
 * Neighbouring tiles are blended with linear ramps of half-width `feather` centred on the core
 * boundary; the 1-D weights of all tiles sum to exactly one at every position (a partition of
 * unity) and 2-D weights are products of 1-D ones, so no normalisation pass is needed.
 */

/** One tile along one axis. All ranges are half-open, in image coordinates. */
export interface AxisSpan {
  /** The pixels this tile owns before blending. */
  coreStart: number;
  coreEnd: number;
  /** The pixels this tile writes (core widened by the feather ramps, clamped to the image). */
  writeStart: number;
  writeEnd: number;
  /** Start of the tensor this tile feeds to the model (may be < 0: reflect padding). */
  readStart: number;
  /** Length of that tensor: a multiple of the model's multiple. */
  readLength: number;
}

export interface TilePlanOptions {
  /** Largest tile side fed to the model (before rounding to `multiple`). */
  tileSize: number;
  /** Context on each side of a tile's core; should be at least the model's receptive field. */
  overlap: number;
  /** The model's input multiple (8 for SGENet). */
  multiple: number;
  /**
   * Cells of a kernel grid across (`columns`) and down (`rows`): the tile count along each axis
   * becomes a multiple of them, so every core lies inside one cell (its boundaries fall on cores'
   * boundaries, where the feathers blend). Default 1.
   */
  columns?: number;
  rows?: number;
}

export interface Tile {
  index: number;
  row: number;
  col: number;
  x: AxisSpan;
  y: AxisSpan;
}

export interface TilePlan {
  width: number;
  height: number;
  feather: number;
  cols: AxisSpan[];
  rows: AxisSpan[];
  tiles: Tile[];
}

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** Half-width of the blending ramp: a quarter of the overlap, so the ramp stays well inside it. */
export function featherFor(overlap: number): number {
  return Math.floor(overlap / 4);
}

/** Splits one axis. Exported for tests and for callers that plan their own loops. */
export function planAxis(length: number, opts: TilePlanOptions, divisions = 1, feather = featherFor(opts.overlap)): AxisSpan[] {
  const { tileSize, overlap, multiple } = opts;
  // A tile of `tileSize` holds its core, `overlap` context on each side and up to `multiple` - 1
  // px of grid alignment at each end.
  const maxCore = Math.max(multiple, tileSize - 2 * overlap - 2 * multiple);
  const single = length <= tileSize;
  // A multiple of the divisions: core i·L/n of tile i = j·m falls on division j's start, j·L/d.
  const n = Math.ceil((single ? 1 : Math.ceil(length / maxCore)) / divisions) * divisions;
  const spans: AxisSpan[] = [];
  for (let i = 0; i < n; i++) {
    const coreStart = Math.round((i * length) / n);
    const coreEnd = Math.round(((i + 1) * length) / n);
    const writeStart = i === 0 ? 0 : coreStart - feather;
    const writeEnd = i === n - 1 ? length : coreEnd + feather;
    // Starts stay on the model's grid: SGENet downsamples by 8, so a crop that starts off the
    // grid sees a different sampling phase and would not reproduce the untiled result.
    const readStart = Math.floor(Math.max(0, coreStart - overlap) / multiple) * multiple;
    const readEnd = i === n - 1 ? length : Math.min(length, coreEnd + overlap);
    // Past the image end, positions are reflected exactly as an untiled run pads them.
    const readLength = roundUp(readEnd - readStart, multiple);
    spans.push({ coreStart, coreEnd, writeStart, writeEnd, readStart, readLength });
  }
  return spans;
}

/** Blend weight of `span` at image position `p` (0 outside its write range). */
export function axisWeight(span: AxisSpan, p: number, feather: number, length: number): number {
  if (p < span.writeStart || p >= span.writeEnd) return 0;
  if (feather === 0) return 1;
  let w = 1;
  if (span.coreStart > 0) {
    // Ramp up across [coreStart - feather, coreStart + feather), sampled at pixel centres.
    w = Math.min(w, (p + 0.5 - (span.coreStart - feather)) / (2 * feather));
  }
  if (span.coreEnd < length) {
    w = Math.min(w, (span.coreEnd + feather - (p + 0.5)) / (2 * feather));
  }
  return Math.max(0, Math.min(1, w));
}

/** Plans the tiles of a `width` x `height` image. */
export function planTiles(width: number, height: number, opts: TilePlanOptions): TilePlan {
  let feather = featherFor(opts.overlap);
  let cols = planAxis(width, opts, opts.columns ?? 1, feather);
  let rows = planAxis(height, opts, opts.rows ?? 1, feather);
  // A kernel grid can cut cores shorter than two feathers: a tile's two ramps would then overlap
  // and the weights no longer sum to one. The feather shrinks to half the shortest core instead.
  // Only an axis cut into several tiles has ramps.
  const shortest = Math.min(...[cols, rows].filter((a) => a.length > 1).flat().map((s) => s.coreEnd - s.coreStart));
  if (2 * feather > shortest) {
    feather = Math.floor(shortest / 2);
    cols = planAxis(width, opts, opts.columns ?? 1, feather);
    rows = planAxis(height, opts, opts.rows ?? 1, feather);
  }
  const tiles: Tile[] = [];
  rows.forEach((y, row) =>
    cols.forEach((x, col) => tiles.push({ index: tiles.length, row, col, x, y })),
  );
  return { width, height, feather, cols, rows, tiles };
}
