/**
 * Complex FFTs for the kernel estimator and the deconvolution: mixed-radix (4, 2, 3, 5) Stockham
 * on split real/imaginary Float64Arrays, sizes 2^a·3^b·5^c (so a field fits its image within a
 * few percent), twiddles computed once per size. Tested against a direct DFT (test/fft.test.ts); the choice over an npm
 * FFT is measured in BENCHMARKS.md ("FFT").
 *
 * Convention (as numpy): forward X[k] = sum_n x[n] e^{-2 pi i k n / N}; inverse divides by N.
 */

/** Radices the transforms are built from; a size must factor into them. */
const RADICES = [4, 2, 3, 5] as const;

/** One Stockham stage: radix `r` after `ns` points already combined, with its twiddles. */
interface Stage {
  r: number;
  ns: number;
  cos: Float64Array;
  sin: Float64Array;
}

const plans = new Map<number, Stage[]>();

/** The radices of `n` (4s first, then 2, 3, 5), or undefined when `n` has another prime factor. */
function factorize(n: number): number[] | undefined {
  if (!Number.isInteger(n) || n < 1) return undefined;
  const out: number[] = [];
  let m = n;
  for (const r of RADICES) {
    while (m % r === 0) { out.push(r); m /= r; }
  }
  return m === 1 ? out : undefined;
}

/** Whether the transforms accept `n` points: n = 2^a·3^b·5^c. */
export function isFftSize(n: number): boolean {
  return factorize(n) !== undefined;
}

/** Smallest FFT size (2^a·3^b·5^c) ≥ `n`. */
export function nextFftSize(n: number): number {
  let m = Math.max(1, Math.ceil(n));
  while (!isFftSize(m)) m++;
  return m;
}

function plan1d(n: number): Stage[] {
  const cached = plans.get(n);
  if (cached) return cached;
  const radices = factorize(n);
  if (!radices) throw new RangeError(`FFT size ${n} is not of the form 2^a·3^b·5^c`);
  const stages: Stage[] = [];
  let ns = 1;
  for (const r of radices) {
    // Twiddle of input r' at butterfly phase k = j mod ns: e^{-2πi k r' / (ns r)}.
    const cos = new Float64Array(ns * r);
    const sin = new Float64Array(ns * r);
    for (let k = 0; k < ns; k++) {
      for (let q = 0; q < r; q++) {
        const a = (-2 * Math.PI * k * q) / (ns * r);
        cos[k * r + q] = Math.cos(a);
        sin[k * r + q] = Math.sin(a);
      }
    }
    stages.push({ r, ns, cos, sin });
    ns *= r;
  }
  plans.set(n, stages);
  return stages;
}

const SIN60 = Math.sqrt(3) / 2;
const C72 = Math.cos((2 * Math.PI) / 5);
const C144 = Math.cos((4 * Math.PI) / 5);
const S72 = Math.sin((2 * Math.PI) / 5);
const S144 = Math.sin((4 * Math.PI) / 5);

/**
 * A mixed-radix Stockham autosort FFT (no bit reversal; ping-pong between `re/im` and a scratch
 * pair) over `n` "points" that are each `w` contiguous complex samples: `w` = 1 transforms a
 * row, `w` = width transforms all columns of a field at once with contiguous inner loops.
 * Per stage of radix R after Ns combined points (Van Loan; Govindaraju et al. 2008):
 *   v_q = x[j + q·n/R]·e^{−2πi (j mod Ns) q / (Ns R)},  y[(j div Ns)·Ns·R + j mod Ns + k·Ns] = DFT_R(v)_k
 * Returns which pair holds the result.
 */
