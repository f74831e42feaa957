/**
 * Agreement between two estimates of one photo's kernel: the normalised cross-correlation of two
 * `size` x `size` kernels at the best integer shift within ±{@link AGREEMENT_SHIFT} taps (taps
 * shifted in from outside count 0). The estimator runs each kernel size from its own coarsest
 * level, so two sizes that find the same path corroborate it; a failed estimate (a scene's
 * repeated pattern, a wrong basin) rarely comes out the same twice.
 */

/** Largest shift (taps) tried on either axis: the candidates are centred on their mass, so a few. */
export const AGREEMENT_SHIFT = 4;

/** NCC of `a` and `b` (both `size` x `size`, row-major) at the best shift; 0 for a constant kernel. */
export function kernelAgreement(a: ArrayLike<number>, b: ArrayLike<number>, size: number): number {
  const n = size * size;
  let meanA = 0, meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  // A kernel whose taps vary by no more than rounding is constant: it agrees with nothing.
  const flat = (k: ArrayLike<number>, mean: number) => {
    let spread = 0, energy = 0;
    for (let i = 0; i < n; i++) {
      spread += (k[i]! - mean) ** 2;
      energy += k[i]! ** 2;
    }
    return spread <= 1e-12 * energy;
  };
  if (flat(a, meanA) || flat(b, meanB)) return 0;
  let best = 0;
  for (let dy = -AGREEMENT_SHIFT; dy <= AGREEMENT_SHIFT; dy++) {
    for (let dx = -AGREEMENT_SHIFT; dx <= AGREEMENT_SHIFT; dx++) {
      let ab = 0, aa = 0, bb = 0;
      for (let y = 0; y < size; y++) {
        const yy = y + dy;
        for (let x = 0; x < size; x++) {
          const xx = x + dx;
          const va = a[y * size + x]! - meanA;
          const vb = (yy >= 0 && yy < size && xx >= 0 && xx < size ? b[yy * size + xx]! : 0) - meanB;
          ab += va * vb;
          aa += va * va;
          bb += vb * vb;
        }
      }
      if (aa > 0 && bb > 0) best = Math.max(best, ab / Math.sqrt(aa * bb));
    }
  }
  return best;
}
