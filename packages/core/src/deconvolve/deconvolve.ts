/**
 * Non-blind deconvolution of a whole photo with a known kernel, tiled: each tile reads its core
 * plus `overlap` px of context (reflected at the photo's border), is extended to a periodic FFT
 * field by a smooth bridge, deconvolved per plane, and blended with the tiler's linear feathers.
 * A colour photo is deconvolved as luma at full resolution and chroma at half resolution
 * (passes.ts), or per RGB plane with `color: 'rgb'`. Memory is bounded by the tile. The tiled
 * result is as close to the truth as the untiled one, but not equal to it within 1/255: the
 * regularised inverse of a long kernel reaches hundreds of px (BENCHMARKS.md, "Tiled against
 * untiled deconvolution").
 */
import { throwIfAborted } from '../errors.js';
import { threadsFor, WorkerPool } from '../parallel/pool.js';
import { allocateLike, describeImage, readTensor } from '../pixels/image.js';
import type { PixelLayout } from '../pixels/image.js';
import { runTiles } from '../tiling/run-tiles.js';
import type { BlurKernel, ProgressCallback, RawImage } from '../types.js';
import type { Tile } from '../tiling/plan.js';
import { validateKernel, validateKernelGrid } from '../kernel/kernel-file.js';
import { isKernelGrid } from '../kernel/regions.js';
import type { KernelGrid } from '../kernel/regions.js';
import { BufferShelf, passesFor } from './passes.js';
import type { KernelField, Pass, PriorEstimate } from './passes.js';
import { deconvolveTile, tileCacheBytes, tileField } from './tile.js';
import type { TileCache, TileSettings } from './tile.js';
import { tileTask } from './tile-task.js';
import { estimatePhotoNoise } from './noise.js';
import { hqsAlpha, PNP_ONE_PASS_WEIGHT, pnpSigmas } from './pnp.js';
import { resolveDeconvolveOptions } from './options.js';
import type { DeconvolveOptions, ResolvedDeconvolveOptions } from './options.js';

const MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * A data step of the plug-and-play HQS loop (`method: 'hqs'` only): α_k = λσ_n²/σ_k² of the
 * iteration (pnp.ts, `hqsAlpha`) and the prior's last estimate z_{k-1}.
 */
export interface LaterHqsStep {
  /** z_{k-1}; absent on the first iteration, where z_0 is the photo itself. */
  prior?: PriorEstimate;
  alpha: number;
}

/** Noise σ of a photo (JPEG-aware: estimatePhotoNoise), read from a centred window of at most 1024² px of every colour plane. */
export function photoNoise(image: RawImage, layout: PixelLayout): number {
  const w = Math.min(layout.width, 1024);
  const h = Math.min(layout.height, 1024);
  const tensor = readTensor(image, layout, (layout.width - w) >> 1, (layout.height - h) >> 1, w, h);
  const planes = layout.colorChannels === 3
    ? [0, 1, 2].map((c) => tensor.subarray(c * w * h, (c + 1) * w * h))
    : [tensor.subarray(0, w * h)];
  return estimatePhotoNoise(planes, w, h);
}

/**
 * The photo's noise σ: the caller's `noise`, or with `'auto'` the photo's own (photoNoise). A
 * network without a kernel denoises at it; a deconvolution floors it (regularisationNoise).
 */
export function resolveNoise(noise: number | 'auto', image: RawImage, layout: PixelLayout): number {
  return noise === 'auto' ? photoNoise(image, layout) : noise;
}

/**
 * The noise σ a deconvolution regularises with: the caller's `noise`, or with `'auto'` the
 * photo's own (photoNoise) but never below `noiseFloor`, the blur model's error on real capture
 * (options.ts, DEFAULT_NOISE_FLOOR). Every stage of a deconvolution (each data step, the network
 * after it at σ_1) resolves it here, so they all agree; the network without a kernel has no model
 * error to allow for and runs at resolveNoise's σ.
 */
export function regularisationNoise(opts: Pick<ResolvedDeconvolveOptions, 'noise' | 'noiseFloor'>, image: RawImage, layout: PixelLayout): number {
  return opts.noise === 'auto' ? Math.max(photoNoise(image, layout), opts.noiseFloor) : opts.noise;
}