function stockham(
  re: Float64Array, im: Float64Array, sre: Float64Array, sim: Float64Array,
  n: number, w: number, inverse: boolean,
): boolean {
  if (w === 1) return stockhamRow(re, im, sre, sim, n, inverse);
  const stages = plan1d(n);
  let xr = re, xi = im, yr = sre, yi = sim;
  const sg = inverse ? -1 : 1;
  for (const { r, ns, cos, sin } of stages) {
    const m = n / r;
    for (let j = 0; j < m; j++) {
      const k = j % ns;
      const out = ((j - k) * r + k) * w;
      const tw = k * r;
      const inp = j * w;
      const stride = m * w;
      const ostride = ns * w;
      if (r === 2) {
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!;
        for (let x = 0; x < w; x++) {
          const a = inp + x, b = a + stride;
          const ar = xr[a]!, ai = xi[a]!;
          const br = xr[b]! * c1 - xi[b]! * s1, bi = xr[b]! * s1 + xi[b]! * c1;
          yr[out + x] = ar + br; yi[out + x] = ai + bi;
          yr[out + ostride + x] = ar - br; yi[out + ostride + x] = ai - bi;
        }
      } else if (r === 4) {
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!;
        const c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!;
        const c3 = cos[tw + 3]!, s3 = sg * sin[tw + 3]!;
        for (let x = 0; x < w; x++) {
          const p0 = inp + x, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
          const ar = xr[p0]!, ai = xi[p0]!;
          const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
          const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
          const dr = xr[p3]! * c3 - xi[p3]! * s3, di = xr[p3]! * s3 + xi[p3]! * c3;
          const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
          const t2r = br + dr, t2i = bi + di;
          // −i·(b − d) forward, +i·(b − d) inverse
          const t3r = sg * (bi - di), t3i = -sg * (br - dr);
          const o = out + x;
          yr[o] = t0r + t2r; yi[o] = t0i + t2i;
          yr[o + ostride] = t1r + t3r; yi[o + ostride] = t1i + t3i;
          yr[o + 2 * ostride] = t0r - t2r; yi[o + 2 * ostride] = t0i - t2i;
          yr[o + 3 * ostride] = t1r - t3r; yi[o + 3 * ostride] = t1i - t3i;
        }
      } else if (r === 3) {
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!;
        const c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!;
        for (let x = 0; x < w; x++) {
          const p0 = inp + x, p1 = p0 + stride, p2 = p1 + stride;
          const ar = xr[p0]!, ai = xi[p0]!;
          const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
          const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
          const sr = br + cr, si = bi + ci;
          const mr = ar - 0.5 * sr, mi = ai - 0.5 * si;
          // ∓i·sin60·(b − c)
          const qr = sg * SIN60 * (bi - ci), qi = -sg * SIN60 * (br - cr);
          const o = out + x;
          yr[o] = ar + sr; yi[o] = ai + si;
          yr[o + ostride] = mr + qr; yi[o + ostride] = mi + qi;
          yr[o + 2 * ostride] = mr - qr; yi[o + 2 * ostride] = mi - qi;
        }
      } else {
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!;
        const c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!;
        const c3 = cos[tw + 3]!, s3 = sg * sin[tw + 3]!;
        const c4 = cos[tw + 4]!, s4 = sg * sin[tw + 4]!;
        for (let x = 0; x < w; x++) {
          const p0 = inp + x, p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride, p4 = p3 + stride;
          const ar = xr[p0]!, ai = xi[p0]!;
          const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
          const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
          const dr = xr[p3]! * c3 - xi[p3]! * s3, di = xr[p3]! * s3 + xi[p3]! * c3;
          const er = xr[p4]! * c4 - xi[p4]! * s4, ei = xr[p4]! * s4 + xi[p4]! * c4;
          const s14r = br + er, s14i = bi + ei, d14r = br - er, d14i = bi - ei;
          const s23r = cr + dr, s23i = ci + di, d23r = cr - dr, d23i = ci - di;
          const m1r = ar + C72 * s14r + C144 * s23r, m1i = ai + C72 * s14i + C144 * s23i;
          const m2r = ar + C144 * s14r + C72 * s23r, m2i = ai + C144 * s14i + C72 * s23i;
          // ∓i·(S72·d14 + S144·d23) and ∓i·(S144·d14 − S72·d23)
          const n1r = sg * (S72 * d14i + S144 * d23i), n1i = -sg * (S72 * d14r + S144 * d23r);
          const n2r = sg * (S144 * d14i - S72 * d23i), n2i = -sg * (S144 * d14r - S72 * d23r);
          const o = out + x;
          yr[o] = ar + s14r + s23r; yi[o] = ai + s14i + s23i;
          yr[o + ostride] = m1r + n1r; yi[o + ostride] = m1i + n1i;
          yr[o + 2 * ostride] = m2r + n2r; yi[o + 2 * ostride] = m2i + n2i;
          yr[o + 3 * ostride] = m2r - n2r; yi[o + 3 * ostride] = m2i - n2i;
          yr[o + 4 * ostride] = m1r - n1r; yi[o + 4 * ostride] = m1i - n1i;
        }
      }
    }
    const tr = xr, ti = xi;
    xr = yr; xi = yi; yr = tr; yi = ti;
  }
  return xr === re;
}

