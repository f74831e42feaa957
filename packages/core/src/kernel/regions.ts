/**
 * Per-region kernels for shake that is not uniform (a small camera rotation blurs each part of the
 * photo with its own kernel). After the photo's kernel is found, the photo is cut into a grid of
 * cells; in each cell's own window, widened by a margin into its neighbours, an independent
 * pyramid runs at the photo's chosen size (refined from the photo's kernel instead, a cell stays in
 * its basin: two shakes 60° apart kept an agreement of 0.9), its fine levels on windows of at
 * most {@link REGION_LEVEL_WINDOW}. The four corner cells run first: where each finds the photo's
 * kernel, the shake is taken as uniform and the other cells are not estimated. A cell keeps its
 * own kernel only where four pieces of evidence say the photo's kernel is wrong there:
 *
 *   1. the two disagree: `kernelAgreement` below {@link REGION_MAX_AGREEMENT};
 *   2. a neighbouring cell's pyramid found the same path: agreement at least
 *      {@link REGION_MIN_CORROBORATION} (shake varies smoothly over a photo; a failed estimate
 *      rarely comes out the same twice);
 *   3. the cell's pixels prefer it on both measures of the blind score: the sparsity of its
 *      deconvolution and the selection score (sparsity x re-blur residual) are each at least
 *      {@link REGION_MIN_GAIN} below the photo's kernel's on the cell's window. On real photos a
 *      cell's own estimate often fits its window's pixels better (lower residual) while
 *      deconvolving them less sparsely: it fits the window it was estimated on, not the shake;
 *   4. it is blur at all: it removes at least `minConfidence` of the identity's sparsity there and
 *      is not within one tap of a dot.
 *
 * Otherwise the cell keeps the photo's kernel (a flat sky, a cell of clipped lights: no evidence,
 * no change). Deconvolution then runs tile by tile with each cell's kernel, the tile cores cut on
 * the cell boundaries and blended across them by the tiler's feathers (deconvolve/passes.ts).
 */
import type { BlurKernel } from '../types.js';
import type { Window } from './window.js';

/**
 * A cell's own estimate disagrees with the photo's kernel below this agreement. Under uniform
 * shake the cells' own pyramids agree with it at 0.97 or more on the project's planted scene; two
 * mirrored camera paths agree at about 0.55.
 */
export const REGION_MAX_AGREEMENT = 0.8;

/**
 * Share of the photo's kernel's sparsity and of its selection score a cell's own kernel must each
 * remove on the cell's window. On the planted 2-region shake it removed 21% and 8-26%.
 */
export const REGION_MIN_GAIN = 0.05;

/**
 * Least agreement of a cell's own estimate with a neighbouring cell's own estimate: 0.95 on the
 * planted 2-region shake; 0.18-0.67 among the cells of real recorded shake (Köhler et al.) that
 * the other tests alone let through and whose restoration rang.
 */
export const REGION_MIN_CORROBORATION = 0.8;

/**
 * The largest window side (px of the estimation plane) a cell's fine pyramid levels, and the
 * refinement of a cell's kept kernel, work on: half the photo's default level window, a quarter of
 * its area (a cell is a quarter or a ninth of the photo). On the 12 MP probe (training log, session
 * 23) the cells' pyramids took 2.5x less time than at 512 px; the harder set's rotation group kept
 * its grids and gained (+3.59 → +3.70 dB aligned, #0-#7).
 */
export const REGION_LEVEL_WINDOW = 256;

/** Each side of a cell's estimation window reaches this share of the cell into its neighbours. */
export const REGION_MARGIN = 0.1;

/** The smallest cell side (px of the estimation plane) a grid is cut into, and in kernel sides. */
export const REGION_MIN_CELL = 256;
export const REGION_MIN_CELL_KERNELS = 4;

/** Cells across and down of the largest grid `regions: 'auto'` cuts. */
export const REGION_MAX_GRID = 3;

/** The grid a photo's `regions` option asks for (see `EstimateKernelOptions.regions`). */
export type RegionsChoice = 'auto' | 'off' | 2 | 3 | 4;

/**
 * Per-region kernels of a photo whose shake is not uniform: what `estimateKernel` returns as
 * `grid`, what `deconvolve` and `deblur` take in its place of a single kernel.
 *
 * Cell (`column`, `row`) spans x from round(column x width / columns) to round((column + 1) x
 * width / columns) of the photo, and y alike; its kernel is `kernels[row x columns + column]`.
 */
