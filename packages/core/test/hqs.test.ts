/** The plug-and-play HQS data step against hand-computed solutions. */
import { describe, expect, it } from 'vitest';

import { hqsDataStep, hqsFieldSize } from '../src/deconvolve/hqs.js';
import { nextFftSize } from '../src/fft/fft.js';

const plane = (w: number, h: number, f: (x: number, y: number) => number) => {
  const p = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = f(x, y);
  return p;
};

describe('hqsDataStep', () => {
  const w = 23, h = 17;
  const y = plane(w, h, (x, r) => 0.5 + 0.3 * Math.sin(x / 3) * Math.cos(r / 4));
  const z = plane(w, h, (x, r) => ((x * 7 + r * 3) % 11) / 11);

  it('with the identity kernel is the weighted mean (y + αz) / (1 + α)', () => {
    const x = hqsDataStep(y, w, h, { width: 1, height: 1, data: Float32Array.of(1) }, 0.25, z);
    for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo((y[i]! + 0.25 * z[i]!) / 1.25, 10);
  });

  it('with a constant plane and any kernel returns the constant (k sums to 1, so k ⊛ c = c)', () => {
    const c = new Float64Array(w * h).fill(0.4);
    const kernel = { width: 5, height: 3, data: Float32Array.from([0, 0.1, 0.2, 0.1, 0, 0.05, 0.1, 0.1, 0.1, 0.05, 0, 0.05, 0.1, 0.05, 0]) };
    const x = hqsDataStep(c, w, h, kernel, 0.01);
    for (const v of x) expect(v).toBeCloseTo(0.4, 7); // the float32 kernel sums to 1 within 1e-8
  });

  it('uses the deconvolution tiles\' field: plane + kernel side + 8, on FFT sizes', () => {
    expect(hqsFieldSize(23, 17, 9)).toEqual({ width: 40, height: nextFftSize(17 + 17) });
  });

  it('rejects a non-positive alpha and mismatched planes with ERR_SGENET_INVALID_OPTION', () => {
    const k = { width: 1, height: 1, data: Float32Array.of(1) };
    const code = { code: 'ERR_SGENET_INVALID_OPTION' };
    expect(() => hqsDataStep(y, w, h, k, 0)).toThrow(expect.objectContaining(code));
    expect(() => hqsDataStep(y, w, h, k, Number.NaN)).toThrow(expect.objectContaining(code));
    expect(() => hqsDataStep(y, w, h + 1, k, 0.1)).toThrow(expect.objectContaining(code));
    expect(() => hqsDataStep(y, w, h, k, 0.1, new Float64Array(3))).toThrow(expect.objectContaining(code));
  });
});