/**
 * {@link stockham} for one row (`w` = 1), the row pass of every 2-D transform. With one sample per
 * point, the per-butterfly bookkeeping of the general loop dominates, so here each stage loops
 * over the twiddle phase k outside (twiddles loaded once per phase) and the blocks inside; a
 * radix-4 stage with fewer blocks than phases (the last stages of a power of two) loops the other
 * way round, so the inner loop stays long. Same butterflies, same results; 1.5-2x faster on rows.
 * The radix-2/3/5 butterflies repeat those of {@link stockham} on purpose: shared butterfly
 * functions (tried) made both passes 10-25% slower on the 1024² and 1620² fields.
 */
function stockhamRow(re: Float64Array, im: Float64Array, sre: Float64Array, sim: Float64Array, n: number, inverse: boolean): boolean {
  let xr = re, xi = im, yr = sre, yi = sim;
  const sg = inverse ? -1 : 1;
  for (const { r, ns, cos, sin } of plan1d(n)) {
    const m = n / r;
    const blocks = m / ns;
    const os = ns * r; // output stride between blocks
    if (r === 4 && blocks < ns) {
      for (let b = 0; b < blocks; b++) {
        for (let k = 0; k < ns; k++) {
          const tw = k * 4;
          radix4(xr, xi, yr, yi, b * ns + k, m, b * os + k, ns,
            cos[tw + 1]!, sg * sin[tw + 1]!, cos[tw + 2]!, sg * sin[tw + 2]!, cos[tw + 3]!, sg * sin[tw + 3]!, sg);
        }
      }
    } else if (r === 4) {
      for (let k = 0; k < ns; k++) {
        const tw = k * 4;
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!, c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!, c3 = cos[tw + 3]!, s3 = sg * sin[tw + 3]!;
        for (let b = 0; b < blocks; b++) radix4(xr, xi, yr, yi, b * ns + k, m, b * os + k, ns, c1, s1, c2, s2, c3, s3, sg);
      }
    } else if (r === 2) {
      for (let k = 0; k < ns; k++) {
        const c1 = cos[k * 2 + 1]!, s1 = sg * sin[k * 2 + 1]!;
        for (let b = 0; b < blocks; b++) {
          const a = b * ns + k, q = a + m, o = b * os + k;
          const ar = xr[a]!, ai = xi[a]!;
          const br = xr[q]! * c1 - xi[q]! * s1, bi = xr[q]! * s1 + xi[q]! * c1;
          yr[o] = ar + br; yi[o] = ai + bi;
          yr[o + ns] = ar - br; yi[o + ns] = ai - bi;
        }
      }
    } else if (r === 3) {
      for (let k = 0; k < ns; k++) {
        const tw = k * 3;
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!, c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!;
        for (let b = 0; b < blocks; b++) {
          const p0 = b * ns + k, p1 = p0 + m, p2 = p1 + m, o = b * os + k;
          const ar = xr[p0]!, ai = xi[p0]!;
          const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
          const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
          const sr = br + cr, si = bi + ci;
          const mr = ar - 0.5 * sr, mi = ai - 0.5 * si;
          const qr = sg * SIN60 * (bi - ci), qi = -sg * SIN60 * (br - cr);
          yr[o] = ar + sr; yi[o] = ai + si;
          yr[o + ns] = mr + qr; yi[o + ns] = mi + qi;
          yr[o + 2 * ns] = mr - qr; yi[o + 2 * ns] = mi - qi;
        }
      }
    } else {
      for (let k = 0; k < ns; k++) {
        const tw = k * 5;
        const c1 = cos[tw + 1]!, s1 = sg * sin[tw + 1]!, c2 = cos[tw + 2]!, s2 = sg * sin[tw + 2]!;
        const c3 = cos[tw + 3]!, s3 = sg * sin[tw + 3]!, c4 = cos[tw + 4]!, s4 = sg * sin[tw + 4]!;
        for (let b = 0; b < blocks; b++) {
          const p0 = b * ns + k, p1 = p0 + m, p2 = p1 + m, p3 = p2 + m, p4 = p3 + m, o = b * os + k;
          const ar = xr[p0]!, ai = xi[p0]!;
          const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
          const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
          const dr = xr[p3]! * c3 - xi[p3]! * s3, di = xr[p3]! * s3 + xi[p3]! * c3;
          const er = xr[p4]! * c4 - xi[p4]! * s4, ei = xr[p4]! * s4 + xi[p4]! * c4;
          const s14r = br + er, s14i = bi + ei, d14r = br - er, d14i = bi - ei;
          const s23r = cr + dr, s23i = ci + di, d23r = cr - dr, d23i = ci - di;
          const m1r = ar + C72 * s14r + C144 * s23r, m1i = ai + C72 * s14i + C144 * s23i;
          const m2r = ar + C144 * s14r + C72 * s23r, m2i = ai + C144 * s14i + C72 * s23i;
          const n1r = sg * (S72 * d14i + S144 * d23i), n1i = -sg * (S72 * d14r + S144 * d23r);
          const n2r = sg * (S144 * d14i - S72 * d23i), n2i = -sg * (S144 * d14r - S72 * d23r);
          yr[o] = ar + s14r + s23r; yi[o] = ai + s14i + s23i;
          yr[o + ns] = m1r + n1r; yi[o + ns] = m1i + n1i;
          yr[o + 2 * ns] = m2r + n2r; yi[o + 2 * ns] = m2i + n2i;
          yr[o + 3 * ns] = m2r - n2r; yi[o + 3 * ns] = m2i - n2i;
          yr[o + 4 * ns] = m1r - n1r; yi[o + 4 * ns] = m1i - n1i;
        }
      }
    }
    const tr = xr, ti = xi;
    xr = yr; xi = yi; yr = tr; yi = ti;
  }
  return xr === re;
}

