/**
 * The schedule of plug-and-play half-quadratic splitting with a learned prior (DPIR: Zhang et al.
 * 2021, "Plug-and-play image restoration with deep denoiser prior", §4.1; IRCNN 2017): the noise
 * level σ_k the prior (SGENet-σ) runs at on iteration k, and the coupling weight α_k of the data
 * step before it (hqs.ts). training/sgenet/data_step.py is its twin, which the prior is trained on.
 */

/** σ of the first iteration, in [0, 1] units: 49/255, as DPIR. */
export const PNP_SIGMA_START = 49 / 255;

/** λ of α_k = λ·σ_n²/σ_k²: 0.23, DPIR's value for deblurring over 8 iterations (and training's). */
export const PNP_WEIGHT = 0.23;

/**
 * λ of the single data step of one-pass PnP, what `deblur()` runs: 0.12. One pass must invert more
 * than the first of eight: tuned with the SGENet-σ checkpoint of step 2,834 on dev pairs 96-143
 * (Kodak images 13-18, apart from the pairs the shipping check uses), mean aligned PSNR with the
 * true kernel / a perturbed one: λ 0.23 about 0.8 dB below 0.12; 0.06 30.80 / 28.32 dB, 0.12
 * 30.75 / 28.80 dB: 0.12 holds up better when the kernel is wrong.
 */
export const PNP_ONE_PASS_WEIGHT = 0.12;

/** Noise level below which the schedule does not go: 0.001 (a noiseless photo stays stable). */
const SIGMA_FLOOR = 1e-3;

/**
 * σ_1 … σ_N: log-spaced from {@link PNP_SIGMA_START} down to `noise`, the level the data step
 * regularises with (deconvolve.ts, `regularisationNoise`: the photo's, at least `noiseFloor`); one
 * iteration uses their geometric mean.
 */
export function pnpSigmas(noise: number, iterations: number): number[] {
  const end = Math.max(noise, SIGMA_FLOOR);
  const start = Math.max(PNP_SIGMA_START, end);
  if (iterations === 1) return [Math.sqrt(start * end)];
  return Array.from({ length: iterations }, (_, k) => start * (end / start) ** (k / (iterations - 1)));
}

/** α_k = λ·σ_n²/σ_k² (λ = `weight`, default {@link PNP_WEIGHT}), floored at 1e-5. */
export function hqsAlpha(noise: number, sigmaK: number, weight: number = PNP_WEIGHT): number {
  return Math.max(weight * Math.max(noise, SIGMA_FLOOR) ** 2 / (sigmaK * sigmaK), 1e-5);
}
