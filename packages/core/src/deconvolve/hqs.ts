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
import { periodicExtend } from '../fft/periodic.js';
import { kernelSpectrum, nextRealFftWidth, RealSpectrum } from '../fft/real.js';
import type { BlurKernel } from '../types.js';
import { invalidOption } from '../validate.js';

/** The FFT field of a `w` x `h` plane deconvolved with a kernel of side `kernelSide` (as deconvolve/tile.ts). */
export function hqsFieldSize(w: number, h: number, kernelSide: number): { width: number; height: number } {
  const bridge = kernelSide + 8;
  return { width: nextRealFftWidth(w + bridge), height: nextFftSize(h + bridge) };
}

/**
 * One HQS data step on a `w` x `h` plane `y` (row-major), for `kernel`, the coupling weight
 * `alpha` > 0 and the prior's last estimate `z` (same size; without it, the first iteration's
 * z_0 = `y`). Returns the `w` x `h` solution. A bad `alpha` or a plane of the wrong length throws
 * `InvalidOptionError` (`ERR_SGENET_INVALID_OPTION`).
 */
export function hqsDataStep(
  y: ArrayLike<number>, w: number, h: number, kernel: BlurKernel, alpha: number, z?: ArrayLike<number>,
): Float64Array {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw invalidOption('alpha', 'a finite number > 0', alpha);
  if (y.length !== w * h) throw invalidOption('y', `a plane of ${w} x ${h} = ${w * h} samples`, `${y.length} samples`);
  if (z && z.length !== w * h) throw invalidOption('z', `a plane of ${w} x ${h} = ${w * h} samples`, `${z.length} samples`);
  const field = hqsFieldSize(w, h, Math.max(kernel.width, kernel.height));
  const otf = kernelSpectrum(kernel.data, kernel.width, kernel.height, field.width, field.height);
  const extend = (plane: ArrayLike<number>): Float64Array => periodicExtend(plane, w, h, field.width, field.height);
  const x = hqsSolve(extend(y), z && extend(z), field.width, field.height, otf, alpha);
  const out = new Float64Array(w * h);
  for (let r = 0; r < h; r++) out.set(x.subarray(r * field.width, r * field.width + w), r * w);
  return out;
}

/**
 * The HQS data step's solve on a periodic field (eq. 7 above), given the kernel's OTF:
 * X = (conj(K)·Y + α·Z) / (|K|² + α). Without `z` (the first iteration, z_0 = y) it is
 * X = (conj(K) + α)·Y / (|K|² + α), one FFT less: where the kernel passes a frequency it is
 * inverted; where it does not, the blurry plane is kept and the learned prior cleans the rest.
 * `y` and `z` are fields of `w` x `h` (the deconvolution tile's, or hqsFieldSize's).
 */
export function hqsSolve(
  y: Float64Array, z: Float64Array | undefined, w: number, h: number, kernelOtf: RealSpectrum, alpha: number,
): Float64Array {
  const s = new RealSpectrum(w, h).forward(y);
  hqsCombine(s, z && new RealSpectrum(w, h).forward(z), kernelOtf, alpha);
  return s.inverse();
}

/**
 * Eq. 7 in the frequency domain, in place on `s` = F(y): s ← (conj(K)·s + α·Z) / (|K|² + α), with
 * Z = `zs` (F(z)) or, without it, s itself. The tiles call it on their cached spectra
 * (deconvolve/tile.ts), so a data step allocates nothing per plane.
 */
export function hqsCombine(s: RealSpectrum, zs: RealSpectrum | undefined, kernelOtf: RealSpectrum, alpha: number): void {
  const z = zs ?? s;
  for (let i = 0; i < s.re.length; i++) {
    const kr = kernelOtf.re[i]!, ki = kernelOtf.im[i]!, yr = s.re[i]!, yi = s.im[i]!;
    const den = kr * kr + ki * ki + alpha;
    // Without zs, Z is s itself: read it before this bin of s is overwritten.
    const zr = z.re[i]!, zi = z.im[i]!;
    s.re[i] = (kr * yr + ki * yi + alpha * zr) / den;
    s.im[i] = (kr * yi - ki * yr + alpha * zi) / den;
  }
}
