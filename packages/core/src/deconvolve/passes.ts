/**
 * The passes of a tiled deconvolution, one per grid of planes: grey photos and `color: 'rgb'` take
 * one pass over the photo's planes; `'ycbcr'` takes two, the chroma planes at half resolution
 * (kernel halved) into a store, then luma at full resolution, turned into RGB with that chroma as
 * its rows are written.
 */
import { readTensor, writeRows } from '../pixels/image.js';
import type { PixelLayout } from '../pixels/image.js';
import { halfSize, readHalfChroma, readLuma, rgbFromLumaChroma } from '../pixels/ycbcr.js';
import type { ChromaPlanes } from '../pixels/ycbcr.js';
import { planTiles } from '../tiling/plan.js';
import type { AxisSpan, Tile, TilePlan } from '../tiling/plan.js';
import type { TileRunner } from '../tiling/run-tiles.js';
import type { BlurKernel, RawImage } from '../types.js';
import { cellIndexAt, isKernelGrid } from '../kernel/regions.js';
import type { KernelGrid } from '../kernel/regions.js';
import { readObservedMask } from '../pixels/clipped.js';
import { halveKernel } from './half-kernel.js';
import type { TileSettings } from './tile.js';
import type { ResolvedDeconvolveOptions } from './options.js';

/** Rows of RGB built at a time from blended luma and the chroma store. */
const ROWS_PER_WRITE = 32;

/**
 * Float32 buffers by length, handed out again once given back. Every tile of a pass has the same
 * read size (equaliseReads), so the tensors of the tiles in flight are recycled instead of
 * allocated per tile: tens of megabytes apiece at 2048 px, whose churn between threads the
 * allocator would keep as resident memory.
 */
export class BufferShelf {
  private readonly free: Float32Array[] = [];
  take(length: number): Float32Array {
    const i = this.free.findIndex((b) => b.length === length);
    return i >= 0 ? this.free.splice(i, 1)[0]! : new Float32Array(length);
  }
  /** Keeps `buffer` (its whole backing buffer: a tile with the prior's planes hands back a view of half). */
  give(buffer: Float32Array): void {
    const whole = buffer.byteOffset === 0 && buffer.buffer.byteLength > buffer.byteLength
      ? new Float32Array(buffer.buffer as ArrayBuffer) : buffer;
    if (this.free.length < 8) this.free.push(whole);
  }
}

/** One tiled deconvolution over a grid of planes: what its tiles read, deconvolve and give back. */
export interface Pass {
  plan: TilePlan;
  /** The settings of every tile; with a kernel grid, `settingsOf` gives each tile its cell's kernel. */
  settings: TileSettings;
  settingsOf(tile: Tile): TileSettings;
  /** Planes each tile's result has (after `finish`), blended and handed to `write`. */
  outPlanes: number;
  /** The planes to deconvolve of a read window ([settings.planes][h][w]), in a buffer of `shelf`. */
  read(x0: number, y0: number, w: number, h: number, shelf: BufferShelf): Float32Array;
  /** The tile's result from its deconvolved planes, a new buffer from `shelf`; absent: the planes themselves. */
  finish?(deconvolved: Float32Array, tile: Tile, shelf: BufferShelf): Float32Array;
  write: TileRunner['write'];
}

/**
 * Most context (photo px) a deconvolution tile reads by default: 966, six sides of a 161 px
 * kernel. Why a cap: a tile is at least three overlaps wide (planTiles), so six sides of a 251-379
 * px kernel made one tile of a whole 12 MP photo, whose FFT field took a `deblur()` to 1189-1253
 * MiB; capped, a tile reads at most 3 x 966 + 2 = 2900 px plus its bridge at the default tile
 * sizes, whatever the photo. Why 966: kernels up to 161 px (the largest a 2400x1600 photo is
 * searched for) keep their six sides and their tiling, which a 606 px cap moved by up to 0.8 dB
 * either way on 113-127 px kernels; longer kernels, searched for only on larger photos, read at
 * least 2.4 of their sides (401 px, the estimator's largest): at 12 MP, −0.15 to +0.19 dB against
 * one field (training log, session 28).
 */
export const MAX_DECONVOLUTION_OVERLAP = 966;

/** The longest kernel side whose six sides a tile reads in full: 161 px. */
const FULL_CONTEXT_SIDE = MAX_DECONVOLUTION_OVERLAP / 6;

/**
 * The default overlap (px of the grid) for a kernel of side `kernelSide` on a grid of `scale`
 * (0.5: the half-resolution chroma, whose kernel is halved): six sides, at least 48, with the
 * side capped at {@link FULL_CONTEXT_SIDE} x `scale` rounded up, so that the halved kernel of
 * any kernel up to 161 px keeps its six sides too (81 px: 486 px of its grid).
 */
export function deconvolutionOverlap(kernelSide: number, scale = 1): number {
  return Math.max(48, 6 * Math.min(kernelSide, Math.ceil(FULL_CONTEXT_SIDE * scale)));
}

