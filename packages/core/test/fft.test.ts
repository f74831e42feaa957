import { describe, expect, it } from 'vitest';

import { cropCentred, fft1d, forwardTwoReal, isFftSize, nextFftSize, psfToOtf, Spectrum } from '../src/fft/fft.js';
import { isRealFftSize, kernelSpectrum, nextRealFftWidth, RealSpectrum } from '../src/fft/real.js';
import { seededRandom } from '../src/synthetic/index.js';

/** The definition, O(n²): X[k] = Σ x[n] e^{−2πikn/N}. */
function directDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const or = new Float64Array(n);
  const oi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      or[k]! += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
      oi[k]! += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
    }
  }
  return [or, oi];
}

/** 2-D DFT by definition. */
function directDft2d(re: Float64Array, im: Float64Array, w: number, h: number): [Float64Array, Float64Array] {
  const or = new Float64Array(w * h);
  const oi = new Float64Array(w * h);
  for (let ky = 0; ky < h; ky++) {
    for (let kx = 0; kx < w; kx++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const a = -2 * Math.PI * ((kx * x) / w + (ky * y) / h);
          const vr = re[y * w + x]!;
          const vi = im[y * w + x]!;
          sr += vr * Math.cos(a) - vi * Math.sin(a);
          si += vr * Math.sin(a) + vi * Math.cos(a);
        }
      }
      or[ky * w + kx] = sr;
      oi[ky * w + kx] = si;
    }
  }
  return [or, oi];
}

function randomField(n: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  return Float64Array.from({ length: n }, () => rand() * 2 - 1);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('FFT against a direct DFT', () => {
  it.each([1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 20, 25, 27, 30, 32, 45, 60, 64, 75, 120, 128, 256, 540, 1024])('1-D, n = %i', (n) => {
    const re = randomField(n, n);
    const im = randomField(n, n + 1000);
    const [dr, di] = directDft(re, im);
    const fr = Float64Array.from(re);
    const fi = Float64Array.from(im);
    fft1d(fr, fi);
    expect(maxDiff(fr, dr)).toBeLessThan(1e-9 * n);
    expect(maxDiff(fi, di)).toBeLessThan(1e-9 * n);
    fft1d(fr, fi, true);
    expect(maxDiff(fr, re)).toBeLessThan(1e-12 * n);
    expect(maxDiff(fi, im)).toBeLessThan(1e-12 * n);
  });

  it.each([[12, 20], [16, 9], [30, 8], [5, 1], [1, 6]])('2-D, %i x %i, forward and inverse', (w, h) => {
    const s = new Spectrum(w, h);
    s.re.set(randomField(w * h, 7));
    s.im.set(randomField(w * h, 8));
    const [dr, di] = directDft2d(s.re, s.im, w, h);
    const re0 = Float64Array.from(s.re);
    s.forward();
    expect(maxDiff(s.re, dr)).toBeLessThan(1e-9);
    expect(maxDiff(s.im, di)).toBeLessThan(1e-9);
    s.inverse();
    expect(maxDiff(s.re, re0)).toBeLessThan(1e-12);
  });

  it('two real fields through one complex FFT equal two separate transforms', () => {
    const [w, h] = [24, 10];
    const a = randomField(w * h, 3);
    const b = randomField(w * h, 4);
    const [sa, sb] = forwardTwoReal(a, b, w, h);
    const [ar, ai] = directDft2d(a, new Float64Array(w * h), w, h);
    const [br, bi] = directDft2d(b, new Float64Array(w * h), w, h);
    expect(maxDiff(sa.re, ar)).toBeLessThan(1e-9);
    expect(maxDiff(sa.im, ai)).toBeLessThan(1e-9);
    expect(maxDiff(sb.re, br)).toBeLessThan(1e-9);
    expect(maxDiff(sb.im, bi)).toBeLessThan(1e-9);
  });

  it('psfToOtf is a circular convolution with the kernel centred, and cropCentred undoes it', () => {
    const [w, h] = [20, 15];
    const k = Float64Array.from([0, 1, 0, 2, 3, 0, 0, 0, 4]); // 3x3, asymmetric
    const img = randomField(w * h, 9);
    const otf = psfToOtf(k, 3, 3, w, h);
    const s = new Spectrum(w, h).setReal(img).forward();
    for (let i = 0; i < w * h; i++) {
      const r = s.re[i]! * otf.re[i]! - s.im[i]! * otf.im[i]!;
      s.im[i] = s.re[i]! * otf.im[i]! + s.im[i]! * otf.re[i]!;
      s.re[i] = r;
    }
    s.inverse();
    // out(x) = Σ_j,i k[j][i] · img(x − (i − 1), y − (j − 1)), wrapping.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let j = 0; j < 3; j++) {
          for (let i = 0; i < 3; i++) acc += k[j * 3 + i]! * img[((y - (j - 1) + h) % h) * w + ((x - (i - 1) + w) % w)]!;
        }
        expect(s.re[y * w + x]).toBeCloseTo(acc, 9);
      }
    }
    const back = new Spectrum(w, h);
    back.re.set(otf.re); back.im.set(otf.im);
    back.inverse();
    expect(maxDiff(cropCentred(back.re, w, h, 3, 3), k)).toBeLessThan(1e-12);
  });

  it('sizes are 2^a·3^b·5^c', () => {
    expect([1, 2, 3, 5, 60, 1000, 1024].every(isFftSize)).toBe(true);
    expect([7, 11, 14, 1001].some(isFftSize)).toBe(false);
    expect(nextFftSize(513)).toBe(540);
    expect(nextFftSize(1025)).toBe(1080);
    expect(() => new Spectrum(7, 8)).toThrow(RangeError);
  });
});

