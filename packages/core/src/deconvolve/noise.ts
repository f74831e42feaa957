/**
 * Noise level of a photo, estimated blind (Donoho & Johnstone 1994): the median absolute value of
 * the finest diagonal Haar detail band (HH) over 0.6745, on the flatter half of the photo. Edges
 * leak into HH too, so only the 2x2 blocks whose horizontal and vertical details (HL, LH) are
 * below their median count; for white noise the Haar bands are independent, so choosing blocks
 * by HL and LH does not bias HH. The regularisation of the deconvolution is set from this σ.
 */

/** Lowest σ reported: the quantisation noise of 8-bit samples, 1 / (255·√12). */
export const NOISE_FLOOR = 1 / (255 * Math.sqrt(12));

/**
 * σ of white Gaussian noise (in [0, 1] units) in `planes` (each `width` x `height`), from the
 * median over all planes of |HH|, on 2x2 blocks. At most `maxBlocks` blocks are read, on a regular
 * grid, so the cost does not grow with the photo.
 */
export function estimateNoise(planes: readonly ArrayLike<number>[], width: number, height: number, maxBlocks = 1 << 18): number {
  const bw = width >> 1;
  const bh = height >> 1;
  if (bw === 0 || bh === 0) return NOISE_FLOOR;
  const stride = Math.max(1, Math.ceil(Math.sqrt((bw * bh) / maxBlocks)));
  const diagonal: number[] = [];
  const structure: number[] = [];
  for (const p of planes) {
    for (let by = 0; by < bh; by += stride) {
      const r0 = 2 * by * width;
      const r1 = r0 + width;
      for (let bx = 0; bx < bw; bx += stride) {
        const x = 2 * bx;
        const a = p[r0 + x]!, b = p[r0 + x + 1]!, c = p[r1 + x]!, d = p[r1 + x + 1]!;
        diagonal.push(Math.abs(a - b - c + d) / 2);
        structure.push(Math.abs(a + b - c - d) + Math.abs(a - b + c - d));
      }
    }
  }
  const cut = Float64Array.from(structure).sort()[structure.length >> 1]!;
  const flat = Float64Array.from(diagonal.filter((_, i) => structure[i]! <= cut)).sort();
  const median = flat[flat.length >> 1]!;
  return Math.max(NOISE_FLOOR, median / 0.6745);
}