/** One radix-4 butterfly of a row: inputs p0 + q·m, outputs o + q·ns, twiddles (c_q, s_q). */
function radix4(
  xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, p0: number, m: number, o: number, ns: number,
  c1: number, s1: number, c2: number, s2: number, c3: number, s3: number, sg: number,
): void {
  const p1 = p0 + m, p2 = p1 + m, p3 = p2 + m;
  const ar = xr[p0]!, ai = xi[p0]!;
  const br = xr[p1]! * c1 - xi[p1]! * s1, bi = xr[p1]! * s1 + xi[p1]! * c1;
  const cr = xr[p2]! * c2 - xi[p2]! * s2, ci = xr[p2]! * s2 + xi[p2]! * c2;
  const dr = xr[p3]! * c3 - xi[p3]! * s3, di = xr[p3]! * s3 + xi[p3]! * c3;
  const t0r = ar + cr, t0i = ai + ci, t1r = ar - cr, t1i = ai - ci;
  const t2r = br + dr, t2i = bi + di;
  const t3r = sg * (bi - di), t3i = -sg * (br - dr);
  yr[o] = t0r + t2r; yi[o] = t0i + t2i;
  yr[o + ns] = t1r + t3r; yi[o + ns] = t1i + t3i;
  yr[o + 2 * ns] = t0r - t2r; yi[o + 2 * ns] = t0i - t2i;
  yr[o + 3 * ns] = t1r - t3r; yi[o + 3 * ns] = t1i - t3i;
}

/** Scratch pairs by length, reused across calls (the transforms are synchronous). */
const scratch = new Map<number, [Float64Array, Float64Array]>();
function scratchFor(n: number): [Float64Array, Float64Array] {
  let s = scratch.get(n);
  if (!s) {
    if (scratch.size > 8) scratch.clear();
    s = [new Float64Array(n), new Float64Array(n)];
    scratch.set(n, s);
  }
  return s;
}

/** In-place transform of `n` points of `w` samples each (see {@link stockham}). */
function transformBlock(re: Float64Array, im: Float64Array, n: number, w: number, inverse: boolean): void {
  if (n === 1) return;
  const [sre, sim] = scratchFor(n * w);
  const inPlace = stockham(re, im, sre, sim, n, w, inverse);
  if (!inPlace) { re.set(sre.subarray(0, n * w)); im.set(sim.subarray(0, n * w)); }
}

/**
 * In-place transforms (unscaled) of the `height` rows of `width` samples of a row-major field whose
 * rows start `stride` samples apart (default `width`).
 */
export function complexRows(re: Float64Array, im: Float64Array, width: number, height: number, inverse: boolean, stride = width): void {
  for (let y = 0; y < height; y++) {
    const at = y * stride;
    transformBlock(re.subarray(at, at + width), im.subarray(at, at + width), width, 1, inverse);
  }
}

