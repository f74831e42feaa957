/**
 * Non-blind deconvolution of a whole photo with a known kernel, tiled: each tile reads its core
 * plus `overlap` px of context (reflected at the photo's border), is extended to a periodic FFT
 * field by a smooth bridge, deconvolved per plane, and blended with the tiler's linear feathers.
 * A colour photo is deconvolved as luma at full resolution and chroma at half resolution
 * (pixels/ycbcr.ts), or per RGB plane with `color: 'rgb'`. Memory is bounded by the tile, and because a deconvolved pixel depends on its
 * neighbourhood only within a few kernel widths, the tiled result equals the untiled one in the
 * interior (tested within 1/255).
 */
import { throwIfAborted } from '../errors.js';
import { threadsFor, WorkerPool } from '../parallel/pool.js';
import { allocateLike, describeImage, readTensor, writeRows } from '../pixels/image.js';
import type { PixelLayout } from '../pixels/image.js';
import { halfSize, readHalfChroma, readLuma, rgbFromLumaChroma } from '../pixels/ycbcr.js';
import type { ChromaPlanes } from '../pixels/ycbcr.js';
import { planTiles } from '../tiling/plan.js';
import type { AxisSpan, Tile, TilePlan } from '../tiling/plan.js';
import { runTiles } from '../tiling/run-tiles.js';
import type { TileRunner } from '../tiling/run-tiles.js';
import type { BlurKernel } from '../synthetic/motion-blur.js';
import type { ProgressCallback, RawImage } from '../types.js';
import { halveKernel } from './half-kernel.js';
import { validateKernel } from '../kernel/kernel-file.js';
import { deconvolveTile } from './tile.js';
import type { TileCache, TileSettings } from './tile.js';
import { estimateNoise } from './noise.js';
import { resolveDeconvolveOptions } from './options.js';
import type { DeconvolveOptions, ResolvedDeconvolveOptions } from './options.js';

const MAX_PIXELS = 0x3fff * 0x3fff;

/** Noise σ of a photo, read from a centred window of at most 1024² px of every colour plane. */
export function photoNoise(image: RawImage, layout: PixelLayout): number {
  const w = Math.min(layout.width, 1024);
  const h = Math.min(layout.height, 1024);
  const tensor = readTensor(image, layout, (layout.width - w) >> 1, (layout.height - h) >> 1, w, h);
  const planes = layout.colorChannels === 3
    ? [0, 1, 2].map((c) => tensor.subarray(c * w * h, (c + 1) * w * h))
    : [tensor.subarray(0, w * h)];
  return estimateNoise(planes, w, h);
}

/** Rows of RGB built at a time from blended luma and the chroma store. */
const ROWS_PER_WRITE = 32;

/**
 * Float32 buffers by length, handed out again once given back. Every tile of a pass has the same
 * read size (equaliseReads), so the tensors of the tiles in flight are recycled instead of
 * allocated per tile: tens of megabytes apiece at 2048 px, whose churn between threads the
 * allocator would keep as resident memory.
 */
class BufferShelf {
  private readonly free: Float32Array[] = [];
  take(length: number): Float32Array {
    const i = this.free.findIndex((b) => b.length === length);
    return i >= 0 ? this.free.splice(i, 1)[0]! : new Float32Array(length);
  }
  give(buffer: Float32Array): void {
    if (this.free.length < 8) this.free.push(buffer);
  }
}

/** One tiled deconvolution over a grid of planes: what its tiles read, deconvolve and give back. */
interface Pass {
  plan: TilePlan;
  settings: TileSettings;
  /** Planes `finish` returns per tile, blended and handed to `write`. */
  outPlanes: number;
  /** The planes to deconvolve of a read window ([settings.planes][h][w]), in a buffer of `shelf`. */
  read(x0: number, y0: number, w: number, h: number, shelf: BufferShelf): Float32Array;
  /** The tile's result from its deconvolved planes (may return them); a new buffer comes from `shelf`. */
  finish(deconvolved: Float32Array, tile: Tile, shelf: BufferShelf): Float32Array;
  write: TileRunner['write'];
}

