import { describe, expect, it } from 'vitest';

import { deconvolve } from '../src/deconvolve/deconvolve.js';
import { halveKernel } from '../src/deconvolve/half-kernel.js';
import { InvalidOptionError } from '../src/errors.js';
import { describeImage, readTensor } from '../src/pixels/image.js';
import { halfSize, readHalfChroma, readLuma, rgbFromLumaChroma } from '../src/pixels/ycbcr.js';
import { applyBlur, deadLeaves, psnr, trajectoryKernel } from '../src/synthetic/index.js';
import type { RawImage } from '../src/types.js';
import { polylineKernel } from './kernel-helpers.js';

/** A photo whose colour varies smoothly (bilinear chroma is exact on it up to the 8-bit step). */
function smoothPhoto(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = Math.round(40 + (180 * x) / width);
      data[p + 1] = Math.round(200 - (150 * y) / height);
      data[p + 2] = Math.round(90 + 60 * Math.sin(x / 17) * Math.cos(y / 23));
    }
  }
  return { data, width, height, channels: 3 };
}

/** 2x2 box downscale of one float plane (odd sides reflect, as readHalfChroma does). */
function boxHalf(p: Float64Array, w: number, h: number): Float64Array {
  const hw = halfSize(w), hh = halfSize(h);
  const at = (x: number, y: number) => p[Math.min(y, 2 * h - 2 - y) * w + Math.min(x, 2 * w - 2 - x)]!;
  return Float64Array.from({ length: hw * hh }, (_, i) => {
    const x = 2 * (i % hw), y = 2 * Math.floor(i / hw);
    return (at(x, y) + at(x + 1, y) + at(x, y + 1) + at(x + 1, y + 1)) / 4;
  });
}

/** Circular convolution by direct sums (the independent truth for the half kernel). */
function convolve(p: Float64Array, w: number, h: number, k: { width: number; height: number; data: Float32Array }): Float64Array {
  const out = new Float64Array(w * h);
  const cx = (k.width - 1) / 2, cy = (k.height - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < k.height; j++) {
        for (let i = 0; i < k.width; i++) {
          const yy = (((y - (j - cy)) % h) + h) % h, xx = (((x - (i - cx)) % w) + w) % w;
          s += k.data[j * k.width + i]! * p[yy * w + xx]!;
        }
      }
      out[y * w + x] = s;
    }
  }
  return out;
}

describe('luma and half-resolution chroma (pixels/ycbcr.ts)', () => {
  it('round-trips a photo of smooth colour, and a flat colour exactly', () => {
    for (const photo of [smoothPhoto(97, 64), { data: new Uint8Array(33 * 21 * 3).map((_, i) => [200, 30, 120][i % 3]!), width: 33, height: 21, channels: 3 }]) {
      const layout = describeImage(photo, 1 << 24);
      const { width: w, height: h } = photo;
      const rgb = readTensor(photo, layout, 0, 0, w, h);
      const chroma = { width: halfSize(w), height: halfSize(h), data: readHalfChroma(photo, layout, 0, 0, halfSize(w), halfSize(h)) };
      const back = rgbFromLumaChroma(readLuma(photo, layout, 0, 0, w, h), chroma, 0, 0, w, h);
      let worst = 0;
      for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i]! - rgb[i]!));
      expect(worst).toBeLessThan(photo.width === 33 ? 1e-6 : 4 / 255);
    }
  });

  it('reads any window of the chroma grid as the whole grid has it', () => {
    const photo = deadLeaves(75, 51, 4);
    const layout = describeImage(photo, 1 << 24);
    const whole = readHalfChroma(photo, layout, 0, 0, 38, 26);
    const part = readHalfChroma(photo, layout, 5, 7, 20, 11);
    for (let c = 0; c < 2; c++) {
      for (let y = 0; y < 11; y++) {
        for (let x = 0; x < 20; x++) expect(part[c * 220 + y * 20 + x]).toBeCloseTo(whole[c * 38 * 26 + (y + 7) * 38 + x + 5]!, 6);
      }
    }
  });
});

describe('halveKernel', () => {
  it('keeps the mass, and blurring then halving equals halving then blurring with it', () => {
    const w = 96, h = 64;
    const scene = deadLeaves(w, h, 7);
    const plane = Float64Array.from({ length: w * h }, (_, i) => scene.data[3 * i + 1]! / 255);
    for (const k of [trajectoryKernel({ length: 17, seed: 4 }), polylineKernel([[-7, 0], [7, 0]], 15), polylineKernel([[-5, -5], [5, 5]], 13)]) {
      const half = halveKernel(k);
      expect(half.width % 2).toBe(1);
      expect(half.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      const a = boxHalf(convolve(plane, w, h, k), w, h);
      const b = convolve(boxHalf(plane, w, h), halfSize(w), halfSize(h), half);
      const blurOnly = boxHalf(plane, w, h);
      let err = 0, signal = 0;
      for (let i = 0; i < a.length; i++) { err += (a[i]! - b[i]!) ** 2; signal += (a[i]! - blurOnly[i]!) ** 2; }
      // The half kernel explains the blur at half resolution to a few percent of what the blur changed.
      expect(Math.sqrt(err / signal)).toBeLessThan(0.2);
    }
    expect(halveKernel({ width: 1, height: 1, data: Float32Array.of(1) }).data).toEqual(Float32Array.of(1));
  });
});

describe("deconvolve's colour planes", () => {
  it("'ycbcr' (default) restores a planted kernel as well as 'rgb' does, and grey photos take one plane", async () => {
    const kernel = polylineKernel([[-6, -3], [5, 2], [5, 6]], 17);
    const sharp = deadLeaves(256, 192, 5);
    const blurry = applyBlur(sharp, kernel, { noise: 0.005, seed: 1 });
    const ycbcr = psnr(sharp, await deconvolve(blurry, kernel));
    const rgb = psnr(sharp, await deconvolve(blurry, kernel, { color: 'rgb' }));
    console.log(`blurry ${psnr(sharp, blurry).toFixed(2)} dB, ycbcr ${ycbcr.toFixed(2)}, rgb ${rgb.toFixed(2)}`);
    expect(ycbcr).toBeGreaterThan(psnr(sharp, blurry) + 3);
    expect(ycbcr).toBeGreaterThan(rgb - 0.5);
    await expect(deconvolve(blurry, kernel, { color: 'lab' as never })).rejects.toThrow(InvalidOptionError);
    const grey = { data: blurry.data.filter((_, i) => i % 3 === 1), width: 256, height: 192, channels: 1 };
    expect((await deconvolve(grey, kernel)).data).toEqual((await deconvolve(grey, kernel, { color: 'rgb' })).data);
    // A grey photo's one plane is read as readTensor reads each of its three, sample for sample,
    // reflected windows and 16-bit samples included.
    const grey16 = { data: Uint16Array.from(grey.data, (v) => v * 257), width: 256, height: 192, channels: 1 };
    for (const photo of [grey, grey16]) {
      const layout = describeImage(photo, 1 << 24);
      const three = readTensor(photo, layout, -7, 180, 40, 30);
      expect(Array.from(readLuma(photo, layout, -7, 180, 40, 30))).toEqual(Array.from(three.subarray(0, 40 * 30)));
    }
  });
});
