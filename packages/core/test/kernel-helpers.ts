/** Project-made kernels and scenes for the estimator's tests (no third-party data). */
import { applyBlur, deadLeaves, trajectoryKernel } from '../src/synthetic/index.js';
import { reflectIndex } from '../src/pixels/image.js';
import type { BlurKernel, RawImage } from '../src/types.js';

/** A kernel drawn along a polyline of (x, y) points, splatted bilinearly, sum 1. */
export function polylineKernel(points: [number, number][], size: number): BlurKernel {
  const data = new Float32Array(size * size);
  const c = (size - 1) / 2;
  for (let s = 0; s + 1 < points.length; s++) {
    const [x0, y0] = points[s]!;
    const [x1, y1] = points[s + 1]!;
    const steps = Math.ceil(4 * Math.hypot(x1 - x0, y1 - y0)) + 1;
    for (let i = 0; i < steps; i++) {
      const t = i / steps;
      const x = c + x0 + t * (x1 - x0);
      const y = c + y0 + t * (y1 - y0);
      const ix = Math.floor(x), iy = Math.floor(y), fx = x - ix, fy = y - iy;
      const put = (xx: number, yy: number, w: number) => { if (xx >= 0 && yy >= 0 && xx < size && yy < size) data[yy * size + xx]! += w; };
      put(ix, iy, (1 - fx) * (1 - fy)); put(ix + 1, iy, fx * (1 - fy)); put(ix, iy + 1, (1 - fx) * fy); put(ix + 1, iy + 1, fx * fy);
    }
  }
  let sum = 0;
  for (const v of data) sum += v;
  for (let i = 0; i < data.length; i++) data[i]! /= sum;
  return { width: size, height: size, data };
}

/** The shapes the estimator must recover: curled and sweeping camera paths, a line, an L, an arc. */
export const TEST_KERNELS: { name: string; kernel: BlurKernel }[] = [
  { name: 'trajectory 11 px', kernel: trajectoryKernel({ length: 11, seed: 3 }) },
  { name: 'trajectory 15 px', kernel: trajectoryKernel({ length: 15, seed: 5 }) },
  { name: 'trajectory 19 px', kernel: trajectoryKernel({ length: 19, seed: 8 }) },
  { name: 'S-shaped sweep 25 px', kernel: polylineKernel(Array.from({ length: 17 }, (_, i) => [i * 1.4 - 11.2, 4 * Math.sin(i / 2.7)] as [number, number]), 25) },
  { name: 'diagonal line 13 px', kernel: polylineKernel([[-4.5, -4.5], [4.5, 4.5]], 15) },
  { name: 'L-shaped jerk', kernel: polylineKernel([[-6, -4], [4, -4], [4, 5]], 17) },
  { name: 'arc', kernel: polylineKernel(Array.from({ length: 13 }, (_, i) => [8 * Math.cos(0.2 * i), 8 * Math.sin(0.2 * i) - 4] as [number, number]), 19) },
  { name: 'trajectory 27 px', kernel: trajectoryKernel({ length: 27, seed: 21 }) },
];

/** A dead-leaves scene blurred by `kernel`, noise σ = 0.5%. */
export function shakenScene(kernel: BlurKernel, seed = 4, width = 384, height = 320): { sharp: RawImage; blurry: RawImage } {
  const sharp = deadLeaves(width, height, seed);
  return { sharp, blurry: applyBlur(sharp, kernel, { noise: 0.005, seed }) };
}

/**
 * The shift (dx, dy) of `b` against `a`, both placed centre on centre, that maximises their
 * normalised cross-correlation (within ±radius taps), and that correlation.
 */
export function kernelBestShift(a: BlurKernel, b: BlurKernel, radius = 6): { dx: number; dy: number; ncc: number } {
  const side = Math.max(a.width, a.height, b.width, b.height) + 2 * radius + 2;
  const place = (k: BlurKernel) => {
    const out = new Float64Array(side * side);
    const ox = (side - k.width) >> 1;
    const oy = (side - k.height) >> 1;
    for (let y = 0; y < k.height; y++) for (let x = 0; x < k.width; x++) out[(y + oy) * side + x + ox] = k.data[y * k.width + x]!;
    return out;
  };
  const pa = place(a);
  const pb = place(b);
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const na = norm(pa) * norm(pb);
  let best = { dx: 0, dy: 0, ncc: -Infinity };
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      let s = 0;
      for (let y = Math.max(0, -dy); y < Math.min(side, side - dy); y++) {
        for (let x = Math.max(0, -dx); x < Math.min(side, side - dx); x++) s += pa[y * side + x]! * pb[(y + dy) * side + x + dx]!;
      }
      if (s / na > best.ncc) best = { dx, dy, ncc: s / na };
    }
  }
  return best;
}

/** Normalised cross-correlation of two kernels at their best relative shift (within ±radius). */
export function kernelNcc(a: BlurKernel, b: BlurKernel, radius = 6): number {
  return kernelBestShift(a, b, radius).ncc;
}

/**
 * A dead-leaves scene with bright lights (4-10x white) blurred by `kernel` in linear light, then
 * clipped and gamma-encoded, noise σ = 0.5%: what a shaken night photo's street lights become.
 */
export function saturatedScene(kernel: BlurKernel, seed = 6, width = 320, height = 256): RawImage {
  return saturatedPair(kernel, seed, width, height).blurry;
}

/** {@link saturatedScene} and its sharp scene (the lights clipped and encoded the same way, no noise). */
export function saturatedPair(kernel: BlurKernel, seed = 6, width = 320, height = 256): { sharp: RawImage; blurry: RawImage } {
  const base = deadLeaves(width, height, seed);
  const toLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const planes = [0, 1, 2].map((c) => Float64Array.from({ length: width * height }, (_, i) => toLinear(base.data[i * 3 + c]! / 255)));
  let s = seed * 7919;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let n = 0; n < 16; n++) {
    const cx = rand() * width, cy = rand() * height, r = 1.5 + 3 * rand(), gain = 4 + 6 * rand();
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(height - 1, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(width - 1, Math.ceil(cx + r)); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) for (const p of planes) p[y * width + x] = gain;
      }
    }
  }
  const hx = (kernel.width - 1) >> 1, hy = (kernel.height - 1) >> 1;
  const data = new Uint8Array(width * height * 3);
  const sharp = new Uint8Array(width * height * 3);
  const encode = (linear: number) => {
    const v = Math.min(1, linear); // the sensor clips
    return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
  };
  for (let c = 0; c < 3; c++) {
    const p = planes[c]!;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let acc = 0;
        for (let j = 0; j < kernel.height; j++) {
          for (let i = 0; i < kernel.width; i++) {
            const w = kernel.data[j * kernel.width + i]!;
            if (w > 0) acc += w * p[reflectIndex(y - (j - hy), height) * width + reflectIndex(x - (i - hx), width)]!;
          }
        }
        sharp[(y * width + x) * 3 + c] = Math.round(255 * encode(p[y * width + x]!));
        const encoded = encode(acc);
        data[(y * width + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, encoded + 0.005 * (rand() + rand() + rand() - 1.5) * 2)));
      }
    }
  }
  return { sharp: { data: sharp, width, height, channels: 3 }, blurry: { data, width, height, channels: 3 } };
}
