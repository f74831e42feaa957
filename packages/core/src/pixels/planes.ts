/**
 * Float planes: one channel of an image as Float64 samples in [0, 1], the working format of the
 * kernel estimator and the deconvolution.
 */
import type { RawImage } from '../types.js';
import type { PixelLayout } from './image.js';

/** One channel, row-major, samples nominally in [0, 1]. */
export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

/** Rec. 709 luminance weights, applied to linear or to encoded RGB. */
const LUMINANCE = [0.2126, 0.7152, 0.0722] as const;

/** The sRGB transfer curve (IEC 61966-2-1), encoded → linear. */
export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** The sRGB transfer curve, linear → encoded. */
export function linearToSrgb(v: number): number {
  const c = v < 0 ? 0 : v;
  return c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055;
}

/**
 * The luminance of a window of an image as a plane. `linear` decodes sRGB first, so that the
 * plane is proportional to light, where camera shake actually adds up.
 */
export function luminancePlane(
  image: RawImage,
  layout: PixelLayout,
  window: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: layout.width, height: layout.height },
  linear = false,
): Plane {
  const { channels, colorChannels, maxValue, width } = layout;
  const decode = linear ? lookupTable(maxValue) : undefined;
  const out = new Float64Array(window.width * window.height);
  const src = image.data;
  for (let y = 0; y < window.height; y++) {
    const row = ((window.y + y) * width + window.x) * channels;
    for (let x = 0; x < window.width; x++) {
      const p = row + x * channels;
      let v: number;
      if (colorChannels === 3) {
        v = decode
          ? LUMINANCE[0] * decode[src[p]!]! + LUMINANCE[1] * decode[src[p + 1]!]! + LUMINANCE[2] * decode[src[p + 2]!]!
          : (LUMINANCE[0] * src[p]! + LUMINANCE[1] * src[p + 1]! + LUMINANCE[2] * src[p + 2]!) / maxValue;
      } else {
        v = decode ? decode[src[p]!]! : src[p]! / maxValue;
      }
      out[y * window.width + x] = v;
    }
  }
  return { width: window.width, height: window.height, data: out };
}

const tables = new Map<number, Float64Array>();
function lookupTable(maxValue: number): Float64Array {
  let t = tables.get(maxValue);
  if (!t) {
    t = new Float64Array(maxValue + 1);
    for (let i = 0; i <= maxValue; i++) t[i] = srgbToLinear(i / maxValue);
    tables.set(maxValue, t);
  }
  return t;
}

/**
 * Resamples a plane to `width` x `height`. Shrinking averages the source area each target pixel
 * covers (no aliasing of fine texture into false edges); enlarging interpolates bilinearly.
 * Pixel centres are aligned (target centre i maps to source (i + 0.5) * scale - 0.5).
 */
export function resizePlane(plane: Plane, width: number, height: number): Plane {
  const rows = resizeAxis(plane.data, plane.width, plane.height, width, true);
  const data = resizeAxis(rows, width, plane.height, height, false);
  return { width, height, data };
}

/**
 * `resizePlane(luminancePlane(image, layout, undefined, linear), width, height)` without the
 * full-resolution plane: rows are read and shrunk along x in strips, so a 12 MP photo never holds
 * its 96 MB luminance at once. The same numbers (the x pass is per row).
 */
export function luminanceResized(image: RawImage, layout: PixelLayout, width: number, height: number, linear = false): Plane {
  const strip = 128;
  const rows = new Float64Array(width * layout.height);
  for (let y = 0; y < layout.height; y += strip) {
    const h = Math.min(strip, layout.height - y);
    const lum = luminancePlane(image, layout, { x: 0, y, width: layout.width, height: h }, linear);
    rows.set(resizeAxis(lum.data, layout.width, h, width, true), y * width);
  }
  return { width, height, data: resizeAxis(rows, width, layout.height, height, false) };
}

/** Resamples along x (`alongX`) or y; the other axis keeps its length. */
function resizeAxis(src: Float64Array, w: number, h: number, target: number, alongX: boolean): Float64Array {
  const n = alongX ? w : h;
  const other = alongX ? h : w;
  const out = new Float64Array(alongX ? target * h : w * target);
  const scale = n / target;
  const at = (line: number, i: number) => (alongX ? src[line * w + i]! : src[i * w + line]!);
  const put = (line: number, i: number, v: number) => {
    if (alongX) out[line * target + i] = v;
    else out[i * w + line] = v;
  };
  for (let i = 0; i < target; i++) {
    if (scale > 1) {
      // Box average over [i * scale, (i + 1) * scale), partial pixels weighted by coverage.
      const a = i * scale;
      const b = a + scale;
      for (let line = 0; line < other; line++) {
        let acc = 0;
        for (let s = Math.floor(a); s < Math.ceil(b); s++) {
          const cover = Math.min(b, s + 1) - Math.max(a, s);
          acc += cover * at(line, Math.min(s, n - 1));
        }
        put(line, i, acc / scale);
      }
    } else {
      const pos = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), n - 1);
      const s0 = Math.floor(pos);
      const s1 = Math.min(s0 + 1, n - 1);
      const f = pos - s0;
      for (let line = 0; line < other; line++) put(line, i, (1 - f) * at(line, s0) + f * at(line, s1));
    }
  }
  return out;
}
