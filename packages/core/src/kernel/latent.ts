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
import { differencesAdjoint } from '../fft/gradients.js';
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
  const gx = new Float64Array(n);
  const gy = new Float64Array(n);
  const adjoint = new Float64Array(n);
  const dark = settings.darkChannel;
  const darkTarget = dark ? new Float64Array(n) : undefined;
  let nonZeroGradients = n;
  for (let beta = 2 * settings.lambda; beta < settings.betaMax; beta *= settings.kappa) {
    nonZeroGradients = hardThresholdGradients(s, w, h, settings.lambda / beta, gx, gy);
    differencesAdjoint(gx, gy, w, h, adjoint);
    if (dark && darkTarget) {
      darkChannelStep(s, w, h, dark.patch, dark.weight / beta, darkTarget);
      for (let i = 0; i < n; i++) adjoint[i]! += darkTarget[i]!;
    }
    field.forward(adjoint);
    solveSplitting(field, data, beta, dd, dark ? 1 : 0);
    field.inverse(s);
  }
  return { latent: s, nonZeroGradients };
}

/**
 * The g-step: g ← ∇S where |∇S|² ≥ threshold (λ/β), else 0, with ∇ the wrapping forward
 * differences of fft/gradients.ts, in one pass. Returns how many gradients survive.
 */
function hardThresholdGradients(s: Float64Array, w: number, h: number, threshold: number, gx: Float64Array, gy: Float64Array): number {
  let kept = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const down = (y + 1 === h ? 0 : y + 1) * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      const v = s[i]!;
      const dx = s[x + 1 === w ? row : i + 1]! - v;
      const dy = s[down + x]! - v;
      if (dx * dx + dy * dy < threshold) {
        gx[i] = 0; gy[i] = 0;
      } else {
        gx[i] = dx; gy[i] = dy; kept++;
      }
    }
  }
  return kept;
}
