/**
 * The blind score that chooses among the estimator's candidate kernels, and the unit of work that
 * produces one scored candidate (run on a worker thread per kernel size, or on this thread).
 */
import { estimatePhotoNoise } from '../deconvolve/noise.js';
import { hyperLaplacianDeconvolve } from '../deconvolve/hyper-laplacian.js';
import { BETA_SCHEDULE, DEFAULT_ALPHA, DEFAULT_WEIGHT } from '../deconvolve/options.js';
import { kernelSpectrum, RealSpectrum } from '../fft/real.js';
import type { Plane } from '../pixels/planes.js';
import { buildLevel, estimateAtSize } from './coarse-to-fine.js';
import type { Level, PyramidSettings } from './coarse-to-fine.js';

/** What the blind score measures of one kernel (see {@link blindScore}). */
export interface CandidateScore {
  /** Kernel side tried. */
  size: number;
  /** ||∇x||₁ / ||∇x||₂ of the deconvolved window (lower: sparser, sharper). */
  sparsity: number;
  /** Mean (k ⊛ x − y)² / σ² over the window: about 1 when the kernel explains the photo. */
  residual: number;
}

/**
 * The least noise σ the blind score deconvolves a window at. A candidate kernel is never exact,
 * and its error acts as noise the photo's σ does not include (Nan & Ji 2020): on a dark or
 * JPEG-flattened photo σ measures 0.002-0.003, the data term is trusted about 20x more than at
 * σ 0.01, every small kernel error rings, and the identity wins however right the kernel is
 * (real-lai car2, church, house1 and night3 were refused so; training log, "A noise floor under
 * the blind score"). Photos with σ ≥ 0.005 are scored as before (all but 8 of the dev
 * benchmark's 192 pairs, whose windows measure 0.0045; one of them changed its kernel).
 */
export const BLIND_SCORE_MIN_NOISE = 0.005;

/** The noise σ a window is scored at: its own (estimatePhotoNoise), at least {@link BLIND_SCORE_MIN_NOISE}. */
export function blindScoreNoise(window: Plane): number {
  return Math.max(BLIND_SCORE_MIN_NOISE, estimatePhotoNoise([window.data], window.width, window.height));
}

/**
 * What chooses among the candidate kernels of one photo: sparsity x residual, lower wins. The
 * normalised sparsity alone prefers a spidery kernel whose regularised deconvolution is smooth
 * (it deconvolves little), which the re-blur residual catches: such a kernel explains the photo
 * worse. Measured on 48 items of the training bank (CBSD432 photos under project-made kernels,
 * not dev data): +1.73 dB aligned mean gain with kernel sizes [0.8, 1] x maxSize, against +1.58
 * for sparsity alone with [0.6, 1] (training log, "Choosing among kernel sizes").
 */
export function selectionScore(score: CandidateScore): number {
  return score.sparsity * score.residual;
}

/**
 * The blind score of a kernel: deconvolve the full-scale window with it (hyper-Laplacian, as the
 * product does) and measure the normalised sparsity of the result's gradients (Krishnan, Tay &
 * Fergus 2011: blur and ringing both raise ||∇x||₁/||∇x||₂) and the re-blur residual. Among the
 * candidates of one photo both count ({@link selectionScore}); the confidence compares sparsities
 * with the identity's (the residual does not separate failed photos from good ones).
 */
export function blindScore(level: Level, kernel: Float64Array, size: number, sigma: number): CandidateScore {
  const otf = kernelSpectrum(kernel, size, size, level.width, level.height);
  const x = hyperLaplacianDeconvolve(level.field, level.width, level.height, otf, level.differencesPower, {
    // The product's defaults: λ = weight / σ², α, and the β schedule of the tiles.
    lambda: DEFAULT_WEIGHT / (sigma * sigma), alpha: DEFAULT_ALPHA, ...BETA_SCHEDULE,
  });
  const s = new RealSpectrum(level.width, level.height).forward(x);
  for (let i = 0; i < s.re.length; i++) {
    const r = s.re[i]!, m = s.im[i]!, kr = otf.re[i]!, ki = otf.im[i]!;
    s.re[i] = r * kr - m * ki;
    s.im[i] = r * ki + m * kr;
  }
  const reblurred = s.inverse();
  const mask = level.gradients.mask!;
  const w = level.width;
  let residual = 0, l1 = 0, l2 = 0, count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    const d = reblurred[i]! - level.field[i]!;
    residual += d * d;
    const gx = x[i + 1]! - x[i]!;
    const gy = x[i + w]! - x[i]!;
    l1 += Math.abs(gx) + Math.abs(gy);
    l2 += gx * gx + gy * gy;
    count++;
  }
  const sparsity = l1 / Math.sqrt(Math.max(l2, 1e-30));
  const meanResidual = residual / Math.max(count, 1) / (sigma * sigma);
  return { size, sparsity, residual: meanResidual };
}

/** A kernel of one size, estimated coarse to fine, and its blind score on the full-scale window. */
export interface ScoredCandidate {
  kernel: Float64Array;
  score: CandidateScore;
}

/**
 * Estimates the kernel of side `size` on `window` and scores it on the window's full-scale level
 * (the same field for every size: kernels come back centred in a `workMax` square). On the
 * caller's thread, pass that level (`scoreLevel`) to build it once for all sizes; a worker builds its own.
 */
export async function estimateCandidate(
  window: Plane, size: number, workMax: number, settings: PyramidSettings, saturation: number, sigma: number,
  onLevel?: () => void | Promise<void>, scoreLevel?: Level,
): Promise<ScoredCandidate> {
  const kernel = await estimateAtSize(window, size, workMax, settings, saturation, onLevel);
  const score = blindScore(scoreLevel ?? buildLevel(window, workMax, saturation), kernel, workMax, sigma);
  return { kernel, score: { ...score, size } };
}
