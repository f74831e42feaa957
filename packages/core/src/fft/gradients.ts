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

/**
 * |Dx|² + |Dy|² on the frequency grid of a real `w` x `h` field, in the half-spectrum layout of
 * `RealSpectrum` (columns 0 to w/2): the transfer function of ∂xᵀ∂x + ∂yᵀ∂y.
 */
export function differencesPower(w: number, h: number): Float64Array {
  const columns = (w >> 1) + 1;
  const out = new Float64Array(columns * h);
  const cx = new Float64Array(columns);
  for (let x = 0; x < columns; x++) cx[x] = 2 - 2 * Math.cos((2 * Math.PI * x) / w);
  for (let y = 0; y < h; y++) {
    const cy = 2 - 2 * Math.cos((2 * Math.PI * y) / h);
    for (let x = 0; x < columns; x++) out[y * columns + x] = cx[x]! + cy;
  }
  return out;
}