/**
 * Deconvolves `image` with `kernel` into `target` (allocated like `layout`, any bit depth; alpha
 * is copied from `image`). Returns the noise σ the regularisation was set from: every plane,
 * luma and chroma alike, is regularised as one RGB plane with that σ would be.
 */
export async function deconvolveInto(
  image: RawImage,
  layout: PixelLayout,
  kernel: KernelField,
  opts: ResolvedDeconvolveOptions,
  target: RawImage,
  targetLayout: PixelLayout = layout,
  later?: LaterHqsStep,
): Promise<number> {
  const sigma = regularisationNoise(opts, image, layout);
  const common = {
    method: opts.method, alpha: opts.alpha, lambda: opts.weight / (sigma * sigma), nsr: opts.nsr * sigma * sigma,
    // One-pass plug-and-play: the data step at σ_1, the level the prior then runs at (pnp.ts);
    // a later step of the loop brings its own α_k.
    hqsAlpha: later?.alpha ?? hqsAlpha(sigma, pnpSigmas(sigma, 1)[0]!, PNP_ONE_PASS_WEIGHT),
  };
  const passes = passesFor(image, layout, kernel, opts, common, target, targetLayout, later?.prior);
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
  const { plan, settings: base } = pass;
  // Before a network (`retireWorkers`, set by deblur()) the process holds the network's tiles next:
  // the pass's workers are capped by memory. A plain deconvolve() takes every core it may.
  const cap = opts.retireWorkers === true ? workersWithinMemory(plan.tiles, base) : Infinity;
  const threads = Math.min(threadsFor(plan.tiles.length * base.planes, opts.workers), cap);
  // A pool per pass: a worker caches the OTF of one kernel (tile.ts).
  const pool = threads > 1 ? new WorkerPool(threads, opts.signal) : undefined;
  // With fewer tiles than threads, each plane of a tile is a job of its own.
  const splitPlanes = plan.tiles.length < threads && base.planes > 1;
  const cache: TileCache = new Map();
  const shelf = new BufferShelf();
  const yieldAndCheck = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(opts.signal);
  };
  const deconvolvePlanes = async (tensor: Float32Array, tw: number, th: number, settings: TileSettings): Promise<Float32Array> => {
    if (!pool) return deconvolveTile(tensor, tw, th, settings, cache, yieldAndCheck);
    if (!splitPlanes) {
      return pool.run(tileTask, { tensor, width: tw, height: th, settings }, [tensor.buffer as ArrayBuffer]);
    }
    const n = tw * th;
    const one: TileSettings = { ...settings, planes: 1 };
    const planes = await Promise.all(Array.from({ length: settings.planes }, (_, c) => {
      // A plane of the photo, and after it (a later HQS data step) the same plane of the prior,
      // or the clip mask all planes share.
      const plane = new Float32Array(settings.withPrior || settings.withMask ? 2 * n : n);
      plane.set(tensor.subarray(c * n, (c + 1) * n));
      if (settings.withPrior) plane.set(tensor.subarray((settings.planes + c) * n, (settings.planes + c + 1) * n), n);
      if (settings.withMask) plane.set(tensor.subarray(settings.planes * n, (settings.planes + 1) * n), n);
      return pool.run(tileTask, { tensor: plane, width: tw, height: th, settings: one }, [plane.buffer as ArrayBuffer]);
    }));
    planes.forEach((p, c) => tensor.set(p.subarray(0, n), c * n));
    return settings.withPrior || settings.withMask ? tensor.subarray(0, settings.planes * n) : tensor;
  };
  try {
    await runTiles(plan, {
      concurrency: Math.min(threads, plan.tiles.length),
      planes: pass.outPlanes,
      signal: opts.signal,
      onProgress,
      read: (tile) => pass.read(tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength, shelf),
      infer: async (tensor, tile) => {
        const deconvolved = await deconvolvePlanes(tensor, tile.x.readLength, tile.y.readLength, pass.settingsOf(tile));
        const out = pass.finish?.(deconvolved, tile, shelf) ?? deconvolved;
        if (out !== deconvolved) shelf.give(deconvolved);
        return out;
      },
      release: (out) => shelf.give(out),
      write: pass.write,
    });
  } finally {
    await pool?.close({ retire: opts.retireWorkers === true && retireWorkersAfter(plan.tiles, base.bridge) });
  }
}

