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

/**
 * ∂xᵀ gx + ∂yᵀ gy: the adjoint of {@link forwardDifferences} (a negative divergence). The splitting
 * loops fuse it with their g- and w-steps (latent.ts, hyper-laplacian.ts); this is the definition
 * those one-pass versions are tested against.
 */
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
 * `RealSpectrum` (columns 0 to w/2): the transfer function of ∂xᵀ∂x + ∂yᵀ∂y. It is separable,
 * |Dx|²(kx) + |Dy|²(ky), so it is kept as its two factors.
 */
export interface DifferencesPower {
  /** 2 − 2·cos(2π kx / w), kx = 0..w/2. */
  columns: Float64Array;
  /** 2 − 2·cos(2π ky / h), ky = 0..h−1. */
  rows: Float64Array;
}

export function differencesPower(w: number, h: number): DifferencesPower {
  const columns = new Float64Array((w >> 1) + 1);
  for (let x = 0; x < columns.length; x++) columns[x] = 2 - 2 * Math.cos((2 * Math.PI * x) / w);
  const rows = new Float64Array(h);
  for (let y = 0; y < h; y++) rows[y] = 2 - 2 * Math.cos((2 * Math.PI * y) / h);
  return { columns, rows };
}
