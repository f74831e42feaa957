import { ImageTooLargeError, InvalidImageError } from '../errors.js';
import type { RawImage } from '../types.js';
import { invalidOption, isIntegerInRange, isPlainObject } from '../validate.js';

/** Facts about a {@link RawImage} that the converters need. */
export interface PixelLayout {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** 1 (grey) or 3 (RGB). */
  colorChannels: 1 | 3;
  hasAlpha: boolean;
  /** 255 or 65535. */
  maxValue: number;
}

/** Largest side accepted (sharp's own limit). */
export const MAX_SIDE = 0x3fff * 4;

/** Checks a RawImage handed in by a caller and describes its layout. */
export function describeImage(image: unknown, maxPixels: number): PixelLayout {
  if (!isPlainObject(image)) throw invalidOption('image', 'an object { data, width, height, channels }', image);
  const { data, width, height, channels } = image;
  if (!isIntegerInRange(width, 1, MAX_SIDE)) throw invalidOption('image.width', `an integer between 1 and ${MAX_SIDE}`, width);
  if (!isIntegerInRange(height, 1, MAX_SIDE)) throw invalidOption('image.height', `an integer between 1 and ${MAX_SIDE}`, height);
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw invalidOption('image.channels', '1, 2, 3 or 4', channels);
  }
  let maxValue: number;
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) maxValue = 255;
  else if (data instanceof Uint16Array) maxValue = 65535;
  else throw invalidOption('image.data', 'a Uint8Array, Uint8ClampedArray or Uint16Array', data);
  if (width * height > maxPixels) {
    throw new ImageTooLargeError(
      `Image of ${width}x${height} = ${width * height} pixels exceeds the limit of ${maxPixels}; ` +
        'raise maxPixels or downscale the image first',
    );
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new InvalidImageError(
      `image.data has ${data.length} samples but ${width}x${height}x${channels} needs ${expected}; ` +
        'pass interleaved pixels without row padding',
    );
  }
  return {
    width,
    height,
    channels,
    colorChannels: channels >= 3 ? 3 : 1,
    hasAlpha: channels === 2 || channels === 4,
    maxValue,
  };
}

/** Mirror index into [0, n) without repeating the edge pixel (numpy/ONNX "reflect"). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Reads a window of the image as a planar RGB float tensor in [0, 1] (NCHW, N = 1). Positions
 * outside the image are reflected; grey images are replicated into the three planes.
 */
export function readTensor(
  image: RawImage,
  layout: PixelLayout,
  x0: number,
  y0: number,
  w: number,
  h: number,
  out: Float32Array = new Float32Array(3 * w * h),
): Float32Array {
  const plane = w * h;
  const { channels, colorChannels, maxValue, width, height } = layout;
  const scale = 1 / maxValue;
  const data = image.data;
  const xs = new Int32Array(w);
  for (let x = 0; x < w; x++) xs[x] = reflectIndex(x0 + x, width) * channels;
  for (let y = 0; y < h; y++) {
    const rowBase = reflectIndex(y0 + y, height) * width * channels;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const p = rowBase + xs[x]!;
      if (colorChannels === 3) {
        out[o + x] = data[p]! * scale;
        out[plane + o + x] = data[p + 1]! * scale;
        out[2 * plane + o + x] = data[p + 2]! * scale;
      } else {
        const v = data[p]! * scale;
        out[o + x] = v;
        out[plane + o + x] = v;
        out[2 * plane + o + x] = v;
      }
    }
  }
  return out;
}

/** Allocates an output image shaped like the input, same sample type. */
export function allocateLike(image: RawImage, layout: PixelLayout): RawImage {
  const n = layout.width * layout.height * layout.channels;
  const data = layout.maxValue === 255 ? new Uint8Array(n) : new Uint16Array(n);
  return { data, width: layout.width, height: layout.height, channels: layout.channels };
}

/** Rec. 601 luma: how an RGB restoration of a grey image is folded back into one channel. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Writes rows of blended RGB floats (`acc`, planar per row band: [3][rows][width]) into the output
 * image, clamping to [0, 1] and rounding; copies alpha from the source untouched.
 */
export function writeRows(
  acc: Float32Array,
  accRows: number,
  fromRow: number,
  rowCount: number,
  accFirstRow: number,
  source: RawImage,
  target: RawImage,
  layout: PixelLayout,
): void {
  const { width, channels, colorChannels, hasAlpha, maxValue } = layout;
  const plane = accRows * width;
  const src = source.data;
  const dst = target.data;
  for (let r = 0; r < rowCount; r++) {
    const y = fromRow + r;
    const a = (y - accFirstRow) * width;
    const rowBase = y * width * channels;
    for (let x = 0; x < width; x++) {
      const p = rowBase + x * channels;
      const rr = acc[a + x]!;
      const gg = acc[plane + a + x]!;
      const bb = acc[2 * plane + a + x]!;
      if (colorChannels === 3) {
        dst[p] = quantize(rr, maxValue);
        dst[p + 1] = quantize(gg, maxValue);
        dst[p + 2] = quantize(bb, maxValue);
        if (hasAlpha) dst[p + 3] = src[p + 3]!;
      } else {
        dst[p] = quantize(LUMA[0] * rr + LUMA[1] * gg + LUMA[2] * bb, maxValue);
        if (hasAlpha) dst[p + 1] = src[p + 1]!;
      }
    }
  }
}

function quantize(v: number, maxValue: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.round(c * maxValue);
}
