import { describe, expect, it } from 'vitest';

import { spectralEvidence } from '../src/kernel/spectral-evidence.js';
import type { Plane } from '../src/pixels/planes.js';
import { deadLeaves, seededRandom } from '../src/synthetic/index.js';

/** A line kernel of `length` taps through the centre of a `size` square, horizontal or vertical. */
function lineKernel(size: number, length: number, vertical: boolean): Float64Array {
  const k = new Float64Array(size * size);
  const c = (size - 1) / 2;
  for (let i = 0; i < length; i++) {
    const t = c - (length - 1) / 2 + i;
    k[vertical ? t * size + c : c * size + t] = 1 / length;
  }
  return k;
}

/** Circular convolution by direct summation (no FFT: the truth the measure is checked against). */
function convolve(p: Plane, k: Float64Array, size: number): Plane {
  const { width: w, height: h } = p;
  const out = new Float64Array(w * h);
  const c = (size - 1) / 2;
  const taps: [number, number, number][] = [];
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (k[y * size + x]! > 0) taps.push([x - c, y - c, k[y * size + x]!]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [dx, dy, v] of taps) s += v * p.data[((y - dy + h) % h) * w + ((x - dx + w) % w)]!;
      out[y * w + x] = s;
    }
  }
  return { width: w, height: h, data: out };
}

function noisePlane(w: number, h: number, sigma: number, seed: number): Plane {
  const rand = seededRandom(seed);
  const data = new Float64Array(w * h);
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand())), a = 2 * Math.PI * rand();
    data[i] = sigma * r * Math.cos(a);
    if (i + 1 < data.length) data[i + 1] = sigma * r * Math.sin(a);
  }
  return { width: w, height: h, data };
}

function add(a: Plane, b: Plane): Plane {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]!) };
}

function leaves(w: number, h: number, seed: number): Plane {
  const img = deadLeaves(w, h, seed);
  const data = new Float64Array(w * h);
  for (let i = 0; i < data.length; i++) data[i] = (0.2126 * img.data[3 * i]! + 0.7152 * img.data[3 * i + 1]! + 0.0722 * img.data[3 * i + 2]!) / 255;
  return { width: w, height: h, data };
}

describe('spectralEvidence (the photo\'s spectrum against the kernel\'s)', () => {
  const size = 31;
  const horizontal = lineKernel(size, 21, false);
  const vertical = lineKernel(size, 21, true);

  it('is close to 1 for white noise blurred by the kernel: its spectrum is exactly |K|² x a constant', () => {
    const blurred = convolve(noisePlane(512, 512, 0.2, 1), horizontal, size);
    expect(spectralEvidence(blurred, horizontal, size)).toBeGreaterThan(0.9);
  });

  it('finds a planted path on a natural-like scene, and neither the path turned 90° nor the identity', () => {
    const blurry = add(convolve(leaves(512, 512, 3), horizontal, size), noisePlane(512, 512, 0.005, 2));
    const right = spectralEvidence(blurry, horizontal, size);
    expect(right).toBeGreaterThanOrEqual(0.8);
    expect(spectralEvidence(blurry, vertical, size)).toBeLessThan(0.05);
    const dot = new Float64Array(size * size);
    dot[(size * size - 1) / 2] = 1;
    expect(spectralEvidence(blurry, dot, size)).toBe(0);
  });

  it('is low for the same path on the sharp scene it did not blur', () => {
    const sharp = add(leaves(512, 512, 3), noisePlane(512, 512, 0.005, 2));
    expect(spectralEvidence(sharp, horizontal, size)).toBeLessThan(0.15);
  });

  it('reads a large kernel on the larger patch, a non-square plane, and a plane large enough to thin its patches', () => {
    const big = 75;
    const long = lineKernel(big, 61, false);
    // 12 patches of 256 on this plane: a noisier spectrum than 128's, hence a lower ceiling.
    const wide = convolve(noisePlane(640, 520, 0.2, 6), long, big);
    expect(spectralEvidence(wide, long, big)).toBeGreaterThan(0.6);
    expect(spectralEvidence(wide, lineKernel(big, 61, true), big)).toBeLessThan(0.05);
    // 1400² holds 21 x 21 half-overlapping patches of 128, more than the 256 averaged.
    const large = convolve(noisePlane(1400, 1400, 0.2, 7), horizontal, size);
    expect(spectralEvidence(large, horizontal, size)).toBeGreaterThan(0.9);
  });

  it('is 0, never NaN, on a flat plane, on pure noise, and on a plane smaller than its patch', () => {
    expect(spectralEvidence({ width: 256, height: 256, data: new Float64Array(256 * 256).fill(0.5) }, horizontal, size)).toBe(0);
    const noise = spectralEvidence(noisePlane(256, 256, 0.05, 4), horizontal, size);
    expect(Number.isNaN(noise)).toBe(false);
    expect(noise).toBeLessThan(0.05);
    expect(spectralEvidence(leaves(100, 300, 5), horizontal, size)).toBe(0);
  });
});
