/**
 * Where to estimate: the kernel is the same everywhere under uniform shake, but only edges carry
 * information about it, so the estimator works on the most textured window that fits its FFT
 * field, and leaves saturated pixels out of the count.
 */
import { isRealFftSize } from '../fft/real.js';
import type { Plane } from '../pixels/planes.js';

export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The texture of a plane summed once: an integral image of its gradient magnitudes (pixels at or
 * above `saturation` count zero). Every window search of one estimation reads it: the photo's
 * window, each refinement level's and each region's (work done once, not per search).
 */
export class TextureMap {
  private readonly integral: Float64Array;
  private readonly w: number;
  private readonly h: number;

  constructor(plane: Plane, saturation: number) {
    const { width: w, height: h, data } = plane;
    this.w = w;
    this.h = h;
    this.integral = new Float64Array((w + 1) * (h + 1));
    for (let y = 0; y < h; y++) {
      let row = 0;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const v = data[i]!;
        const gx = x + 1 < w ? data[i + 1]! - v : 0;
        const gy = y + 1 < h ? data[i + w]! - v : 0;
        row += v >= saturation ? 0 : Math.abs(gx) + Math.abs(gy);
        this.integral[(y + 1) * (w + 1) + x + 1] = this.integral[y * (w + 1) + x + 1]! + row;
      }
    }
  }

  /**
   * The `width` x `height` window (clipped to `bounds`, default the whole plane) inside `bounds`
   * with the largest sum of gradient magnitudes, searched on an 8 px grid. Ties keep the first
   * (top-left-most) window: deterministic.
   */
  mostTextured(width: number, height: number, bounds: Window = { x: 0, y: 0, width: this.w, height: this.h }): Window {
    const ww = Math.min(width, bounds.width);
    const wh = Math.min(height, bounds.height);
    if (ww === bounds.width && wh === bounds.height) return { ...bounds };
    const stride = this.w + 1;
    const table = this.integral;
    const sum = (x: number, y: number) =>
      table[(y + wh) * stride + x + ww]! - table[y * stride + x + ww]! - table[(y + wh) * stride + x]! + table[y * stride + x]!;
    let best = { x: bounds.x, y: bounds.y, score: -1 };
    const stepX = Math.max(1, Math.min(8, bounds.width - ww));
    const stepY = Math.max(1, Math.min(8, bounds.height - wh));
    for (let y = bounds.y; y <= bounds.y + bounds.height - wh; y += stepY) {
      for (let x = bounds.x; x <= bounds.x + bounds.width - ww; x += stepX) {
        const s = sum(x, y);
        if (s > best.score) best = { x, y, score: s };
      }
    }
    return { x: best.x, y: best.y, width: ww, height: wh };
  }
}

/** The pixels of `plane` under `w` (inside the plane), as a plane of their own. */
export function cropPlane(plane: Plane, w: Window): Plane {
  const data = new Float64Array(w.width * w.height);
  for (let y = 0; y < w.height; y++) {
    const from = (w.y + y) * plane.width + w.x;
    data.set(plane.data.subarray(from, from + w.width), y * w.width);
  }
  return { width: w.width, height: w.height, data };
}

/**
 * The window side whose FFT field (window plus a kernel-wide bridge) is the largest square of at
 * most `field` px that the real FFT takes without padding: `field` itself for the default 512.
 */
export function fittedWindowSide(field: number, kernelSize: number): number {
  let f = field;
  while (f > kernelSize + 16 && !isRealFftSize(f, f)) f--;
  return f - kernelSize;
}