/**
 * Tiles a `width` x `height` grid for `field` (one kernel, or a grid's, all one side). `scale`
 * converts the user's photo-px `bridge` and `overlap` to the grid (0.5 for the half-resolution
 * chroma); the defaults follow the kernel. A kernel grid's cells fall on tile boundaries.
 */
function planFor(width: number, height: number, field: KernelField, opts: ResolvedDeconvolveOptions, scale: number) {
  const first = firstKernel(field);
  const kernelSide = Math.max(first.width, first.height);
  const bridge = opts.bridge === undefined ? kernelSide + 8 : Math.max(2, Math.ceil(opts.bridge * scale));
  const overlap = opts.overlap === undefined ? deconvolutionOverlap(kernelSide, scale) : Math.ceil(opts.overlap * scale);
  const plan = planTiles(width, height, {
    tileSize: Math.max(opts.tileSize - bridge, 3 * overlap + 2), overlap, multiple: 1,
    ...(isKernelGrid(field) ? { columns: field.columns, rows: field.rows } : {}),
  });
  equaliseReads(plan.cols, width);
  equaliseReads(plan.rows, height);
  return { plan, bridge };
}

/** A photo's blur: one kernel, or a grid of per-region kernels (all of one side: `padToCommonSide`). */
export type KernelField = BlurKernel | KernelGrid;

/**
 * Each tile's settings: the base with, for a kernel grid, the kernel of the cell its core lies in
 * (the plan puts every core inside one cell), keyed by the cell for the tile cache.
 */
function tileSettings(base: TileSettings, field: KernelField, plan: TilePlan): (tile: Tile) => TileSettings {
  if (!isKernelGrid(field)) return () => base;
  const perCell = field.kernels.map((kernel, kernelKey): TileSettings => ({ ...base, kernel, kernelKey }));
  return (tile) => perCell[cellIndexAt(
    { columns: field.columns, rows: field.rows, width: plan.width, height: plan.height },
    (tile.x.coreStart + tile.x.coreEnd - 1) / 2, (tile.y.coreStart + tile.y.coreEnd - 1) / 2,
  )]!;
}

/** The field at half resolution: every kernel halved (halveKernel). */
function halveField(field: KernelField): KernelField {
  return isKernelGrid(field) ? { ...field, kernels: field.kernels.map(halveKernel) } : halveKernel(field);
}

/** The prior's last estimate z of a later plug-and-play HQS data step: an image of the photo's size. */
export interface PriorEstimate {
  image: RawImage;
  layout: PixelLayout;
}

/**
 * The passes that deconvolve a photo: grey, one plane; `'rgb'`, each of R, G, B; `'ycbcr'`, the
 * two chroma planes at half resolution (with the kernel halved) into a half-resolution store,
 * then luma at full resolution, recombined with that chroma into RGB tile by tile. With `prior`
 * (a later HQS data step, `'rgb'` or grey only) each tile reads the prior's planes after the photo's.
 */
