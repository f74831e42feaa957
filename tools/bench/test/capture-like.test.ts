/** The capture-like pairs' blur against hand-computed sRGB values, and their seeded draws. */
import { describe, expect, it } from 'vitest';

import { CAPTURE_JPEG_QUALITY, CAPTURE_NOISE_LEVELS, captureBlur, captureSettings, checkCaptureArgs, floorKey, linearToSrgb, srgbToLinear } from '../src/capture-like.js';

describe('capture-like pairs', () => {
  it('decodes and encodes sRGB as IEC 61966-2-1 does, and round-trips', () => {
    expect(srgbToLinear(0.5)).toBeCloseTo(0.214041, 5);
    expect(linearToSrgb(0.5)).toBeCloseTo(0.735357, 5);
    for (const v of [0, 0.02, 0.04045, 0.3, 0.99, 1]) expect(linearToSrgb(srgbToLinear(v))).toBeCloseTo(v, 6);
  });

  it('blurs in linear light: a black-white edge under a 3-tap box reads 156 and 213, not 85 and 170', async () => {
    const w = 10, h = 4;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 5; x < w; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const box = { width: 3, height: 1, data: Float32Array.from([1, 1, 1].map((v) => v / 3)) };
    const out = await captureBlur({ data, width: w, height: h, channels: 3 }, box, { noise: 0, quality: null }, 1);
    // Hand-computed: 255 · encode(1/3) = 156.2 and 255 · encode(2/3) = 213.2.
    for (let y = 0; y < h; y++) {
      for (let c = 0; c < 3; c++) {
        expect(out.data[(y * w + 4) * 3 + c]).toBe(156);
        expect(out.data[(y * w + 5) * 3 + c]).toBe(213);
        expect(out.data[(y * w + 2) * 3 + c]).toBe(0);
        expect(out.data[(y * w + 8) * 3 + c]).toBe(255);
      }
    }
  });

  it('draws each pair the same way from its seed, over the stated noise levels and JPEG qualities', () => {
    expect(captureSettings(1042)).toEqual(captureSettings(1042));
    const seen = Array.from({ length: 300 }, (_, i) => captureSettings(1000 + i));
    expect(new Set(seen.map((s) => Math.round(s.noise * 255 * 100) / 100))).toEqual(new Set(CAPTURE_NOISE_LEVELS));
    const qualities = seen.map((s) => s.quality!);
    expect(Math.min(...qualities)).toBe(CAPTURE_JPEG_QUALITY[0]);
    expect(Math.max(...qualities)).toBe(CAPTURE_JPEG_QUALITY[1]);
  });

  it('refuses command-line numbers it cannot run before anything runs, and names floors in 1/255 units', () => {
    const ok = { images: [1, 24], kernelOffsets: [0, 7], seed: 5000, floors: [0, 1.5 / 255] };
    expect(() => checkCaptureArgs(ok)).not.toThrow();
    expect(floorKey(1.5 / 255)).toBe('1.50');
    for (const [bad, message] of [
      [{ images: [0] }, /--images/], [{ images: [2.5] }, /--images/],
      [{ kernelOffsets: [-1] }, /--kernel-offsets/], [{ kernelOffsets: [8] }, /--kernel-offsets/],
      [{ seed: Number.NaN }, /--seed/],
      [{ floors: [0.06] }, /--floors/], [{ floors: [0.0058823, 1.5 / 255] }, /same floor twice/],
    ] as const) {
      expect(() => checkCaptureArgs({ ...ok, ...bad })).toThrow(message);
    }
  });
});
