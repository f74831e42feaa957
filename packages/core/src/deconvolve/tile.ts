/**
 * Deconvolution of one tile (its read window, 1 to 3 planes): the work unit of the tiled
 * deconvolution, run on this thread or on a worker (tile-task.ts) with the same result.
 */
import { nextFftSize } from '../fft/fft.js';
import { kernelSpectrum, nextRealFftWidth, RealSpectrum } from '../fft/real.js';
import { differencesPower } from '../fft/gradients.js';
import type { DifferencesPower } from '../fft/gradients.js';
import { periodicExtend } from '../fft/periodic.js';
import type { BlurKernel } from '../types.js';
import { hqsCombine } from './hqs.js';
import { hyperLaplacianDeconvolve, maskedWork, SAMPLE, wienerDeconvolve } from './hyper-laplacian.js';
import type { MaskedWork } from './hyper-laplacian.js';
import { BETA_SCHEDULE } from './options.js';
import type { DeconvolutionMethod } from './options.js';

/** Everything a tile's deconvolution depends on besides its pixels (plain data: crosses to workers). */
export interface TileSettings {
  kernel: BlurKernel;
  /**
   * Which kernel of the call this is (the cell of a kernel grid; 0 for a single kernel): the
   * tile cache's OTF is recomputed when it changes.
   */
  kernelKey?: number;
  method: DeconvolutionMethod;
  alpha: number;
  /** λ of the hyper-Laplacian data term. */
  lambda: number;
  /** Wiener noise-to-signal ratio. */
  nsr: number;
  /** α of the HQS data step (`'hqs'`). */
  hqsAlpha: number;
  /** Width of the periodic bridge. */
  bridge: number;
  /** Planes in the tile's tensor, each deconvolved alike: 1 (grey or luma), 2 (chroma) or 3 (RGB). */
  planes: 1 | 2 | 3;
  /**
   * `'hqs'` only: the tensor holds `planes` more planes after the photo's, the prior's last
   * estimate z of each (a later iteration of plug-and-play HQS); absent, z is the photo itself.
   */
  withPrior?: boolean;
  /**
   * `'hyper-laplacian'` and `'tv'` only: the tensor holds one more plane after the photo's, the
   * clip mask (pixels/clipped.ts: 1 measured, 0 unknown, −1 clipped), which every plane's data
   * term follows (hyper-laplacian.ts).
   */
  withMask?: boolean;
}

/**
 * Per field size, for the tiles of one call: the difference powers and the solver's field and
 * spectra, reused by every plane and tile of that size (a thread's memory then stays put instead
 * of churning through hundreds of megabytes of short-lived fields), and the OTF of the kernel
 * last used at that size (`otfKey`: a kernel grid's tiles change kernel cell by cell; only the
 * OTF, one FFT, is recomputed then). The second spectrum is made when a tile first needs it: the
 * hyper-Laplacian and TV solves and a later HQS step do, the one-pass HQS data step before
 * `deblur()`'s network does not (a quarter of the cache: 80 MB on a 12 MP photo's 2900 px tiles).
 */
export type TileCache = Map<string, {
  otf: RealSpectrum; otfKey: number; dd: DifferencesPower; field: Float64Array; spectrum: RealSpectrum;
  /** A second spectrum (a solve's work space, or a later HQS step's F(z)), made when needed. */
  second?: RealSpectrum;
  /** The masked solve's work space (hyper-laplacian.ts), made when a tile first has a clipped pixel. */
  masked?: MaskedWork;
}>;

/**
 * Bytes a thread's {@link TileCache} holds at most for one `fw` x `fh` field: the field (8 bytes a
 * sample), the OTF and two spectra (half spectra, 16 bytes a stored sample, about half the
 * samples each): 32 bytes a sample (24 where the second spectrum is never made).
 */
export function tileCacheBytes(fw: number, fh: number): number {
  return 32 * fw * fh;
}

/** The FFT field of a tile that reads `tw` x `th` px with a periodic bridge of `bridge` px. */
export function tileField(tw: number, th: number, bridge: number): { fw: number; fh: number } {
  return { fw: nextRealFftWidth(tw + bridge), fh: nextFftSize(th + bridge) };
}

function fieldFor(cache: TileCache, kernel: BlurKernel, kernelKey: number, fw: number, fh: number) {
  const key = `${fw}x${fh}`;
  let f = cache.get(key);
  if (!f) {
    f = {
      otf: kernelSpectrum(kernel.data, kernel.width, kernel.height, fw, fh),
      otfKey: kernelKey,
      dd: differencesPower(fw, fh),
      field: new Float64Array(fw * fh),
      spectrum: new RealSpectrum(fw, fh),
    };
    cache.set(key, f);
  } else if (f.otfKey !== kernelKey) {
    f.otf = kernelSpectrum(kernel.data, kernel.width, kernel.height, fw, fh);
    f.otfKey = kernelKey;
  }
  return f;
}

