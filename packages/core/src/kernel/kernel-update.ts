/**
 * The kernel step of blind deconvolution: least squares in the gradient domain, solved in one FFT
 * division (Cho & Lee 2009; Pan et al. 2014, "estimate_psf"):
 *
 *   k = argmin_k Σ_{d∈{x,y}} ||∂d S ⊛ k − ∂d B||² + γ ||k||²
 *   K = Σ_d conj(F(∂d S))·F(∂d B) / (Σ_d |F(∂d S)|² + γ)
 *
 * then cropped to the kernel's support. Gradients under the saturation mask are left out of both
 * sides: a clipped highlight does not blur linearly and would teach the kernel a false shape.
 */
import { cropCentred, forwardTwoReal, Spectrum } from '../fft/fft.js';
import type { Spectrum as SpectrumType } from '../fft/fft.js';
import { forwardDifferences } from '../fft/gradients.js';

/** F(∂x B), F(∂y B) of a level's blurry field, masked: fixed across the level's iterations. */
export interface BlurGradients {
  x: SpectrumType;
  y: SpectrumType;
  /** 1 where a gradient counts, 0 near saturated pixels (undefined: everywhere). */
  mask: Float64Array | undefined;
}

/** Masked gradients of a field, as spectra. */
export function gradientSpectra(u: Float64Array, w: number, h: number, mask: Float64Array | undefined): [SpectrumType, SpectrumType] {
  const gx = new Float64Array(w * h);
  const gy = new Float64Array(w * h);
  forwardDifferences(u, w, h, gx, gy);
  if (mask) {
    for (let i = 0; i < gx.length; i++) { gx[i]! *= mask[i]!; gy[i]! *= mask[i]!; }
  }
  return forwardTwoReal(gx, gy, w, h);
}

/**
 * The least-squares kernel of `size` x `size` that maps the latent's gradients to the blurry ones.
 * `gamma` (γ) is the Tikhonov weight, relative to the mean gradient power so that it means the
 * same at every pyramid level and window size. Returns raw values (may be negative).
 */
export function leastSquaresKernel(
  latent: Float64Array,
  blurGradients: BlurGradients,
  w: number,
  h: number,
  size: number,
  gamma: number,
): Float64Array {
  const [sx, sy] = gradientSpectra(latent, w, h, blurGradients.mask);
  const n = w * h;
  const out = new Spectrum(w, h);
  let power = 0;
  for (let i = 0; i < n; i++) {
    power += sx.re[i]! ** 2 + sx.im[i]! ** 2 + sy.re[i]! ** 2 + sy.im[i]! ** 2;
  }
  const g = gamma * (power / n);
  const bx = blurGradients.x;
  const by = blurGradients.y;
  for (let i = 0; i < n; i++) {
    const xr = sx.re[i]!, xi = sx.im[i]!, yr = sy.re[i]!, yi = sy.im[i]!;
    const den = xr * xr + xi * xi + yr * yr + yi * yi + g;
    // conj(a)·b = (ar·br + ai·bi) + i(ar·bi − ai·br)
    out.re[i] = (xr * bx.re[i]! + xi * bx.im[i]! + yr * by.re[i]! + yi * by.im[i]!) / den;
    out.im[i] = (xr * bx.im[i]! - xi * bx.re[i]! + yr * by.im[i]! - yi * by.re[i]!) / den;
  }
  out.inverse();
  return cropCentred(out.re, w, h, size, size);
}
