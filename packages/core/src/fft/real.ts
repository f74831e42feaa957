/**
 * 2-D FFTs of real fields, kept as half spectra: every field the estimator and the deconvolution
 * transform is real (a photo plane, a gradient field, a kernel), so its spectrum is Hermitian,
 * X[−ky, −kx] = conj X[ky, kx], and columns 0 to W/2 hold all of it. Against a full complex
 * transform this halves the work and the memory of every spectrum.
 *
 * Rows: the even and odd samples of a row of W (even) are packed as one complex row of M = W/2,
 *   z[n] = x[2n] + i·x[2n+1],  Z = FFT_M(z),
 *   E[k] = (Z[k] + conj Z[M−k]) / 2,  O[k] = (Z[k] − conj Z[M−k]) / 2i,
 *   X[k] = E[k] + e^{−2πik/W}·O[k],  k = 0..M;
 * then the complex columns 0..M are transformed as in {@link Spectrum}. The inverse runs the same
 * steps backwards. Tested against the full complex transform and a direct DFT (test/fft.test.ts).
 */
import { complexRows, isFftSize, transformColumns } from './fft.js';

/** Twiddles e^{−2πik/W}, k = 0..W/2, by field width. */
const rowTwiddles = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function twiddlesFor(width: number): { cos: Float64Array; sin: Float64Array } {
  let t = rowTwiddles.get(width);
  if (!t) {
    const half = width / 2;
    const cos = new Float64Array(half + 1);
    const sin = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      cos[k] = Math.cos((-2 * Math.PI * k) / width);
      sin[k] = Math.sin((-2 * Math.PI * k) / width);
    }
    t = { cos, sin };
    if (rowTwiddles.size > 16) rowTwiddles.clear();
    rowTwiddles.set(width, t);
  }
  return t;
}

/** Whether a real field may be `width` x `height`: an even width whose half is 2^a·3^b·5^c, and such a height. */
export function isRealFftSize(width: number, height: number): boolean {
  return Number.isInteger(width) && width % 2 === 0 && isFftSize(width / 2) && isFftSize(height);
}

/** Smallest even field width ≥ `n` whose half is 2^a·3^b·5^c (any FFT size for a height: `nextFftSize`). */
export function nextRealFftWidth(n: number): number {
  let m = Math.max(2, Math.ceil(n));
  if (m % 2 === 1) m++;
  while (!isFftSize(m / 2)) m += 2;
  return m;
}

/**
 * The half spectrum of a real `width` x `height` field: `re`/`im` hold columns 0 to width/2
 * (`columns` = width/2 + 1 per row), row-major.
 */
export class RealSpectrum {
  readonly re: Float64Array;
  readonly im: Float64Array;
  /** Stored columns per row: width/2 + 1. */
  readonly columns: number;

  constructor(readonly width: number, readonly height: number) {
    if (!isRealFftSize(width, height)) {
      throw new RangeError(`real FFT field ${width}x${height} needs an even width with width/2 and height of the form 2^a·3^b·5^c`);
    }
    this.columns = width / 2 + 1;
    this.re = new Float64Array(this.columns * height);
    this.im = new Float64Array(this.columns * height);
  }

  /** This spectrum ← F(values), `values` a real `width` x `height` field, row-major. */
  forward(values: Float64Array): this {
    const { width: w, height: h, columns: c, re, im } = this;
    if (values.length !== w * h) throw new RangeError(`expected ${w * h} values for a ${w}x${h} field, got ${values.length}`);
    const m = w / 2;
    const { cos, sin } = twiddlesFor(w);
    // Each row's packed z lives in columns 0..M−1 of its own row: no buffer beside the spectrum.
    for (let y = 0; y < h; y++) {
      const row = y * c;
      const from = y * w;
      for (let n = 0; n < m; n++) { re[row + n] = values[from + 2 * n]!; im[row + n] = values[from + 2 * n + 1]!; }
    }
    complexRows(re, im, m, h, false, c);
    for (let y = 0; y < h; y++) {
      const row = y * c;
      // k = 0 and k = M (Z[M] = Z[0]): X[0] = Re Z[0] + Im Z[0], X[M] = Re Z[0] − Im Z[0], both real.
      const z0r = re[row]!, z0i = im[row]!;
      re[row] = z0r + z0i; im[row] = 0;
      re[row + m] = z0r - z0i; im[row + m] = 0;
      // X[k] and X[M−k] both read Z[k] and Z[M−k]: each pair is unpacked in place.
      for (let k = 1, j = m - 1; k <= j; k++, j--) {
        const ar = re[row + k]!, ai = im[row + k]!, br = re[row + j]!, bi = im[row + j]!;
        // X[k] from Z[k] and conj Z[M−k]; (Z − conj Z') / 2i = (di − i·dr) / 2
        let er = 0.5 * (ar + br), ei = 0.5 * (ai - bi), or = 0.5 * (ai + bi), oi = -0.5 * (ar - br);
        let tc = cos[k]!, ts = sin[k]!;
        const xkr = er + tc * or - ts * oi, xki = ei + tc * oi + ts * or;
        // X[M−k] from Z[M−k] and conj Z[k]
        er = 0.5 * (br + ar); ei = 0.5 * (bi - ai); or = 0.5 * (bi + ai); oi = -0.5 * (br - ar);
        tc = cos[j]!; ts = sin[j]!;
        re[row + j] = er + tc * or - ts * oi; im[row + j] = ei + tc * oi + ts * or;
        re[row + k] = xkr; im[row + k] = xki;
      }
    }
    transformColumns(re, im, c, h, false);
    return this;
  }

