/**
 * The FFT solve shared by every half-quadratic splitting here (the L0 latent, the hyper-Laplacian
 * deconvolution): for a data term ||k ⊛ x − y||² and a quadratic coupling to auxiliary gradients,
 *   x = F⁻¹[(conj(K)·Y + w·F(∂ᵀg)) / (|K|² + w·(|Dx|² + |Dy|²))].
 * conj(K)·Y does not change across the splitting loop: it is computed once.
 */
import type { DifferencesPower } from './gradients.js';

/** A spectrum's split arrays: a full complex `Spectrum` or a real field's half `RealSpectrum`, any layout as long as all agree. */
export interface SpectrumArrays {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** conj(K)·Y of one kernel and one blurry field, and K. */
export interface DataTerm {
  re: Float64Array;
  im: Float64Array;
  /** K itself: |K|² is recomputed where needed rather than stored (one field less per thread). */
  kernel: SpectrumArrays;
}

/** `into` receives conj(K)·Y (it may be `y` itself, which is then overwritten). */
export function dataTerm(kernelOtf: SpectrumArrays, y: SpectrumArrays, into?: SpectrumArrays): DataTerm {
  const n = y.re.length;
  const re = into?.re ?? new Float64Array(n);
  const im = into?.im ?? new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const kr = kernelOtf.re[i]!;
    const ki = kernelOtf.im[i]!;
    const yr = y.re[i]!, yi = y.im[i]!;
    re[i] = kr * yr + ki * yi;
    im[i] = kr * yi - ki * yr;
  }
  return { re, im, kernel: kernelOtf };
}

/**
 * In place, on the half spectrum F(∂ᵀg) (rows of `differencesPower.columns.length` samples):
 * field ← (conj(K)·Y + w·field) / (|K|² + w·(|Dx|² + |Dy|² + proximal)). `proximal` = 1 adds
 * w·||x − u||² to the problem, with F(u) added into `field` by the caller (the dark-channel step).
 */
export function solveSplitting(
  field: SpectrumArrays, data: DataTerm, weight: number, differencesPower: DifferencesPower, proximal = 0,
): void {
  const { columns: dx, rows: dy } = differencesPower;
  const c = dx.length;
  const kre = data.kernel.re, kim = data.kernel.im;
  for (let y = 0; y < dy.length; y++) {
    const cy = dy[y]! + proximal;
    for (let x = 0, i = y * c; x < c; x++, i++) {
      const kr = kre[i]!, ki = kim[i]!;
      const den = kr * kr + ki * ki + weight * (dx[x]! + cy);
      field.re[i] = (data.re[i]! + weight * field.re[i]!) / den;
      field.im[i] = (data.im[i]! + weight * field.im[i]!) / den;
    }
  }
}