/**
 * Tiles a `width` x `height` grid for `kernel`. `scale` converts the user's photo-px `bridge` and
 * `overlap` to the grid (0.5 for the half-resolution chroma); the defaults follow the kernel.
 */
function planFor(width: number, height: number, kernel: BlurKernel, opts: ResolvedDeconvolveOptions, scale: number) {
  const kernelSide = Math.max(kernel.width, kernel.height);
  const bridge = opts.bridge === undefined ? kernelSide + 8 : Math.max(2, Math.ceil(opts.bridge * scale));
  const overlap = opts.overlap === undefined ? Math.max(48, 6 * kernelSide) : Math.ceil(opts.overlap * scale);
  const plan = planTiles(width, height, { tileSize: Math.max(opts.tileSize - bridge, 3 * overlap + 2), overlap, multiple: 1 });
  equaliseReads(plan.cols, width);
  equaliseReads(plan.rows, height);
  return { plan, bridge };
}

/**
 * The passes that deconvolve a photo: grey, one plane; `'rgb'`, each of R, G, B; `'ycbcr'`, the
 * two chroma planes at half resolution (with the kernel halved) into a half-resolution store,
 * then luma at full resolution, recombined with that chroma into RGB tile by tile.
 */
function passesFor(
  image: RawImage, layout: PixelLayout, kernel: BlurKernel, opts: ResolvedDeconvolveOptions,
  common: Omit<TileSettings, 'kernel' | 'bridge' | 'planes'>, target: RawImage, targetLayout: PixelLayout,
): Pass[] {
  const { width, height } = layout;
  const writeOut: TileRunner['write'] = (acc, accRows, fromRow, rowCount, accFirstRow) =>
    writeRows(acc, accRows, fromRow, rowCount, accFirstRow, image, target, targetLayout);
  const full = planFor(width, height, kernel, opts, 1);
  if (layout.colorChannels !== 3 || opts.color === 'rgb') {
    const planes = layout.colorChannels === 3 ? 3 : 1;
    return [{
      plan: full.plan,
      settings: { ...common, kernel, bridge: full.bridge, planes },
      outPlanes: 3,
      // readTensor replicates a grey photo into three planes: deconvolve one, copy it back.
      read: (x0, y0, w, h, shelf) => {
        const rgb = readTensor(image, layout, x0, y0, w, h, shelf.take(3 * w * h));
        if (planes === 3) return rgb;
        const grey = shelf.take(w * h);
        grey.set(rgb.subarray(0, w * h));
        shelf.give(rgb);
        return grey;
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
  const half = halveKernel(kernel);
  const chromaPlan = planFor(chroma.width, chroma.height, half, opts, 0.5);
  const chromaPlane = chroma.width * chroma.height;
  return [{
    plan: chromaPlan.plan,
    settings: { ...common, kernel: half, bridge: chromaPlan.bridge, planes: 2 },
    outPlanes: 2,
    read: (x0, y0, w, h, shelf) => readHalfChroma(image, layout, x0, y0, w, h, shelf.take(2 * w * h)),
    finish: (out) => out,
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
    settings: { ...common, kernel, bridge: full.bridge, planes: 1 },
    outPlanes: 1,
    read: (x0, y0, w, h, shelf) => readLuma(image, layout, x0, y0, w, h, shelf.take(w * h)),
    finish: (luma) => luma,
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

/**
 * Deconvolves `image` with `kernel` into `target` (allocated like `layout`, any bit depth; alpha
 * is copied from `image`). Returns the noise σ the regularisation was set from: every plane,
 * luma and chroma alike, is regularised as one RGB plane with that σ would be.
 */
export async function deconvolveInto(
  image: RawImage,
  layout: PixelLayout,
  kernel: BlurKernel,
  opts: ResolvedDeconvolveOptions,
  target: RawImage,
  targetLayout: PixelLayout = layout,
): Promise<number> {
  const sigma = opts.noise === 'auto' ? photoNoise(image, layout) : opts.noise;
  const common = { method: opts.method, alpha: opts.alpha, lambda: opts.weight / (sigma * sigma), nsr: opts.nsr * sigma * sigma };
  const passes = passesFor(image, layout, kernel, opts, common, target, targetLayout);
  const total = passes.reduce((n, p) => n + p.plan.tiles.length, 0);
  let before = 0;
  for (const pass of passes) {
    const offset = before;
    await runPass(pass, opts, opts.onProgress && ((p) => opts.onProgress!({ done: offset + p.done, total })));
    before += pass.plan.tiles.length;
  }
  return sigma;
}

/**
 * Runs one pass: tiles in flight on up to `opts.workers` threads; with fewer tiles than threads,
 * the planes of a tile run side by side (the chroma of a 12 MP photo is one tile of two planes).
 */
async function runPass(pass: Pass, opts: ResolvedDeconvolveOptions, onProgress: ProgressCallback | undefined): Promise<void> {
  const { plan, settings } = pass;
  const threads = threadsFor(plan.tiles.length * settings.planes, opts.workers);
  // A pool per pass: a worker caches the OTF of one kernel (tile.ts).
  const pool = threads > 1 ? new WorkerPool(threads, opts.signal) : undefined;
  // With fewer tiles than threads, each plane of a tile is a job of its own.
  const splitPlanes = plan.tiles.length < threads && settings.planes > 1;
  const cache: TileCache = new Map();
  const shelf = new BufferShelf();
  const yieldAndCheck = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(opts.signal);
  };
  const deconvolvePlanes = async (tensor: Float32Array, tw: number, th: number): Promise<Float32Array> => {
    if (!pool) return deconvolveTile(tensor, tw, th, settings, cache, yieldAndCheck);
    if (!splitPlanes) {
      return pool.run<Float32Array>({ kind: 'deconvolve', tensor, width: tw, height: th, settings }, [tensor.buffer as ArrayBuffer]);
    }
    const n = tw * th;
    const one: TileSettings = { ...settings, planes: 1 };
    const planes = await Promise.all(Array.from({ length: settings.planes }, (_, c) => {
      const plane = tensor.slice(c * n, (c + 1) * n);
      return pool.run<Float32Array>({ kind: 'deconvolve', tensor: plane, width: tw, height: th, settings: one }, [plane.buffer as ArrayBuffer]);
    }));
    planes.forEach((p, c) => tensor.set(p, c * n));
    return tensor;
  };
  try {
    await runTiles(plan, {
      concurrency: Math.min(threads, plan.tiles.length),
      planes: pass.outPlanes,
      signal: opts.signal,
      onProgress,
      read: (tile) => pass.read(tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength, shelf),
      infer: async (tensor, tile) => {
        const deconvolved = await deconvolvePlanes(tensor, tile.x.readLength, tile.y.readLength);
        const out = pass.finish(deconvolved, tile, shelf);
        if (out !== deconvolved) shelf.give(deconvolved);
        return out;
      },
      release: (out) => shelf.give(out),
      write: pass.write,
    });
  } finally {
    await pool?.close();
  }
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

/**
 * Deconvolves a photo with a known blur kernel (non-blind): a measured PSF, or the output of
 * `estimateKernel`. Resolves with a new image of the same size, channels and bit depth.
 *
 * @example
 * ```ts
 * import { deconvolve, estimateKernel } from '@sgenet/core';
 * const { kernel } = await estimateKernel(photo);
 * const sharp = await deconvolve(photo, kernel, { method: 'hyper-laplacian' });
 * ```
 */
export async function deconvolve(image: RawImage, kernel: BlurKernel, options?: DeconvolveOptions): Promise<RawImage> {
  const layout = describeImage(image, MAX_PIXELS);
  // The checked copy is normalised to sum 1: a PSF handed in with any positive sum means the same.
  const psf = validateKernel(kernel, 'kernel', layout);
  const opts = resolveDeconvolveOptions(options);
  throwIfAborted(opts.signal);
  const out = allocateLike(image, layout);
  await deconvolveInto(image, layout, psf, opts, out);
  return out;
}
