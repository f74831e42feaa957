import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';

import { ImageDecodeError, classifySharpError } from './errors.js';
import { DEFAULT_MAX_PIXELS, ImageTooLargeError, invalidOption, isIntegerInRange, isOneOf, isPlainObject, quotedList } from '@sgenet/core';

/** Raster formats that {@link sniffImageFormat} recognises from their first bytes. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** sharp's default `limitInputPixels` (0x3FFF squared): core's `DEFAULT_MAX_PIXELS`. */
export const SHARP_DEFAULT_PIXEL_LIMIT = DEFAULT_MAX_PIXELS;

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Identifies a raster image format from its magic bytes, without decoding anything.
 * Returns `undefined` for anything else (text, SVG, PDF, BMP, zero bytes...).
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 4) {
    const head = ascii(bytes, 0, 4);
    // Classic TIFF and BigTIFF, both byte orders.
    if (head === 'II*\0' || head === 'MM\0*' || head === 'II+\0' || head === 'MM\0+') return 'tiff';
  }
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  return undefined;
}

/** Options of {@link openImage}. */
export interface OpenImageOptions {
  /**
   * Largest accepted image in pixels (width x height), checked from the header before any pixel
   * is decoded, and passed on to sharp. `false` disables the check. Default: sharp's 268 402 689.
   */
  limitInputPixels?: number | false;
  /** Formats to accept. Default: all of {@link IMAGE_FORMATS}. */
  formats?: readonly ImageFormat[];
}

/** An input that passed {@link openImage}'s checks. */
export interface OpenedImage {
  /** A fresh sharp instance reading the input with the pixel limit applied. */
  image: Sharp;
  /** sharp's metadata of the input (header only). */
  metadata: Metadata;
  format: ImageFormat;
  /** Size after EXIF orientation is applied. */
  width: number;
  height: number;
}

function formatList(formats: readonly string[]): string {
  return formats.map((f) => f.toUpperCase()).join(', ');
}

function validateOpenOptions(options: unknown): { limit: number | false; formats: readonly ImageFormat[] } {
  if (options === undefined) return { limit: SHARP_DEFAULT_PIXEL_LIMIT, formats: IMAGE_FORMATS };
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
  const { limitInputPixels, formats } = options;
  let limit: number | false = SHARP_DEFAULT_PIXEL_LIMIT;
  if (limitInputPixels === false) limit = false;
  else if (limitInputPixels !== undefined) {
    if (!isIntegerInRange(limitInputPixels, 1, Infinity)) {
      throw invalidOption('limitInputPixels', 'a positive integer or false', limitInputPixels);
    }
    limit = limitInputPixels;
  }
  return { limit, formats: imageFormatsOption(formats) ?? IMAGE_FORMATS };
}

/**
 * Validates an optional list of accepted input formats (the `formats` option of {@link openImage}
 * and of `@sgenet/express`): a non-empty array of {@link IMAGE_FORMATS}; `undefined` when not given.
 */
export function imageFormatsOption(formats: unknown): readonly ImageFormat[] | undefined {
  if (formats === undefined) return undefined;
  if (!Array.isArray(formats) || formats.length === 0 || !formats.every((f) => isOneOf(IMAGE_FORMATS, f))) {
    throw invalidOption('formats', `a non-empty array of ${quotedList(IMAGE_FORMATS)}`, formats);
  }
  return formats as ImageFormat[];
}

/**
 * Checks an encoded image before any pixel is decoded and returns a sharp instance for it:
 * magic bytes (a supported raster format), header parse, and the pixel limit
 * (`limitInputPixels`, as sharp names it). Made for servers: cheap, and every failure is typed:
 * {@link ImageDecodeError} (`reason` `empty`, `unsupported-format` or `undecodable`) or core's
 * `ImageTooLargeError`. A truncated body whose header is intact passes here and fails later, while
 * pixels are decoded (for example inside `deblur`), with `reason: 'undecodable'`.
 *
 * @example
 * ```ts
 * const { image, width, height } = await openImage(upload, { limitInputPixels: 24e6 });
 * const sharper = await deblur(image, { deblurrer });
 * ```
 */
export async function openImage(input: Uint8Array, options?: OpenImageOptions): Promise<OpenedImage> {
  if (!(input instanceof Uint8Array)) throw invalidOption('input', 'a Buffer or Uint8Array', input);
  const { limit, formats } = validateOpenOptions(options);
  if (input.length === 0) {
    throw new ImageDecodeError('empty', 'The input is empty (0 bytes): send the bytes of an image file');
  }
  const format = sniffImageFormat(input);
  if (format === undefined) {
    throw new ImageDecodeError(
      'unsupported-format',
      `The input is not an image in a supported format (${formatList(formats)}): send a photo in one of them`,
    );
  }
  if (!formats.includes(format)) {
    throw new ImageDecodeError(
      'unsupported-format',
      `${format.toUpperCase()} images are not accepted here: send ${formatList(formats)}`,
    );
  }
  let metadata: Metadata;
  try {
    // Header only: safe for any size, so the limit below can say how large the image is.
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw classifySharpError(err);
  }
  const rawWidth = metadata.width ?? 0;
  const rawHeight = metadata.height ?? 0;
  if (!(rawWidth > 0 && rawHeight > 0)) {
    throw new ImageDecodeError('undecodable', 'The image header has no valid size: the file is corrupt, re-export it');
  }
  const pixels = rawWidth * rawHeight;
  if (limit !== false && pixels > limit) {
    throw new ImageTooLargeError(
      `The image is ${rawWidth}x${rawHeight} = ${pixels} pixels, over the limit of ${limit} pixels: ` +
        'downscale it first',
    );
  }
  const swap = (metadata.orientation ?? 1) >= 5;
  return {
    image: sharp(input, { limitInputPixels: limit === false ? false : limit }),
    metadata,
    format,
    width: swap ? rawHeight : rawWidth,
    height: swap ? rawWidth : rawHeight,
  };
}
