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

/**
 * Blockiness above which a photo counts as JPEG-compressed: on the training bank, photos never
 * compressed measured 1.005 to 1.031, JPEGs of quality 62 to 88 measured 1.21 to 1.40.
 */
export const JPEG_BLOCKINESS = 1.1;

/**
 * How strongly a plane shows JPEG's 8x8 grid: per axis, the mean |difference| across the rows or
 * columns of one phase mod 8 over the mean of the other seven phases, at the strongest phase (a
 * crop moves the grid); the lesser of the two axes. About 1 for a photo never JPEG-compressed.
 * At most `maxRows` rows are read, evenly spread.
 */
export function jpegBlockiness(plane: ArrayLike<number>, width: number, height: number, maxRows = 512): number {
  if (width < 16 || height < 16) return 1;
  const across = new Float64Array(8);
  const down = new Float64Array(8);
  // Whole bands of 8 rows (each with the row below it), so every phase of the grid counts alike.
  const bands = Math.floor((height - 1) / 8);
  const everyBand = Math.max(1, Math.ceil((bands * 8) / maxRows));
  for (let b = 0; b < bands; b += everyBand) {
    for (let y = 8 * b; y < 8 * b + 8; y++) {
      const row = y * width;
      for (let x = 0; x < width - 1; x++) {
        const v = plane[row + x]!;
        across[x & 7]! += Math.abs(plane[row + x + 1]! - v);
        down[y & 7]! += Math.abs(plane[row + width + x]! - v);
      }
    }
  }
  return Math.min(strongestPhase(across), strongestPhase(down));
}

function strongestPhase(sums: Float64Array): number {
  let total = 0;
  for (const s of sums) total += s;
  let best = 1;
  for (const s of sums) {
    const others = (total - s) / 7;
    if (others > 0) best = Math.max(best, s / others);
  }
  return best;
}

/**
 * σ the deconvolution's regularisation is set from. {@link estimateNoise} reads the finest
 * diagonal band, which a JPEG's quantisation empties: on the training bank's JPEGs it read 15 to
 * 37% of the noise actually there, and the deconvolution amplified the rest (-6 to -8 dB on three
 * of seven). On a photo that shows the JPEG grid ({@link jpegBlockiness} on the first plane above
 * {@link JPEG_BLOCKINESS}), the noise is also read at half resolution (2x2 means, σ doubled
 * back), where the quantisation has left it (66 to 96% there), and the larger σ is taken.
 */
export function estimatePhotoNoise(planes: readonly ArrayLike<number>[], width: number, height: number): number {
  const fine = estimateNoise(planes, width, height);
  if (planes.length === 0 || jpegBlockiness(planes[0]!, width, height) <= JPEG_BLOCKINESS) return fine;
  const hw = width >> 1;
  const hh = height >> 1;
  const halves = planes.map((p) => {
    const out = new Float64Array(hw * hh);
    for (let y = 0; y < hh; y++) {
      const r0 = 2 * y * width, r1 = r0 + width;
      for (let x = 0; x < hw; x++) out[y * hw + x] = (p[r0 + 2 * x]! + p[r0 + 2 * x + 1]! + p[r1 + 2 * x]! + p[r1 + 2 * x + 1]!) / 4;
    }
    return out;
  });
  return Math.max(fine, 2 * estimateNoise(halves, hw, hh));
}
