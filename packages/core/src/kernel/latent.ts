/**
 * The latent-image step of blind deconvolution: an L0-regularised sharp estimate
 * (Xu, Zheng & Jia 2013; Pan et al. 2014, "L0Restoration"):
 *
 *   S = argmin_S ||k ⊛ S − B||² + λ ||∇S||₀
 *
 * solved by half-quadratic splitting: an auxiliary gradient field g, and for β rising from 2λ to
 * β_max by a factor κ,
 *   g ← ∇S where |∇S|² ≥ λ / β, else 0                      (hard threshold, per pixel)
 *   S ← F⁻¹[(conj(K)·F(B) + β·F(∂ᵀg)) / (|K|² + β·(|Dx|² + |Dy|²))]   (one FFT solve)
 * The result keeps only strong, step-like edges: the structures the kernel update can trust.
 * With `darkChannel`, the dark-channel prior of Pan et al. 2016 joins the splitting (dark-channel.ts).
 */
import { RealSpectrum } from '../fft/real.js';
import { darkChannelStep } from './dark-channel.js';
import type { DifferencesPower } from '../fft/gradients.js';
import { dataTerm, solveSplitting } from '../fft/quadratic.js';

export interface L0Settings {
  /** λ: weight of the L0 gradient prior. */
  lambda: number;
  /** κ: growth factor of β per iteration. */
  kappa: number;
  /** β_max: where the splitting stops. */
  betaMax: number;
  /** The optional dark-channel prior (dark-channel.ts): μ and the patch side; absent: off. */
  darkChannel?: { weight: number; patch: number };
}

/** Fixed spectra of one pyramid level, computed once and shared by its iterations. */
export interface LevelSpectra {
  width: number;
  height: number;
  /** B, the blurry field (periodic, `width` x `height`). */
  field: Float64Array;
  /** F(B). */
  blurred: RealSpectrum;
  /** |Dx|² + |Dy|². */
  differencesPower: DifferencesPower;
}

/** The latent field S and the number of non-zero gradients of its last splitting step. */
export interface L0Solution {
  latent: Float64Array;
  nonZeroGradients: number;
}

/** Solves the L0 latent problem for the current kernel OTF. */
export function l0Latent(level: LevelSpectra, kernelOtf: RealSpectrum, settings: L0Settings): L0Solution {
  const { width: w, height: h, blurred, differencesPower: dd } = level;
  const n = w * h;
  const data = dataTerm(kernelOtf, blurred);
  const field = new RealSpectrum(w, h);
  // Start from S = B.
  const s = Float64Array.from(level.field);
  const dark = settings.darkChannel;
  const darkTarget = dark ? new Float64Array(n) : undefined;
  let nonZeroGradients = n;
  for (let beta = 2 * settings.lambda; beta < settings.betaMax; beta *= settings.kappa) {
    if (dark && darkTarget) darkChannelStep(s, w, h, dark.patch, dark.weight / beta, darkTarget);
    // s holds ∂ᵀg until the solve overwrites it with the next latent.
    nonZeroGradients = thresholdAndAdjoin(s, w, h, settings.lambda / beta);
    if (darkTarget) for (let i = 0; i < n; i++) s[i]! += darkTarget[i]!;
    field.forward(s);
    solveSplitting(field, data, beta, dd, dark ? 1 : 0);
    field.inverse(s);
  }
  return { latent: s, nonZeroGradients };
}

/**
 * The g-step and the adjoint in one pass, in place: s ← ∂xᵀ g_x + ∂yᵀ g_y, with g = ∇s where
 * |∇s|² ≥ threshold (λ/β), else 0, and ∇ the wrapping forward differences of fft/gradients.ts.
 * Raster order reads each difference from samples not yet overwritten; what the wrap needs from
 * behind (the first row, each row's first sample, the last row's g_y) is kept aside, so no gradient
 * field is stored. Returns how many gradients survive.
 */
export function thresholdAndAdjoin(s: Float64Array, w: number, h: number, threshold: number): number {
  const firstRow = s.slice(0, w);
  const gyAbove = new Float64Array(w); // g_y of the row above (of the last row, for row 0)
  let kept = 0;
  const last = (h - 1) * w;
  for (let c = 0; c < w; c++) {
    // The last row's gradients, thresholded as the main loop will: only g_y is needed here.
    const v = s[last + c]!;
    const dx = (c + 1 === w ? s[last]! : s[last + c + 1]!) - v;
    const dy = firstRow[c]! - v;
    gyAbove[c] = dx * dx + dy * dy < threshold ? 0 : dy;
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const below = y + 1 === h ? -1 : row + w;
    const rowFirst = s[row]!;
    // g_x of the row's last column (needed by its first): its own differences, thresholded.
    const lv = s[row + w - 1]!;
    const ldx = rowFirst - lv;
    const ldy = (below < 0 ? firstRow[w - 1]! : s[below + w - 1]!) - lv;
    let gxLeft = ldx * ldx + ldy * ldy < threshold ? 0 : ldx;
    for (let c = 0; c < w; c++) {
      const i = row + c;
      const v = s[i]!;
      const dx = (c + 1 === w ? rowFirst : s[i + 1]!) - v;
      const dy = (below < 0 ? firstRow[c]! : s[below + c]!) - v;
      let gx = 0;
      let gy = 0;
      if (dx * dx + dy * dy >= threshold) { gx = dx; gy = dy; kept++; }
      s[i] = gxLeft - gx + gyAbove[c]! - gy;
      gxLeft = gx;
      gyAbove[c] = gy;
    }
  }
  return kept;
}