  /**
   * F⁻¹ of this spectrum, a real field, into `out` (allocated when not given). Overwrites the
   * spectrum: it is the scratch of the transform.
   */
  inverse(out: Float64Array = new Float64Array(this.width * this.height)): Float64Array {
    const { width: w, height: h, columns: c, re, im } = this;
    const m = w / 2;
    const { cos, sin } = twiddlesFor(w);
    transformColumns(re, im, c, h, true);
    for (let y = 0; y < h; y++) {
      const row = y * c;
      // Z[k] = E[k] + i·O[k], E = (X[k] + conj X[M−k]) / 2, O = (X[k] − conj X[M−k])·e^{+2πik/W} / 2;
      // Z[0] reads X[0] and X[M]; Z[k] and Z[M−k] read X[k] and X[M−k], so each pair is packed in place.
      const x0 = re[row]!, xm = re[row + m]!;
      const x0i = im[row]!, xmi = im[row + m]!;
      re[row] = 0.5 * (x0 + xm) - 0.5 * (x0i + xmi);
      im[row] = 0.5 * (x0i - xmi) + 0.5 * (x0 - xm);
      for (let k = 1, j = m - 1; k <= j; k++, j--) {
        const ar = re[row + k]!, ai = im[row + k]!, br = re[row + j]!, bi = im[row + j]!;
        // Z[k] from X[k] and conj X[M−k]
        let dr = 0.5 * (ar - br), di = 0.5 * (ai + bi);
        let tc = cos[k]!, ts = -sin[k]!;
        const zkr = 0.5 * (ar + br) - (dr * ts + di * tc), zki = 0.5 * (ai - bi) + (dr * tc - di * ts);
        // Z[M−k] from X[M−k] and conj X[k]
        dr = 0.5 * (br - ar); di = 0.5 * (bi + ai);
        tc = cos[j]!; ts = -sin[j]!;
        re[row + j] = 0.5 * (br + ar) - (dr * ts + di * tc); im[row + j] = 0.5 * (bi - ai) + (dr * tc - di * ts);
        re[row + k] = zkr; im[row + k] = zki;
      }
    }
    complexRows(re, im, m, h, true, c);
    const s = 1 / (m * h);
    for (let y = 0; y < h; y++) {
      const row = y * c;
      const to = y * w;
      for (let n = 0; n < m; n++) { out[to + 2 * n] = re[row + n]! * s; out[to + 2 * n + 1] = im[row + n]! * s; }
    }
    return out;
  }
}

/**
 * The OTF of a `kw` x `kh` kernel on a real `width` x `height` periodic grid, as a half spectrum:
 * the kernel is placed with its centre tap on sample (0, 0), wrapping around (MATLAB psf2otf).
 */
export function kernelSpectrum(kernel: ArrayLike<number>, kw: number, kh: number, width: number, height: number): RealSpectrum {
  if (kw > width || kh > height) throw new RangeError(`kernel ${kw}x${kh} exceeds the FFT field ${width}x${height}`);
  const field = new Float64Array(width * height);
  const cx = (kw - 1) >> 1;
  const cy = (kh - 1) >> 1;
  for (let j = 0; j < kh; j++) {
    const y = (j - cy + height) % height;
    for (let i = 0; i < kw; i++) field[y * width + ((i - cx + width) % width)] = kernel[j * kw + i]!;
  }
  return new RealSpectrum(width, height).forward(field);
}