export function passesFor(
  image: RawImage, layout: PixelLayout, kernel: KernelField, opts: ResolvedDeconvolveOptions,
  common: Omit<TileSettings, 'kernel' | 'bridge' | 'planes'>, target: RawImage, targetLayout: PixelLayout,
  prior?: PriorEstimate,
): Pass[] {
  const { width, height } = layout;
  const writeOut: TileRunner['write'] = (acc, accRows, fromRow, rowCount, accFirstRow) =>
    writeRows(acc, accRows, fromRow, rowCount, accFirstRow, image, target, targetLayout);
  const full = planFor(width, height, kernel, opts, 1);
  // Clipped samples leave the data term of the prior-based solvers (pixels/clipped.ts); the HQS
  // data step and Wiener keep them.
  const masked = opts.clipLevel !== false && (opts.method === 'hyper-laplacian' || opts.method === 'tv') && !prior;
  const clipLevel = opts.clipLevel === false ? 1 : opts.clipLevel;
  const readMask = (x0: number, y0: number, w: number, h: number, scale: 1 | 2, into: Float32Array): void => {
    readObservedMask(image, layout, x0, y0, w, h, clipLevel, scale, into);
  };
  const maskPlane = masked ? 1 : 0;
  if (prior && ((layout.colorChannels === 3 && opts.color !== 'rgb') || opts.method !== 'hqs')) {
    throw new RangeError("a later HQS data step is method 'hqs', per RGB plane (color: 'rgb') or on a grey photo");
  }
  if (layout.colorChannels !== 3 || opts.color === 'rgb') {
    const planes = layout.colorChannels === 3 ? 3 : 1;
    const readPlanes = (from: RawImage, fromLayout: PixelLayout, x0: number, y0: number, w: number, h: number, into: Float32Array) =>
      planes === 3 ? readTensor(from, fromLayout, x0, y0, w, h, into) : readLuma(from, fromLayout, x0, y0, w, h, into);
    const settings: TileSettings = {
      ...common, kernel: firstKernel(kernel), bridge: full.bridge, planes, ...(prior ? { withPrior: true } : {}), ...(masked ? { withMask: true } : {}),
    };
    return [{
      plan: full.plan,
      settings,
      settingsOf: tileSettings(settings, kernel, full.plan),
      outPlanes: 3,
      // A grey photo is read as its one plane, deconvolved, and replicated into the three the
      // writer folds back (as readTensor would have given them). The prior's planes, or the clip
      // mask, follow.
      read: (x0, y0, w, h, shelf) => {
        const n = planes * w * h;
        const tensor = shelf.take(prior ? 2 * n : masked ? n + w * h : n);
        readPlanes(image, layout, x0, y0, w, h, tensor.subarray(0, n));
        if (prior) readPlanes(prior.image, prior.layout, x0, y0, w, h, tensor.subarray(n, 2 * n));
        if (masked) readMask(x0, y0, w, h, 1, tensor.subarray(n, n + w * h));
        return tensor;
      },
      finish: (out, tile, shelf) => {
        if (planes === 3) return out;
        const n = tile.x.readLength * tile.y.readLength;
        const three = shelf.take(3 * n);
        three.set(out, 0); three.set(out, n); three.set(out, 2 * n);
        return three;
      },
      write: writeOut,
    }];
  }
  const chroma: ChromaPlanes = { width: halfSize(width), height: halfSize(height), data: new Float32Array(2 * halfSize(width) * halfSize(height)) };
  const half = halveField(kernel);
  const chromaPlan = planFor(chroma.width, chroma.height, half, opts, 0.5);
  const chromaPlane = chroma.width * chroma.height;
  const withMask = masked ? { withMask: true } : {};
  const chromaSettings: TileSettings = { ...common, kernel: firstKernel(half), bridge: chromaPlan.bridge, planes: 2, ...withMask };
  const lumaSettings: TileSettings = { ...common, kernel: firstKernel(kernel), bridge: full.bridge, planes: 1, ...withMask };
  return [{
    plan: chromaPlan.plan,
    settings: chromaSettings,
    settingsOf: tileSettings(chromaSettings, half, chromaPlan.plan),
    outPlanes: 2,
    read: (x0, y0, w, h, shelf) => {
      const tensor = shelf.take((2 + maskPlane) * w * h);
      readHalfChroma(image, layout, x0, y0, w, h, tensor.subarray(0, 2 * w * h));
      if (masked) {
        const mask = tensor.subarray(2 * w * h);
        readMask(x0, y0, w, h, 2, mask);
        // Clipping lowers R, G, B and luma, so a clipped sample bounds them from below; it moves
        // Cb and Cr either way (a clipped red raises the true luma: true Cb lower, true Cr
        // higher), so in chroma a clipped sample is only unknown.
        for (let i = 0; i < mask.length; i++) if (mask[i]! < 0) mask[i] = 0;
      }
      return tensor;
    },
    write: (acc, accRows, fromRow, rowCount, accFirstRow) => {
      for (let c = 0; c < 2; c++) {
        for (let y = fromRow; y < fromRow + rowCount; y++) {
          const from = (c * accRows + (y - accFirstRow)) * chroma.width;
          chroma.data.set(acc.subarray(from, from + chroma.width), c * chromaPlane + y * chroma.width);
        }
      }
    },
  }, {
    // Luma is blended alone and turned into RGB as its rows are written, a few rows at a time.
    plan: full.plan,
    settings: lumaSettings,
    settingsOf: tileSettings(lumaSettings, kernel, full.plan),
    outPlanes: 1,
    read: (x0, y0, w, h, shelf) => {
      const tensor = shelf.take((1 + maskPlane) * w * h);
      readLuma(image, layout, x0, y0, w, h, tensor.subarray(0, w * h));
      if (masked) readMask(x0, y0, w, h, 1, tensor.subarray(w * h));
      return tensor;
    },
    write: (acc, accRows, fromRow, rowCount, accFirstRow) => {
      const strip = new Float32Array(3 * ROWS_PER_WRITE * width);
      for (let r = 0; r < rowCount; r += ROWS_PER_WRITE) {
        const rows = Math.min(ROWS_PER_WRITE, rowCount - r);
        const first = fromRow + r - accFirstRow;
        const luma = acc.subarray(first * width, (first + rows) * width);
        const rgbRows = rgbFromLumaChroma(luma, chroma, 0, fromRow + r, width, rows, strip.subarray(0, 3 * rows * width));
        writeRows(rgbRows, rows, fromRow + r, rows, fromRow + r, image, target, targetLayout);
      }
    },
  }];
}

function firstKernel(field: KernelField): BlurKernel {
  return isKernelGrid(field) ? field.kernels[0]! : field;
}

/**
 * Widens the shorter tiles of an axis (the last one, usually) inward to the length of the longest,
 * reading more of the photo: every tile then has the same FFT field, so each thread caches one OTF
 * per call instead of one per tile size (tens of megabytes apiece at 12 MP), and no tile has less
 * context than before.
 */
function equaliseReads(spans: AxisSpan[], length: number): void {
  const longest = Math.min(length, Math.max(...spans.map((s) => s.readLength)));
  for (const s of spans) {
    if (s.readLength >= longest) continue;
    const start = Math.max(0, Math.min(s.readStart, length - longest));
    s.readStart = start;
    s.readLength = longest;
  }
}
