/**
 * The FFT solve shared by every half-quadratic splitting here (the L0 latent, the hyper-Laplacian
 * deconvolution): for a data term ||k ⊛ x − y||² and a quadratic coupling to auxiliary gradients,
 *   x = F⁻¹[(conj(K)·Y + w·F(∂ᵀg)) / (|K|² + w·(|Dx|² + |Dy|²))].
 * conj(K)·Y and |K|² do not change across the splitting loop; they are computed once.
 */
/** A spectrum's split arrays: a full complex `Spectrum` or a real field's half `RealSpectrum`, any layout as long as all agree. */
export interface SpectrumArrays {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** conj(K)·Y and |K|² of one kernel and one blurry field. */
export interface DataTerm {
  re: Float64Array;
  im: Float64Array;
  power: Float64Array;
}

export function dataTerm(kernelOtf: SpectrumArrays, y: SpectrumArrays): DataTerm {
  const n = y.re.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const power = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const kr = kernelOtf.re[i]!;
    const ki = kernelOtf.im[i]!;
    re[i] = kr * y.re[i]! + ki * y.im[i]!;
    im[i] = kr * y.im[i]! - ki * y.re[i]!;
    power[i] = kr * kr + ki * ki;
  }
  return { re, im, power };
}

/** In place, on the spectrum F(∂ᵀg): field ← (conj(K)·Y + w·field) / (|K|² + w·differencesPower). */
export function solveSplitting(field: SpectrumArrays, data: DataTerm, weight: number, differencesPower: Float64Array): void {
  for (let i = 0; i < field.re.length; i++) {
    const den = data.power[i]! + weight * differencesPower[i]!;
    field.re[i] = (data.re[i]! + weight * field.re[i]!) / den;
    field.im[i] = (data.im[i]! + weight * field.im[i]!) / den;
  }
}
