/**
 * Luma and half-resolution chroma (full-range BT.601 YCbCr, as JPEG defines it), the colour
 * planes of the deconvolution: luma carries the detail a deconvolution restores and is
 * deconvolved at full resolution; the two chroma planes are smooth in photos, so they are
 * deconvolved at half resolution (a quarter of the work each) and brought back bilinearly.
 *
 *   Y = 0.299 R + 0.587 G + 0.114 B,   Cb = (B − Y) / 1.772,   Cr = (R − Y) / 1.402
 */
import { LUMA, reflectIndex } from './image.js';
import type { PixelLayout } from './image.js';
import type { RawImage } from '../types.js';

const [KR, KG, KB] = LUMA;
const CB_SCALE = 2 * (1 - KB); // 1.772
const CR_SCALE = 2 * (1 - KR); // 1.402

/** A plane grid at half resolution: ceil(width / 2) x ceil(height / 2). */
export function halfSize(length: number): number {
  return (length + 1) >> 1;
}

/** Two chroma planes [Cb][Cr] of a half-resolution grid, row-major. */
export interface ChromaPlanes {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Reads a window of the half-resolution chroma grid, [2][h][w]: each sample is the mean Cb or Cr
 * of its 2x2 block of the photo; positions outside the photo are reflected, as `readTensor` does.
 * Written into `out` (2·w·h samples).
 */
export function readHalfChroma(
  image: RawImage, layout: PixelLayout, x0: number, y0: number, w: number, h: number, out: Float32Array = new Float32Array(2 * w * h),
): Float32Array {
  const { channels, maxValue, width, height } = layout;
  const data = image.data;
  const scale = 1 / (4 * maxValue);
  const cols = new Int32Array(2 * w);
  for (let x = 0; x < 2 * w; x++) cols[x] = reflectIndex(2 * x0 + x, width) * channels;
  for (let y = 0; y < h; y++) {
    const rowA = reflectIndex(2 * (y0 + y), height) * width * channels;
    const rowB = reflectIndex(2 * (y0 + y) + 1, height) * width * channels;
    for (let x = 0; x < w; x++) {
      const a = rowA + cols[2 * x]!, b = rowA + cols[2 * x + 1]!, c = rowB + cols[2 * x]!, d = rowB + cols[2 * x + 1]!;
      let r = data[a]! + data[b]! + data[c]! + data[d]!;
      let g = data[a + 1]! + data[b + 1]! + data[c + 1]! + data[d + 1]!;
      let bl = data[a + 2]! + data[b + 2]! + data[c + 2]! + data[d + 2]!;
      r *= scale; g *= scale; bl *= scale;
      const luma = KR * r + KG * g + KB * bl;
      out[y * w + x] = (bl - luma) / CB_SCALE;
      out[w * h + y * w + x] = (r - luma) / CR_SCALE;
    }
  }
  return out;
}

/**
 * Reads a window of the photo's luma, [h][w] in [0, 1]; positions outside are reflected. A grey
 * photo's luma is its grey channel (the same samples `readTensor` gives each of its three planes).
 */
export function readLuma(
  image: RawImage, layout: PixelLayout, x0: number, y0: number, w: number, h: number, out: Float32Array = new Float32Array(w * h),
): Float32Array {
  const { channels, colorChannels, maxValue, width, height } = layout;
  const data = image.data;
  const scale = 1 / maxValue;
  const kr = KR / maxValue, kg = KG / maxValue, kb = KB / maxValue;
  const cols = new Int32Array(w);
  for (let x = 0; x < w; x++) cols[x] = reflectIndex(x0 + x, width) * channels;
  for (let y = 0; y < h; y++) {
    const row = reflectIndex(y0 + y, height) * width * channels;
    if (colorChannels === 1) {
      for (let x = 0; x < w; x++) out[y * w + x] = data[row + cols[x]!]! * scale;
      continue;
    }
    for (let x = 0; x < w; x++) {
      const p = row + cols[x]!;
      out[y * w + x] = kr * data[p]! + kg * data[p + 1]! + kb * data[p + 2]!;
    }
  }
  return out;
}

/**
 * Planar RGB of a window (x0, y0, w, h) of the photo from its luma (w x h) and the half-resolution
 * chroma, sampled bilinearly at the window's pixel centres (half-grid sample i sits at full-grid
 * 2i + 0.5; beyond the grid's outer centres the edge value holds). Written into `into`, [3][h][w].
 */
export function rgbFromLumaChroma(
  luma: Float32Array, chroma: ChromaPlanes, x0: number, y0: number, w: number, h: number,
  into: Float32Array = new Float32Array(3 * w * h),
): Float32Array {
  const { width: cw, height: ch, data } = chroma;
  const n = w * h;
  const plane = cw * ch;
  const axis = (length: number, start: number, count: number) => {
    const lo = new Int32Array(count);
    const hi = new Int32Array(count);
    const frac = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const s = Math.max(0, Math.min(length - 1, (start + i - 0.5) / 2));
      lo[i] = Math.floor(s);
      hi[i] = Math.min(length - 1, lo[i]! + 1);
      frac[i] = s - lo[i]!;
    }
    return { lo, hi, frac };
  };
  const xs = axis(cw, x0, w);
  const ys = axis(ch, y0, h);
  for (let y = 0; y < h; y++) {
    const fy = ys.frac[y]!;
    const r0 = ys.lo[y]! * cw;
    const r1 = ys.hi[y]! * cw;
    for (let x = 0; x < w; x++) {
      const fx = xs.frac[x]!;
      const a = r0 + xs.lo[x]!, b = r0 + xs.hi[x]!, c = r1 + xs.lo[x]!, d = r1 + xs.hi[x]!;
      const cb = (1 - fy) * ((1 - fx) * data[a]! + fx * data[b]!) + fy * ((1 - fx) * data[c]! + fx * data[d]!);
      const cr = (1 - fy) * ((1 - fx) * data[plane + a]! + fx * data[plane + b]!) +
        fy * ((1 - fx) * data[plane + c]! + fx * data[plane + d]!);
      const i = y * w + x;
      const yv = luma[i]!;
      const red = yv + CR_SCALE * cr;
      const blue = yv + CB_SCALE * cb;
      into[i] = red;
      into[n + i] = (yv - KR * red - KB * blue) / KG;
      into[2 * n + i] = blue;
    }
  }
  return into;
}
