/** The harder synthetic set's building blocks against direct computations. */
import { describe, expect, it } from 'vitest';

import { trajectoryKernel } from '@sgenet/core/synthetic';

import { blurPlane, kernelInRange, rotateKernel, runHardSet } from '../src/hard-set.js';
import { LARGE_PATH, SMALL_PATH } from '../src/kernel-cost.js';

describe('hard set', () => {
  it('blurs by FFT exactly as a direct convolution with a reflected border', () => {
    const w = 13, h = 9;
    const plane = Float64Array.from({ length: w * h }, (_, i) => Math.sin(i * 0.7) + (i % 5) * 0.1);
    const k = { width: 3, height: 3, data: Float32Array.from([0, 0.1, 0.2, 0.05, 0.3, 0, 0.15, 0.1, 0.1]) };
    const reflect = (i: number, n: number) => { const p = 2 * (n - 1); let m = i % p; if (m < 0) m += p; return m < n ? m : p - m; };
    const out = blurPlane(plane, w, h, k);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        // True convolution: out[y,x] = Σ k[j,i] · in[y − (j − 1), x − (i − 1)].
        for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) acc += k.data[j * 3 + i]! * plane[reflect(y - (j - 1), h) * w + reflect(x - (i - 1), w)]!;
        expect(out[y * w + x]).toBeCloseTo(acc, 9);
      }
    }
  });

  it('turns a kernel: 0° keeps it, 180° mirrors it through its centre', () => {
    const k = { width: 5, height: 5, data: new Float32Array(25) };
    k.data[2 * 5 + 3] = 0.75; k.data[0 * 5 + 1] = 0.25;
    const same = rotateKernel(k, 0); // the 5x5 kernel centred in a square that holds any turn of it
    const s = same.width, o = (s - 5) / 2;
    expect(s).toBe(9);
    expect(same.data[(2 + o) * s + 3 + o]).toBeCloseTo(0.75, 6);
    expect(same.data[(0 + o) * s + 1 + o]).toBeCloseTo(0.25, 6);
    const turned = rotateKernel(k, 180); // (y, x) -> (4 - y, 4 - x) in the 5x5 frame
    expect(turned.data[(2 + o) * s + 1 + o]).toBeCloseTo(0.75, 5);
    expect(turned.data[(4 + o) * s + 3 + o]).toBeCloseTo(0.25, 5);
  });

  it('finds project kernels in each size range', () => {
    for (const [lo, hi] of [[5, 15], [51, 101]] as const) {
      const k = kernelInRange(lo, hi, 3);
      expect(k.width).toBeGreaterThanOrEqual(lo);
      expect(k.width).toBeLessThanOrEqual(hi);
    }
  });
  it('runs photos from --from on, so a held-out check leaves out the photos a rule was read from', async () => {
    const results = await runHardSet({ groups: ['small'], perGroup: 2, from: 1 });
    expect(results.map((r) => [r.group, r.index])).toEqual([['small', 1]]);
  }, 120_000);

  it('plants a 13 px path for the kernel cost, and a 95 px one for its 75-101 px case', () => {
    expect(trajectoryKernel(SMALL_PATH).width).toBe(13);
    expect(trajectoryKernel(LARGE_PATH).width).toBe(95);
  });
});
