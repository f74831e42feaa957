/**
 * The FFT choice, measured: @sgenet/core's own mixed-radix Stockham FFT (split Float64 arrays)
 * against fft.js (radix-4, interleaved arrays; power-of-two sizes only), on the transforms the
 * kernel estimator and the deconvolution run: 1-D rows and 2-D fields. Same data, same run,
 * medians of several runs; the outputs are compared too, so the timing compares equal work.
 */
import FFT from 'fft.js';
import { RealSpectrum, Spectrum, fft1d } from '@sgenet/core/fft';

import type { Table } from './report.js';
import { num } from './report.js';
import { median } from './stats.js';

export interface FftRow {
  case: string;
  oursMs: number;
  fftJsMs: number | null;
  maxDiff: number | null;
}

function time(f: () => void, runs: number): number {
  f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    f();
    t.push(performance.now() - s);
  }
  return median(t);
}

function random(n: number, seed: number): Float64Array {
  let a = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32 - 0.5;
  });
}

/** fft.js over a w x h field: rows, then columns gathered into an interleaved scratch. */
function fftJs2d(re: Float64Array, im: Float64Array, w: number, h: number): [Float64Array, Float64Array] {
  const fw = new FFT(w);
  const fh = new FFT(h);
  const row = fw.createComplexArray() as number[];
  const rowOut = fw.createComplexArray() as number[];
  const outRe = new Float64Array(w * h);
  const outIm = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) { row[2 * x] = re[y * w + x]!; row[2 * x + 1] = im[y * w + x]!; }
    fw.transform(rowOut, row);
    for (let x = 0; x < w; x++) { outRe[y * w + x] = rowOut[2 * x]!; outIm[y * w + x] = rowOut[2 * x + 1]!; }
  }
  const col = fh.createComplexArray() as number[];
  const colOut = fh.createComplexArray() as number[];
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) { col[2 * y] = outRe[y * w + x]!; col[2 * y + 1] = outIm[y * w + x]!; }
    fh.transform(colOut, col);
    for (let y = 0; y < h; y++) { outRe[y * w + x] = colOut[2 * y]!; outIm[y * w + x] = colOut[2 * y + 1]!; }
  }
  return [outRe, outIm];
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function compareFft(runs = 7): FftRow[] {
  const rows: FftRow[] = [];
  for (const n of [1024, 4096]) {
    const re = random(n, n);
    const im = random(n, n + 1);
    const r = new Float64Array(n);
    const i = new Float64Array(n);
    const ours = () => { r.set(re); i.set(im); fft1d(r, i); };
    const f = new FFT(n);
    const input = f.createComplexArray() as number[];
    for (let k = 0; k < n; k++) { input[2 * k] = re[k]!; input[2 * k + 1] = im[k]!; }
    const out = f.createComplexArray() as number[];
    const theirs = () => f.transform(out, input);
    const batch = 200;
    const oursMs = time(() => { for (let b = 0; b < batch; b++) ours(); }, runs) / batch;
    const fftJsMs = time(() => { for (let b = 0; b < batch; b++) theirs(); }, runs) / batch;
    ours();
    rows.push({ case: `1-D complex, ${n} points`, oursMs, fftJsMs, maxDiff: maxDiff(r, Float64Array.from({ length: n }, (_, k) => out[2 * k]!)) });
  }
  for (const [w, h] of [[512, 512], [1024, 1024]] as const) {
    const re = random(w * h, 3);
    const im = new Float64Array(w * h);
    const s = new Spectrum(w, h);
    const oursMs = time(() => { s.re.set(re); s.im.fill(0); s.forward(); }, runs);
    let theirs: [Float64Array, Float64Array] = [new Float64Array(0), new Float64Array(0)];
    const fftJsMs = time(() => { theirs = fftJs2d(re, im, w, h); }, runs);
    rows.push({ case: `2-D complex field, ${w}x${h}`, oursMs, fftJsMs, maxDiff: maxDiff(s.re, theirs[0]) });
  }
  // The sizes only the mixed-radix FFT takes: the fields a 768x512 photo and a 1536 tile need.
  for (const [w, h] of [[800, 540], [1600, 1600]] as const) {
    const s = new Spectrum(w, h);
    const re = random(w * h, 5);
    const oursMs = time(() => { s.re.set(re); s.im.fill(0); s.forward(); }, runs);
    rows.push({ case: `2-D complex field, ${w}x${h} (not a power of two)`, oursMs, fftJsMs: null, maxDiff: null });
  }
  // What the estimator and the deconvolution run: real fields as half spectra (RealSpectrum).
  for (const [w, h] of [[1024, 1024], [1600, 1600]] as const) {
    const re = random(w * h, 6);
    const half = new RealSpectrum(w, h);
    const oursMs = time(() => { half.forward(re); }, runs);
    const full = new Spectrum(w, h);
    full.re.set(re);
    full.forward();
    let diff = 0;
    for (let y = 0; y < h; y++) {
      for (let k = 0; k < half.columns; k++) diff = Math.max(diff, Math.abs(half.re[y * half.columns + k]! - full.re[y * w + k]!));
    }
    let fftJsMs: number | null = null;
    if (w === 1024) fftJsMs = time(() => { fftJs2d(re, new Float64Array(w * h), w, h); }, runs);
    rows.push({ case: `2-D real field, ${w}x${h}, half spectrum (against our complex transform: max difference)`, oursMs, fftJsMs, maxDiff: diff });
  }
  return rows;
}

export function fftTable(rows: FftRow[]): Table {
  return {
    title: 'FFT: @sgenet/core (mixed-radix Stockham) vs fft.js (radix-4)',
    columns: ['transform', 'ours ms', 'fft.js ms', 'ours / fft.js', 'max |difference|'],
    rows: rows.map((r) => [
      r.case, num(r.oursMs, 3), r.fftJsMs === null ? '– (power of two only)' : num(r.fftJsMs, 3),
      r.fftJsMs === null ? '–' : `${num(r.oursMs / r.fftJsMs, 2)}×`, r.maxDiff === null ? '–' : r.maxDiff.toExponential(1),
    ]),
    notes: ['Median of 7 runs (1-D: of 200 transforms each), one thread, this run.'],
  };
}
