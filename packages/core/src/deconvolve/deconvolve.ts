/**
 * Non-blind deconvolution of a whole photo with a known kernel, tiled: each tile reads its core
 * plus `overlap` px of context (reflected at the photo's border), is extended to a periodic FFT
 * field by a smooth bridge, deconvolved per colour plane, and blended with the tiler's linear
 * feathers. Memory is bounded by the tile, and because a deconvolved pixel depends on its
 * neighbourhood only within a few kernel widths, the tiled result equals the untiled one in the
 * interior (tested within 1/255).
 */
import { throwIfAborted } from '../errors.js';
import { threadsFor, WorkerPool } from '../parallel/pool.js';
import { allocateLike, describeImage, readTensor, writeRows } from '../pixels/image.js';
import type { PixelLayout } from '../pixels/image.js';
import { planTiles } from '../tiling/plan.js';
import type { AxisSpan } from '../tiling/plan.js';
import { runTiles } from '../tiling/run-tiles.js';
import type { BlurKernel } from '../synthetic/motion-blur.js';
import type { RawImage } from '../types.js';
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

/**
 * Deconvolves `image` with `kernel` into `target` (allocated like `layout`, any bit depth; alpha
 * is copied from `image`). Returns the noise σ the regularisation was set from.
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
  const kernelSide = Math.max(kernel.width, kernel.height);
  const bridge = opts.bridge ?? kernelSide + 8;
  const overlap = opts.overlap ?? Math.max(48, 6 * kernelSide);
  const plan = planTiles(layout.width, layout.height, {
    tileSize: Math.max(opts.tileSize - bridge, 3 * overlap + 2),
    overlap,
    multiple: 1,
  });
  equaliseReads(plan.cols, layout.width);
  equaliseReads(plan.rows, layout.height);
  const settings: TileSettings = {
    kernel,
    method: opts.method,
    alpha: opts.alpha,
    lambda: opts.weight / (sigma * sigma),
    nsr: opts.nsr * sigma * sigma,
    bridge,
    planes: layout.colorChannels === 3 ? 3 : 1,
  };
  const threads = threadsFor(plan.tiles.length, opts.workers);
  const pool = threads > 1 ? new WorkerPool(threads, opts.signal) : undefined;
  const cache: TileCache = new Map();
  const yieldAndCheck = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(opts.signal);
  };
  try {
    await runTiles(plan, {
      concurrency: threads,
      signal: opts.signal,
      onProgress: opts.onProgress,
      read: (tile) => readTensor(image, layout, tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength),
      infer: (tensor, tile) => pool
        ? pool.run<Float32Array>(
          { kind: 'deconvolve', tensor, width: tile.x.readLength, height: tile.y.readLength, settings },
          [tensor.buffer as ArrayBuffer],
        )
        : deconvolveTile(tensor, tile.x.readLength, tile.y.readLength, settings, cache, yieldAndCheck),
      write: (acc, accRows, fromRow, rowCount, accFirstRow) =>
        writeRows(acc, accRows, fromRow, rowCount, accFirstRow, image, target, targetLayout),
    });
  } finally {
    await pool?.close();
  }
  return sigma;
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