/** In-place transforms (unscaled) of the `width` columns of a row-major field, as whole-row butterflies. */
export function transformColumns(re: Float64Array, im: Float64Array, width: number, height: number, inverse: boolean): void {
  transformBlock(re, im, height, width, inverse);
}

/** In-place 1-D FFT of a whole array (length 2^a·3^b·5^c). */
export function fft1d(re: Float64Array, im: Float64Array, inverse = false): void {
  transformBlock(re, im, re.length, 1, inverse);
  if (inverse) {
    const s = 1 / re.length;
    for (let i = 0; i < re.length; i++) { re[i]! *= s; im[i]! *= s; }
  }
}

/**
 * A complex field of `width` x `height` samples (sides 2^a·3^b·5^c), row-major, with in-place
 * 2-D transforms: rows one by one, then columns as whole-row butterflies.
 */
export class Spectrum {
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(readonly width: number, readonly height: number) {
    if (!isFftSize(width) || !isFftSize(height)) {
      throw new RangeError(`FFT field ${width}x${height} must have sides of the form 2^a·3^b·5^c`);
    }
    this.re = new Float64Array(width * height);
    this.im = new Float64Array(width * height);
  }

  /** Loads a real field (imaginary part zero). */
  setReal(values: ArrayLike<number>): this {
    this.re.set(values);
    this.im.fill(0);
    return this;
  }

  forward(): this {
    this.pass(false);
    return this;
  }

  /** Inverse transform, scaled by 1 / (width * height). */
  inverse(): this {
    this.pass(true);
    const s = 1 / (this.width * this.height);
    for (let i = 0; i < this.re.length; i++) { this.re[i]! *= s; this.im[i]! *= s; }
    return this;
  }

  private pass(inverse: boolean): void {
    complexRows(this.re, this.im, this.width, this.height, inverse);
    transformColumns(this.re, this.im, this.width, this.height, inverse);
  }
}

/**
 * The optical transfer function of a `kw` x `kh` kernel on a `width` x `height` periodic grid:
 * the kernel is placed with its centre tap on sample (0, 0), wrapping around (MATLAB psf2otf).
 */
export function psfToOtf(kernel: ArrayLike<number>, kw: number, kh: number, width: number, height: number): Spectrum {
  if (kw > width || kh > height) throw new RangeError(`kernel ${kw}x${kh} exceeds the FFT field ${width}x${height}`);
  const otf = new Spectrum(width, height);
  const cx = (kw - 1) >> 1;
  const cy = (kh - 1) >> 1;
  for (let j = 0; j < kh; j++) {
    const y = (j - cy + height) % height;
    for (let i = 0; i < kw; i++) {
      const x = (i - cx + width) % width;
      otf.re[y * width + x] = kernel[j * kw + i]!;
    }
  }
  return otf.forward();
}

/** The inverse of {@link psfToOtf}: the centred `kw` x `kh` window of a real periodic field. */
export function cropCentred(field: Float64Array, width: number, height: number, kw: number, kh: number): Float64Array {
  const out = new Float64Array(kw * kh);
  const cx = (kw - 1) >> 1;
  const cy = (kh - 1) >> 1;
  for (let j = 0; j < kh; j++) {
    const y = (j - cy + height) % height;
    for (let i = 0; i < kw; i++) out[j * kw + i] = field[y * width + ((i - cx + width) % width)]!;
  }
  return out;
}

/**
 * Transforms two real fields with one complex FFT (packed as a + i·b) and separates the spectra
 * by Hermitian symmetry: A[k] = (Z[k] + conj Z[−k]) / 2, B[k] = (Z[k] − conj Z[−k]) / 2i.
 */
export function forwardTwoReal(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): [Spectrum, Spectrum] {
  const z = new Spectrum(width, height);
  z.re.set(a);
  z.im.set(b);
  z.forward();
  const sa = new Spectrum(width, height);
  const sb = new Spectrum(width, height);
  for (let y = 0; y < height; y++) {
    const my = ((height - y) % height) * width;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const j = my + ((width - x) % width);
      const zr = z.re[i]!, zi = z.im[i]!, cr = z.re[j]!, ci = -z.im[j]!;
      sa.re[i] = (zr + cr) / 2;
      sa.im[i] = (zi + ci) / 2;
      // (Z − conj Z[−k]) / 2i: divide (dr + i di) by 2i → (di − i dr) / 2.
      sb.re[i] = (zi - ci) / 2;
      sb.im[i] = -(zr - cr) / 2;
    }
  }
  return [sa, sb];
}
