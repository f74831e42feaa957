/**
 * The data step of plug-and-play half-quadratic splitting (DPIR: Zhang et al. 2021, "Plug-and-play
 * image restoration with deep denoiser prior", eq. 7; IRCNN 2017), on one plane:
 *
 *   x = argmin_x ||k ⊛ x − y||² + α·||x − z||²  =  F⁻¹[(conj(K)·F(y) + α·F(z)) / (|K|² + α)]
 *
 * where z is the prior's last estimate (the blurry plane itself on the first iteration) and α
 * follows the prior's noise level σ_k as α = λ·σ_n²/σ_k². The plane is extended to its FFT field
 * with the smooth periodic bridge the deconvolution's tiles use (kernel side + 8 px, fft/periodic.ts),
 * so training/sgenet/data_step.py (the twin the learned prior is trained on) matches it.
 */
import { nextFftSize } from '../fft/fft.js';
import { differencesPower } from '../fft/gradients.js';
import type { DifferencesPower } from '../fft/gradients.js';
import { periodicExtend } from '../fft/periodic.js';
import { dataTerm, solveSplitting } from '../fft/quadratic.js';
import { kernelSpectrum, nextRealFftWidth, RealSpectrum } from '../fft/real.js';
import type { BlurKernel } from '../types.js';
import { invalidOption } from '../validate.js';

/** The FFT field of a `w` x `h` plane deconvolved with a kernel of side `kernelSide` (as deconvolve/tile.ts). */
export function hqsFieldSize(w: number, h: number, kernelSide: number): { width: number; height: number } {
  const bridge = kernelSide + 8;
  return { width: nextRealFftWidth(w + bridge), height: nextFftSize(h + bridge) };
}

/**
 * One HQS data step on a `w` x `h` plane `y` (row-major), for `kernel` and the coupling weight
 * `alpha` > 0; `z` (same size) defaults to `y`. Returns the `w` x `h` solution. A bad `alpha` or a
 * plane of the wrong length throws `InvalidOptionError` (`ERR_SGENET_INVALID_OPTION`).
 */
export function hqsDataStep(
  y: ArrayLike<number>, w: number, h: number, kernel: BlurKernel, alpha: number, z: ArrayLike<number> = y,
): Float64Array {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw invalidOption('alpha', 'a finite number > 0', alpha);
  if (y.length !== w * h) throw invalidOption('y', `a plane of ${w} x ${h} = ${w * h} samples`, `${y.length} samples`);
  if (z.length !== w * h) throw invalidOption('z', `a plane of ${w} x ${h} = ${w * h} samples`, `${z.length} samples`);
  const field = hqsFieldSize(w, h, Math.max(kernel.width, kernel.height));
  const otf = kernelSpectrum(kernel.data, kernel.width, kernel.height, field.width, field.height);
  // 1. conj(K)·F(y), the data term (computed once per plane).
  const data = dataTerm(otf, new RealSpectrum(field.width, field.height).forward(periodicExtend(y, w, h, field.width, field.height)));
  // 2. F(z), then the quadratic solve with no gradient term: (conj(K)·Y + α·Z) / (|K|² + α).
  const solved = new RealSpectrum(field.width, field.height).forward(periodicExtend(z, w, h, field.width, field.height));
  solveSplitting(solved, data, alpha, noDifferences(field.width, field.height), 1);
  const x = solved.inverse();
  const out = new Float64Array(w * h);
  for (let r = 0; r < h; r++) out.set(x.subarray(r * field.width, r * field.width + w), r * w);
  return out;
}

/** |Dx|² + |Dy|² set to zero: the splitting solve reduced to the proximal (identity) coupling. */
function noDifferences(width: number, height: number): DifferencesPower {
  const shape = differencesPower(width, height);
  return { columns: new Float64Array(shape.columns.length), rows: new Float64Array(shape.rows.length) };
}