/**
 * Per-worker cache (tile.ts: per field size, the field, the OTF and up to two spectra) above which
 * a pass that a network follows (`retireWorkers`, set by `deblur()`) stops its workers instead of
 * keeping them warm for the next call: 64 MiB, fields of about 2 M samples (1450 px square). Why:
 * an idle worker does not collect its garbage, so a spare would hold its dropped cache through
 * the network stage; at 12 MP with 1536 px tiles that kept a `deblur()` with SGENet-σ above 1 GB
 * (training log, session 18). A fresh worker costs about a second of cold code on its first tile
 * (parallel/pool.ts), small beside a pass whose fields are that large; a plain `deconvolve()`, and
 * smaller photos, keep their warm workers.
 */
const RETIRE_CACHE_BYTES = 64 * 2 ** 20;

/** Bytes of one worker's tile cache (tile.ts) after a pass over `tiles`: one entry per distinct field size. */
function workerCacheBytes(tiles: readonly Tile[], bridge: number): number {
  const fields = new Map<string, number>();
  for (const t of tiles) {
    const { fw, fh } = tileField(t.x.readLength, t.y.readLength, bridge);
    fields.set(`${fw}x${fh}`, tileCacheBytes(fw, fh));
  }
  let bytes = 0;
  for (const b of fields.values()) bytes += b;
  return bytes;
}

/** Whether a worker's cache for `tiles` (one entry per distinct field size) reaches {@link RETIRE_CACHE_BYTES}. */
export function retireWorkersAfter(tiles: readonly Tile[], bridge: number): boolean {
  return workerCacheBytes(tiles, bridge) >= RETIRE_CACHE_BYTES;
}

/**
 * Memory the workers of a pass that a network follows (`retireWorkers`, set by `deblur()`) may
 * hold together: 512 MiB. Each worker keeps its field cache (tile.ts, {@link tileCacheBytes}) and
 * has a tile's tensor in flight (transferred, not copied); at the learned prior's 1536 px tiles
 * that is about 100 MB a worker, so without a cap a 16-core machine would hold 1.6 GB in the data
 * step of a `deblur()` whose bar is 1 GB, where 2 cores hold 200 MB. Fewer threads give the same
 * result, later. A plain `deconvolve()` is not capped: it takes every core it may.
 */
export const PASS_WORKER_BYTES = 512 * 2 ** 20;

/**
 * How many workers a pass over `tiles` may run within {@link PASS_WORKER_BYTES}: one worker holds
 * the caches of every distinct field size and the largest tile's tensor (4 bytes a sample and
 * plane: the photo's planes, a prior's and a clip mask's). At least 1.
 */
export function workersWithinMemory(tiles: readonly Tile[], settings: Pick<TileSettings, 'bridge' | 'planes' | 'withPrior' | 'withMask'>): number {
  const planes = settings.planes * (settings.withPrior ? 2 : 1) + (settings.withMask ? 1 : 0);
  let tensor = 0;
  for (const t of tiles) tensor = Math.max(tensor, 4 * planes * t.x.readLength * t.y.readLength);
  return Math.max(1, Math.floor(PASS_WORKER_BYTES / (workerCacheBytes(tiles, settings.bridge) + tensor)));
}

/**
 * Deconvolves a photo with a known blur kernel (non-blind): a measured PSF, or the output of
 * `estimateKernel`; or with a grid of per-region kernels (`estimateKernel`'s `grid`), tile by
 * tile with each cell's kernel, blended across the cell boundaries. Resolves with a new image of
 * the same size, channels and bit depth.
 *
 * @example
 * ```ts
 * import { deconvolve, estimateKernel } from '@sgenet/core';
 * const { kernel } = await estimateKernel(photo);
 * const sharp = await deconvolve(photo, kernel, { method: 'hyper-laplacian' });
 * ```
 */
export async function deconvolve(image: RawImage, kernel: BlurKernel | KernelGrid, options?: DeconvolveOptions): Promise<RawImage> {
  const layout = describeImage(image, MAX_PIXELS);
  // The checked copy is normalised to sum 1: a PSF handed in with any positive sum means the same.
  const psf = isKernelGrid(kernel) ? validateKernelGrid(kernel, 'kernel', layout) : validateKernel(kernel, 'kernel', layout);
  const opts = resolveDeconvolveOptions(options);
  throwIfAborted(opts.signal);
  const out = allocateLike(image, layout);
  await deconvolveInto(image, layout, psf, opts, out);
  return out;
}
