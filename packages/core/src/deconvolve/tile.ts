/**
 * Deconvolution of one tile (planar RGB, its read window): the work unit of the tiled
 * deconvolution, run on this thread or on a worker (parallel/worker.ts) with the same result.
 */
import { nextFftSize } from '../fft/fft.js';
import { kernelSpectrum, nextRealFftWidth } from '../fft/real.js';
import type { RealSpectrum } from '../fft/real.js';
import { differencesPower } from '../fft/gradients.js';
import type { DifferencesPower } from '../fft/gradients.js';
import { periodicExtend } from '../fft/periodic.js';
import type { BlurKernel } from '../synthetic/motion-blur.js';
import { hyperLaplacianDeconvolve, wienerDeconvolve } from './hyper-laplacian.js';
import type { DeconvolutionMethod } from './options.js';

/** Everything a tile's deconvolution depends on besides its pixels (plain data: crosses to workers). */
export interface TileSettings {
  kernel: BlurKernel;
  method: DeconvolutionMethod;
  alpha: number;
  /** λ of the hyper-Laplacian data term. */
  lambda: number;
  /** Wiener noise-to-signal ratio. */
  nsr: number;
  /** Width of the periodic bridge. */
  bridge: number;
  /** 1 (grey: deconvolve one plane, copy it) or 3. */
  planes: 1 | 3;
}

/** OTFs and difference powers by field size, for the tiles of one call (one kernel). */
export type TileCache = Map<string, { otf: RealSpectrum; dd: DifferencesPower }>;

function fieldFor(cache: TileCache, kernel: BlurKernel, fw: number, fh: number) {
  const key = `${fw}x${fh}`;
  let f = cache.get(key);
  if (!f) {
    f = { otf: kernelSpectrum(kernel.data, kernel.width, kernel.height, fw, fh), dd: differencesPower(fw, fh) };
    cache.set(key, f);
  }
  return f;
}

/**
 * Deconvolves a planar [3][th][tw] tile in place (the result replaces `tensor`, which is returned).
 * `cache` belongs to one call (one kernel); `afterPlane`
 * runs between colour planes (progress, abort checks).
 */
export async function deconvolveTile(
  tensor: Float32Array, tw: number, th: number, s: TileSettings, cache: TileCache, afterPlane?: () => Promise<void>,
): Promise<Float32Array> {
  const fw = nextRealFftWidth(tw + s.bridge);
  const fh = nextFftSize(th + s.bridge);
  const { otf, dd } = fieldFor(cache, s.kernel, fw, fh);
  // Each plane is read into its periodic field before its result is written back: the tile's own
  // tensor holds the output (one tile less in memory per thread).
  const out = tensor;
  const n = tw * th;
  for (let c = 0; c < s.planes; c++) {
    const y = periodicExtend(tensor.subarray(c * n, (c + 1) * n), tw, th, fw, fh);
    const x = s.method === 'wiener'
      ? wienerDeconvolve(y, fw, fh, otf, s.nsr)
      : hyperLaplacianDeconvolve(y, fw, fh, otf, dd, {
        lambda: s.lambda,
        alpha: s.method === 'tv' ? 1 : s.alpha,
        betaStart: 1,
        betaRate: 2 * Math.SQRT2,
        betaMax: 256,
      }, y);
    for (let r = 0; r < th; r++) {
      for (let q = 0; q < tw; q++) out[c * n + r * tw + q] = x[r * fw + q]!;
    }
    await afterPlane?.();
  }
  // Grey photos are deconvolved once; the writer expects three planes.
  if (s.planes === 1) { out.copyWithin(n, 0, n); out.copyWithin(2 * n, 0, n); }
  return out;
}
