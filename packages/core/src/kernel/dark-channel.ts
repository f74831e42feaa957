/**
 * The dark-channel step of the latent image (Pan, Sun, Pfister & Yang 2016, "Blind image deblurring
 * using dark channel prior"): blur brightens the darkest pixel of every patch, so a sharp image has
 * a sparser dark channel D(S)(x) = min_{y ∈ patch(x)} S(y). With an auxiliary u for D(S) and the
 * L0 prior μ ||D(S)||₀:
 *
 *   u ← D(S) where D(S)² ≥ μ / β, else 0                    (hard threshold, per patch)
 *   u′ ← S with each patch's darkest pixel set to its u     (Mᵀu, the paper's "assign" step)
 *
 * and the latent solve adds β ||S − u′||², approximating MᵀM by the identity as the paper's code
 * does, so it stays one FFT division. Here u shares the gradient step's β schedule (the paper nests
 * a second loop): a simplification, opt-in (`darkChannel` > 0), measured in the training log.
 */

/**
 * Writes u′ (see above) into `out`: S, with the darkest pixel of every patch whose dark value
 * falls below the threshold set to 0. `patch` is the odd patch side. Returns how many pixels moved.
 */
export function darkChannelStep(s: Float64Array, w: number, h: number, patch: number, threshold: number, out: Float64Array): number {
  const r = (patch - 1) >> 1;
  // Separable min filter carrying the argmin: rows, then columns (windows clamped at the border).
  const rowMin = new Float64Array(w * h);
  const rowArg = new Int32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let m = Infinity;
      let a = row + x;
      for (let q = Math.max(0, x - r), end = Math.min(w - 1, x + r); q <= end; q++) {
        const v = s[row + q]!;
        if (v < m) { m = v; a = row + q; }
      }
      rowMin[row + x] = m;
      rowArg[row + x] = a;
    }
  }
  out.set(s);
  let moved = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = Infinity;
      let a = y * w + x;
      for (let q = Math.max(0, y - r), end = Math.min(h - 1, y + r); q <= end; q++) {
        const v = rowMin[q * w + x]!;
        if (v < m) { m = v; a = rowArg[q * w + x]!; }
      }
      if (m * m < threshold && out[a] !== 0) { out[a] = 0; moved++; }
    }
  }
  return moved;
}
