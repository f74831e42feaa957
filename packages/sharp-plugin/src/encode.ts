import type { Metadata, Sharp } from 'sharp';

import { integerOption, oneOf, OUTPUT_FORMATS } from '@sgenet/core';
import type { OutputFormat } from '@sgenet/core';

/** Formats {@link encodeImage} writes: the ones every browser shows (core's `OUTPUT_FORMATS`). */
export const ENCODE_FORMATS = OUTPUT_FORMATS;
export type EncodeFormat = OutputFormat;

/** Options of {@link encodeImage}. */
export interface EncodeImageOptions {
  /** The input's metadata (from `openImage`), so that depth and alpha are kept as they can be. */
  metadata?: Partial<Pick<Metadata, 'space' | 'depth' | 'hasAlpha'>>;
  /** JPEG/WebP quality, 1 to 100. Default 90. */
  quality?: number;
}

/**
 * Encodes a (deblurred) sharp image the way a restoration should be saved: a 16-bit input stays
 * 16-bit in PNG (sharp would otherwise write 8 bits), a grey one stays grey (with its alpha), and
 * JPEG, which has no alpha, is flattened on white instead of on black.
 *
 * @example
 * ```ts
 * const opened = await openImage(bytes);
 * const body = await encodeImage(await deblur(opened.image), 'webp', { metadata: opened.metadata });
 * ```
 */
export async function encodeImage(image: Sharp, format: EncodeFormat, options: EncodeImageOptions = {}): Promise<Buffer> {
  oneOf('format', format, ENCODE_FORMATS);
  // null, as undefined, means "not given" here (as it always has).
  const quality = integerOption('quality', options.quality ?? undefined, 1, 100, 90);
  const metadata: Partial<Pick<Metadata, 'space' | 'depth' | 'hasAlpha'>> = options.metadata ?? {};
  const grey = metadata.space === 'b-w' || metadata.space === 'grey16';
  const sixteenBit = metadata.depth === 'ushort' || metadata.space === 'rgb16' || metadata.space === 'grey16';
  // sharp writes sRGB unless told otherwise, which would turn a grey result into RGB(A).
  if (grey && !sixteenBit) image.toColourspace('b-w');
  switch (format) {
    case 'png':
      if (sixteenBit) image.toColourspace(grey ? 'grey16' : 'rgb16');
      return image.png().toBuffer();
    case 'jpeg':
      if (metadata.hasAlpha) image.flatten({ background: '#ffffff' });
      return image.jpeg({ quality }).toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
  }
}