/**
 * Deconvolves a planar [planes][th][tw] tile in place (the result replaces `tensor`, which is returned).
 * `cache` belongs to one call (one kernel); `afterPlane`
 * runs between colour planes (progress, abort checks).
 */
export async function deconvolveTile(
  tensor: Float32Array, tw: number, th: number, s: TileSettings, cache: TileCache, afterPlane?: () => Promise<void>,
): Promise<Float32Array> {
  const { fw, fh } = tileField(tw, th, s.bridge);
  const cached = fieldFor(cache, s.kernel, s.kernelKey ?? 0, fw, fh);
  const { otf, dd, field, spectrum } = cached;
  const second = (): RealSpectrum => (cached.second ??= new RealSpectrum(fw, fh));
  // Each plane is read into its periodic field before its result is written back: the tile's own
  // tensor holds the output (one tile less in memory per thread).
  const n = tw * th;
  // With the prior's planes after the photo's, the result fills the photo's planes only.
  const out = s.withPrior || s.withMask ? tensor.subarray(0, s.planes * n) : tensor;
  const observed = s.withMask ? observedField(tensor.subarray(s.planes * n, (s.planes + 1) * n), tw, th, fw, fh) : undefined;
  if (observed) cached.masked ??= maskedWork(fw, fh);
  for (let c = 0; c < s.planes; c++) {
    const y = periodicExtend(tensor.subarray(c * n, (c + 1) * n), tw, th, fw, fh, field);
    const x = s.method === 'wiener'
      ? wienerDeconvolve(y, fw, fh, otf, s.nsr)
      : s.method === 'hqs'
      ? hqsPlane(y, s.withPrior ? [tensor.subarray((s.planes + c) * n, (s.planes + c + 1) * n), second()] : undefined, tw, th, spectrum, otf, s.hqsAlpha)
      : hyperLaplacianDeconvolve(y, fw, fh, otf, dd, {
        lambda: s.lambda,
        alpha: s.method === 'tv' ? 1 : s.alpha,
        ...BETA_SCHEDULE,
      }, y, [spectrum, second()], observed, cached.masked);
    for (let r = 0; r < th; r++) {
      for (let q = 0; q < tw; q++) out[c * n + r * tw + q] = x[r * fw + q]!;
    }
    await afterPlane?.();
  }
  return out;
}

/**
 * The HQS data step (hqs.ts, eq. 7) on one plane's periodic field `y` (the tile cache's field),
 * in the cache's spectrum `ys`: F(y) first, which frees `y` to take the extended z, when there is
 * a prior (a later step: its plane and a second spectrum for F(z)), and then the result. Nothing
 * is allocated per plane, where a plain solve (hqs.ts) allocates two to four fields and spectra:
 * 40-80 MB per plane and thread at 1536 px tiles, garbage that an idle worker keeps.
 */
function hqsPlane(
  y: Float64Array, prior: [zPlane: Float32Array, zs: RealSpectrum] | undefined, tw: number, th: number,
  ys: RealSpectrum, otf: RealSpectrum, alpha: number,
): Float64Array {
  ys.forward(y);
  if (prior) prior[1].forward(periodicExtend(prior[0], tw, th, ys.width, ys.height, y));
  hqsCombine(ys, prior?.[1], otf, alpha);
  return ys.inverse(y);
}

/**
 * The clip mask of a tile (pixels/clipped.ts: 1 measured, 0 unknown, −1 clipped) as the sample
 * states of its FFT field ({@link SAMPLE}); the bridge is measured (it is made from the border's
 * samples, not a light). Undefined when nothing is clipped: the plain solve is then exact, and
 * cheaper.
 */
function observedField(mask: Float32Array, tw: number, th: number, fw: number, fh: number): Uint8Array | undefined {
  if (!mask.some((v) => v <= 0)) return undefined;
  const observed = new Uint8Array(fw * fh).fill(SAMPLE.measured);
  for (let r = 0; r < th; r++) {
    for (let q = 0; q < tw; q++) {
      const m = mask[r * tw + q]!;
      observed[r * fw + q] = m > 0 ? SAMPLE.measured : m < 0 ? SAMPLE.clipped : SAMPLE.unknown;
    }
  }
  return observed;
}
