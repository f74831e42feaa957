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
import { cropCentred } from '../fft/fft.js';
import { forwardDifferences } from '../fft/gradients.js';
import { RealSpectrum } from '../fft/real.js';

/** F(∂x B), F(∂y B) of a level's blurry field, masked: fixed across the level's iterations. */
export interface BlurGradients {
  x: RealSpectrum;
  y: RealSpectrum;
  /** 1 where a gradient counts, 0 near saturated pixels (undefined: everywhere). */
  mask: Float64Array | undefined;
}

/** Masked gradients of a field, as spectra, and their energy Σ (∂x u)² + (∂y u)². */
export function gradientSpectra(u: Float64Array, w: number, h: number, mask: Float64Array | undefined): { x: RealSpectrum; y: RealSpectrum; energy: number } {
  const gx = new Float64Array(w * h);
  const gy = new Float64Array(w * h);
  forwardDifferences(u, w, h, gx, gy);
  let energy = 0;
  for (let i = 0; i < gx.length; i++) {
    if (mask) { gx[i]! *= mask[i]!; gy[i]! *= mask[i]!; }
    energy += gx[i]! * gx[i]! + gy[i]! * gy[i]!;
  }
  return { x: new RealSpectrum(w, h).forward(gx), y: new RealSpectrum(w, h).forward(gy), energy };
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
  const { x: sx, y: sy, energy } = gradientSpectra(latent, w, h, blurGradients.mask);
  // Mean spectral power Σ_k |F(∂S)|² / N is, by Parseval, the spatial energy.
  const g = gamma * energy;
  const bx = blurGradients.x;
  const by = blurGradients.y;
  const out = new RealSpectrum(w, h);
  for (let i = 0; i < out.re.length; i++) {
    const xr = sx.re[i]!, xi = sx.im[i]!, yr = sy.re[i]!, yi = sy.im[i]!;
    const den = xr * xr + xi * xi + yr * yr + yi * yi + g;
    // conj(a)·b = (ar·br + ai·bi) + i(ar·bi − ai·br)
    out.re[i] = (xr * bx.re[i]! + xi * bx.im[i]! + yr * by.re[i]! + yi * by.im[i]!) / den;
    out.im[i] = (xr * bx.im[i]! - xi * bx.re[i]! + yr * by.im[i]! - yi * by.re[i]!) / den;
  }
  return cropCentred(out.inverse(), w, h, size, size);
}