describe('real fields as half spectra (RealSpectrum) against a direct DFT', () => {
  it.each([[2, 1], [4, 3], [12, 20], [30, 9], [10, 25], [64, 16]])('%i x %i: columns 0 to w/2 of the DFT, and back', (w, h) => {
    const x = randomField(w * h, w * 31 + h);
    const [dr, di] = directDft2d(x, new Float64Array(w * h), w, h);
    const s = new RealSpectrum(w, h).forward(x);
    const c = w / 2 + 1;
    expect(s.columns).toBe(c);
    let err = 0;
    for (let y = 0; y < h; y++) {
      for (let k = 0; k < c; k++) {
        err = Math.max(err, Math.abs(s.re[y * c + k]! - dr[y * w + k]!), Math.abs(s.im[y * c + k]! - di[y * w + k]!));
      }
    }
    expect(err).toBeLessThan(1e-9);
    expect(maxDiff(s.inverse(), x)).toBeLessThan(1e-12);
  });

  it('a large field agrees with the full complex transform', () => {
    const [w, h] = [540, 360];
    const x = randomField(w * h, 5);
    const full = new Spectrum(w, h).setReal(x).forward();
    const half = new RealSpectrum(w, h).forward(x);
    let err = 0;
    for (let y = 0; y < h; y++) {
      for (let k = 0; k < half.columns; k++) {
        const a = y * w + k, b = y * half.columns + k;
        err = Math.max(err, Math.abs(full.re[a]! - half.re[b]!), Math.abs(full.im[a]! - half.im[b]!));
      }
    }
    expect(err).toBeLessThan(1e-9);
    const out = new Float64Array(w * h);
    expect(half.inverse(out)).toBe(out);
    expect(maxDiff(out, x)).toBeLessThan(1e-12);
  });

  it('kernelSpectrum is a circular convolution with the kernel centred', () => {
    const [w, h] = [20, 15];
    const k = Float64Array.from([0, 1, 0, 2, 3, 0, 0, 0, 4]); // 3x3, asymmetric
    const img = randomField(w * h, 9);
    const otf = kernelSpectrum(k, 3, 3, w, h);
    const s = new RealSpectrum(w, h).forward(img);
    for (let i = 0; i < s.re.length; i++) {
      const r = s.re[i]! * otf.re[i]! - s.im[i]! * otf.im[i]!;
      s.im[i] = s.re[i]! * otf.im[i]! + s.im[i]! * otf.re[i]!;
      s.re[i] = r;
    }
    const out = s.inverse();
    let err = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let j = 0; j < 3; j++) {
          for (let i = 0; i < 3; i++) acc += k[j * 3 + i]! * img[((y - (j - 1) + h) % h) * w + ((x - (i - 1) + w) % w)]!;
        }
        err = Math.max(err, Math.abs(out[y * w + x]! - acc));
      }
    }
    expect(err).toBeLessThan(1e-12);
    expect(() => kernelSpectrum(k, 3, 3, 2, 2)).toThrow(RangeError);
  });

  it('widths are even with a 2^a·3^b·5^c half; a wrong field or input is refused', () => {
    expect(isRealFftSize(540, 675)).toBe(true);
    expect(isRealFftSize(675, 540)).toBe(false); // odd width
    expect(isRealFftSize(28, 8)).toBe(false); // 14 = 2·7
    expect(nextRealFftWidth(663)).toBe(720); // halves 332..359 are not 2^a·3^b·5^c (324, then 360)
    expect(nextRealFftWidth(1)).toBe(2);
    expect(nextRealFftWidth(513)).toBe(540);
    expect(() => new RealSpectrum(675, 540)).toThrow(RangeError);
    expect(() => new RealSpectrum(20, 10).forward(new Float64Array(199))).toThrow(/expected 200 values/);
  });
});