export interface KernelGrid {
  columns: number;
  rows: number;
  /** The photo size the grid divides. */
  width: number;
  height: number;
  /** One kernel per cell, row-major, all the same odd square side, each sum 1. */
  kernels: BlurKernel[];
  /** Per cell: true where the cell's own estimate replaced the photo's kernel. */
  own: boolean[];
  /**
   * Per cell: agreement (`kernelAgreement`, 0 to 1) of the cell's own estimate with the photo's
   * kernel, at the working scale; 1 for a cell that kept the photo's kernel without a test.
   */
  agreement: number[];
}

/**
 * The grid side `choice` cuts a `width` x `height` estimation plane into, for kernels of
 * `kernelSide` px on it: 0 for none. `'auto'` takes the largest of 3 and 2 whose cells are at
 * least {@link REGION_MIN_CELL} px and {@link REGION_MIN_CELL_KERNELS} kernel sides on their
 * short side (a smaller cell holds too few edges to estimate from); a number asks for that grid
 * and gets none when its cells would be smaller than a kernel's 2 sides.
 */
export function regionGridSide(choice: RegionsChoice, width: number, height: number, kernelSide: number): number {
  if (choice === 'off') return 0;
  const short = Math.min(width, height);
  if (choice !== 'auto') return short / choice >= 2 * kernelSide ? choice : 0;
  const least = Math.max(REGION_MIN_CELL, REGION_MIN_CELL_KERNELS * kernelSide);
  for (let n = REGION_MAX_GRID; n >= 2; n--) if (short / n >= least) return n;
  return 0;
}

/** Cell (`column`, `row`) of an n x m grid over a `width` x `height` plane. */
export function gridCell(column: number, row: number, columns: number, rows: number, width: number, height: number): Window {
  const x0 = Math.round((column * width) / columns), x1 = Math.round(((column + 1) * width) / columns);
  const y0 = Math.round((row * height) / rows), y1 = Math.round(((row + 1) * height) / rows);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** A cell widened by {@link REGION_MARGIN} of its size on every side, inside the plane. */
export function widenedCell(cell: Window, width: number, height: number): Window {
  const mx = Math.round(cell.width * REGION_MARGIN), my = Math.round(cell.height * REGION_MARGIN);
  const x = Math.max(0, cell.x - mx), y = Math.max(0, cell.y - my);
  return {
    x, y,
    width: Math.min(width, cell.x + cell.width + mx) - x,
    height: Math.min(height, cell.y + cell.height + my) - y,
  };
}

/** The cell of a grid a pixel (`x`, `y`) of the photo lies in, as an index into `kernels`. */
export function cellIndexAt(grid: Pick<KernelGrid, 'columns' | 'rows' | 'width' | 'height'>, x: number, y: number): number {
  const column = Math.min(grid.columns - 1, Math.max(0, Math.floor(((x + 0.5) * grid.columns) / grid.width)));
  const row = Math.min(grid.rows - 1, Math.max(0, Math.floor(((y + 0.5) * grid.rows) / grid.height)));
  return row * grid.columns + column;
}

/** The side of the odd square {@link padToCommonSide} puts the kernels in: their largest side, made odd. */
export function commonSide(kernels: readonly BlurKernel[]): number {
  return Math.max(...kernels.map((k) => Math.max(k.width, k.height))) | 1;
}

/**
 * Kernels in one odd square of the largest side among them (zero taps around the smaller), each
 * placed so that its centre tap ((w - 1) / 2, (h - 1) / 2, rounded down: where `kernelSpectrum`
 * and the deconvolution put a kernel's origin) lands on the square's centre.
 */
export function padToCommonSide(kernels: readonly BlurKernel[]): BlurKernel[] {
  const side = commonSide(kernels);
  const c = (side - 1) >> 1;
  return kernels.map((k) => {
    if (k.width === side && k.height === side) return k;
    const data = new Float32Array(side * side);
    const ox = c - ((k.width - 1) >> 1), oy = c - ((k.height - 1) >> 1);
    for (let y = 0; y < k.height; y++) for (let x = 0; x < k.width; x++) data[(y + oy) * side + x + ox] = k.data[y * k.width + x]!;
    return { width: side, height: side, data };
  });
}

/** True for a kernel field with more than one kernel. */
export function isKernelGrid(k: unknown): k is KernelGrid {
  return typeof k === 'object' && k !== null && 'kernels' in k;
}
