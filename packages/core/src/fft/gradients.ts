/**
 * Forward differences on a periodic field and their transfer functions, shared by the L0 latent
 * step, the kernel update and the deconvolution priors.
 *
 * ∂x u[y, x] = u[y, x + 1] - u[y, x] (wrapping), whose OTF is e^{+2πi kx / W} - 1.
 */

/** ∂x and ∂y of `u` (wrapping at the field border). */
export function forwardDifferences(u: Float64Array, w: number, h: number, gx: Float64Array, gy: Float64Array): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const down = ((y + 1) % h) * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      const v = u[i]!;
      gx[i] = u[row + (x + 1 === w ? 0 : x + 1)]! - v;
      gy[i] = u[down + x]! - v;
    }
  }
}

/** ∂xᵀ gx + ∂yᵀ gy: the adjoint of {@link forwardDifferences} (a negative divergence). */
export function differencesAdjoint(gx: Float64Array, gy: Float64Array, w: number, h: number, out: Float64Array): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = ((y - 1 + h) % h) * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      out[i] = gx[row + (x === 0 ? w - 1 : x - 1)]! - gx[i]! + gy[up + x]! - gy[i]!;
    }
  }
}

/** |Dx|² + |Dy|² on the `w` x `h` frequency grid: the transfer function of ∂xᵀ∂x + ∂yᵀ∂y. */
export function differencesPower(w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  const cx = new Float64Array(w);
  for (let x = 0; x < w; x++) cx[x] = 2 - 2 * Math.cos((2 * Math.PI * x) / w);
  for (let y = 0; y < h; y++) {
    const cy = 2 - 2 * Math.cos((2 * Math.PI * y) / h);
    for (let x = 0; x < w; x++) out[y * w + x] = cx[x]! + cy;
  }
  return out;
}

/** The OTF of ∂x (`axis` 'x') or ∂y on the frequency grid, as [re, im]. */
export function differenceOtf(w: number, h: number, axis: 'x' | 'y'): [Float64Array, Float64Array] {
  const re = new Float64Array(w * h);
  const im = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = axis === 'x' ? (2 * Math.PI * x) / w : (2 * Math.PI * y) / h;
      re[y * w + x] = Math.cos(a) - 1;
      im[y * w + x] = Math.sin(a);
    }
  }
  return [re, im];
}
