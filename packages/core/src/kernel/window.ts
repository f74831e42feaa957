/**
 * Where to estimate: the kernel is the same everywhere under uniform shake, but only edges carry
 * information about it, so the estimator works on the most textured window that fits its FFT
 * field, and leaves saturated pixels out of the count.
 */
import type { Plane } from '../pixels/planes.js';

export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The `width` x `height` window of `plane` with the largest sum of gradient magnitudes (pixels at
 * or above `saturation` count zero), searched on an 8 px grid with an integral image. Ties keep
 * the first (top-left-most) window: deterministic. With `bounds`, the window lies inside them (a
 * region of the photo: per-region kernels, regions.ts).
 */
export function mostTexturedWindow(plane: Plane, width: number, height: number, saturation: number, bounds?: Window): Window {
  if (bounds) {
    const inner = mostTexturedWindow(cropPlane(plane, bounds), width, height, saturation);
    return { ...inner, x: inner.x + bounds.x, y: inner.y + bounds.y };
  }
  const { width: w, height: h, data } = plane;
  const ww = Math.min(width, w);
  const wh = Math.min(height, h);
  if (ww === w && wh === h) return { x: 0, y: 0, width: w, height: h };
  const integral = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = data[i]!;
      const gx = x + 1 < w ? data[i + 1]! - v : 0;
      const gy = y + 1 < h ? data[i + w]! - v : 0;
      row += v >= saturation ? 0 : Math.abs(gx) + Math.abs(gy);
      integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1]! + row;
    }
  }
  const sum = (x: number, y: number) =>
    integral[(y + wh) * (w + 1) + x + ww]! - integral[y * (w + 1) + x + ww]! -
    integral[(y + wh) * (w + 1) + x]! + integral[y * (w + 1) + x]!;
  let best = { x: 0, y: 0, score: -1 };
  const stepX = Math.max(1, Math.min(8, w - ww));
  const stepY = Math.max(1, Math.min(8, h - wh));
  for (let y = 0; y <= h - wh; y += stepY) {
    for (let x = 0; x <= w - ww; x += stepX) {
      const s = sum(x, y);
      if (s > best.score) best = { x, y, score: s };
    }
  }
  return { x: best.x, y: best.y, width: ww, height: wh };
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
