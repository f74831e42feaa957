import { InvalidImageError, createDeblurrer, invalidOption, throwIfAborted } from '@sgenet/core';
import type { RawImage } from '@sgenet/core';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';

import { exifChunk, iccColourSpace, iccpChunk, insertPngChunks, uprightExif, xmpChunk } from './container.js';
import { classifySharpError } from './errors.js';
import { validateSharpOptions } from './options.js';
import type { DeblurSharpOptions } from './options.js';

/** What was learned about the input while decoding, needed to build the output. */
interface SourceInfo {
  grey: boolean;
  sixteenBit: boolean;
  /** ICC profile to attach: only when the pixels were kept in the input's own colour space. */
  icc: Buffer | undefined;
  exif: Buffer | undefined;
  xmp: Buffer | undefined;
  density: number | undefined;
}

function isSharpInstance(v: unknown): v is Sharp {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<Record<'clone' | 'metadata' | 'toBuffer' | 'raw', unknown>>;
  return (
    typeof s.clone === 'function' && typeof s.metadata === 'function' &&
    typeof s.toBuffer === 'function' && typeof s.raw === 'function'
  );
}

const RGB_SPACES = new Set(['srgb', 'rgb16', 'rgb', 'b-w', 'grey16']);

/**
 * Decodes the instance's pipeline (everything queued before `deblur`) to raw pixels, upright.
 * - EXIF orientation first (`autoOrient`), as the model must see the picture the way people do.
 * - RGB/grey inputs with an ICC profile keep their own colour space (`keepIccProfile`, no
 *   conversion, no gamut clipping); the profile is re-attached to the result.
 * - CMYK (and Lab etc.) is converted to sRGB with its embedded profile, or sharp's CMYK default.
 * - 16-bit inputs are read as 16-bit (`toColourspace('rgb16')`, `raw({ depth: 'ushort' })`).
 * - Grey inputs become 1 (or 2, with alpha) channels again after sharp's RGB(A) read.
 */
async function decode(image: Sharp): Promise<{ raw: RawImage; source: SourceInfo }> {
  const pipeline = image.clone();
  let meta: Metadata;
  try {
    meta = await pipeline.metadata();
  } catch (err) {
    throw classifySharpError(err);
  }
  const space = meta.space ?? 'srgb';
  const sixteenBit = meta.depth === 'ushort' || space === 'rgb16' || space === 'grey16';
  const grey = space === 'b-w' || space === 'grey16';
  const nativeSpace = Boolean(meta.hasProfile && meta.icc) && RGB_SPACES.has(space);
  pipeline.autoOrient();
  if (nativeSpace) pipeline.keepIccProfile();
  pipeline.toColourspace(sixteenBit ? 'rgb16' : 'srgb');
  pipeline.raw(sixteenBit ? { depth: 'ushort' } : {});

  let data: Buffer;
  let info: sharp.OutputInfo;
  try {
    ({ data, info } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw classifySharpError(err);
  }
  const { width, height, channels } = info;
  if (channels !== 3 && channels !== 4) {
    throw new InvalidImageError(
      `The image decodes to ${channels} channels; only grey, RGB and their alpha variants can be deblurred: convert it to RGB first`,
    );
  }
  let samples: Uint8Array | Uint16Array;
  if (sixteenBit) {
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    samples = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  } else {
    samples = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  let raw: RawImage = { data: samples, width, height, channels: channels as 3 | 4 };
  if (grey) raw = toGrey(raw);

  let icc: Buffer | undefined;
  if (nativeSpace && meta.icc) {
    // Only a profile made for the pixels' layout can travel with them.
    const wanted = grey ? 'GRAY' : 'RGB ';
    if (iccColourSpace(meta.icc) === wanted) icc = meta.icc;
  }
  return {
    raw,
    source: {
      grey,
      sixteenBit,
      icc,
      exif: meta.exif,
      xmp: meta.xmp,
      density: meta.density,
    },
  };
}

/** RGB(A) read of a grey image back to grey (+ alpha): R = G = B, so red is the grey. */
function toGrey(image: RawImage): RawImage {
  const { width, height, channels } = image;
  const alpha = channels === 4;
  const outChannels = alpha ? 2 : 1;
  const n = width * height;
  const src = image.data;
  const out = src instanceof Uint16Array ? new Uint16Array(n * outChannels) : new Uint8Array(n * outChannels);
  for (let i = 0; i < n; i++) {
    out[i * outChannels] = src[i * channels]!;
    if (alpha) out[i * outChannels + 1] = src[i * channels + 3]!;
  }
  return { data: out, width, height, channels: outChannels };
}

function colourspaceFor(channels: number, sixteenBit: boolean): string {
  const grey = channels <= 2;
  if (sixteenBit) return grey ? 'grey16' : 'rgb16';
  return grey ? 'b-w' : 'srgb';
}

/** Builds the sharp instance the chain continues with. */
async function encode(output: RawImage, source: SourceInfo, keepMetadata: boolean): Promise<Sharp> {
  const { width, height, channels } = output;
  const data = output.data instanceof Uint8ClampedArray
    ? new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength)
    : output.data;
  const rawInput = { raw: { width, height, channels }, limitInputPixels: false as const };
  // The ICC profile always travels: it says what the pixel values mean. EXIF, XMP and density
  // only matter when they are to be written, so without keepMetadata they are dropped here.
  const exif = keepMetadata && source.exif ? uprightExif(source.exif) : undefined;
  const chunks: Buffer[] = [];
  if (source.icc) chunks.push(iccpChunk(source.icc));
  if (exif) chunks.push(exifChunk(exif));
  if (keepMetadata && source.xmp && source.xmp.length > 0) chunks.push(xmpChunk(source.xmp));
  const density = keepMetadata && source.density && source.density > 0 ? source.density : undefined;
  if (chunks.length === 0 && (density === undefined || density === 72)) {
    // Nothing to carry: the raw pixels themselves are the next input.
    return sharp(data, rawInput);
  }
  // A lossless PNG (no compression, so it is fast) carries pixels and metadata together.
  let container = sharp(data, rawInput)
    .toColourspace(colourspaceFor(channels, source.sixteenBit))
    .png({ compressionLevel: 0, adaptiveFiltering: false });
  if (density !== undefined) container = container.withMetadata({ density });
  const png = insertPngChunks(await container.toBuffer(), chunks);
  const next = sharp(png, { limitInputPixels: false });
  if (keepMetadata) next.keepMetadata();
  return next;
}

/**
 * Deblurs the image a sharp instance describes and returns a NEW sharp instance holding the
 * sharp result, so the chain goes on: `(await deblur(sharp(input))).resize(800).webp().toFile(out)`.
 *
 * Everything queued on `image` before the call (resize, extract...) is applied first; output
 * settings made before the call (format, metadata) are not carried over: set them on the result.
 * EXIF orientation is applied first, alpha passes through untouched, 16-bit stays 16-bit (write
 * it with `.toColourspace('rgb16').png()`/`.tiff()` as with any sharp input), grey stays grey,
 * CMYK becomes sRGB. The input's ICC profile, EXIF (Orientation set to 1) and XMP travel with the
 * result and are written to its output; with `keepMetadata: false` EXIF and XMP are dropped and
 * the ICC profile only serves sharp's usual conversion to sRGB. `image` is not modified.
 *
 * @param image - any sharp instance (from a file, Buffer or stream).
 * @param options - see {@link DeblurSharpOptions}; validated before any work starts.
 * @throws `InvalidOptionError` for a bad option, {@link ImageDecodeError} for an input that is not
 *   an image or is corrupt, `ImageTooLargeError` above sharp's `limitInputPixels` or the
 *   deblurrer's `maxPixels`, `AbortError` when `signal` fires; all carry a stable `code`.
 *
 * @example
 * ```ts
 * import sharp from 'sharp';
 * import { deblur } from '@sgenet/sharp';
 *
 * const sharper = await deblur(sharp('shaky.jpg'), { tileSize: 512 });
 * await sharper.resize(1200).webp({ quality: 90 }).toFile('sharp.webp');
 * ```
 */
export async function deblur(image: Sharp, options?: DeblurSharpOptions): Promise<Sharp> {
  if (!isSharpInstance(image)) throw invalidOption('image', 'a sharp instance, as returned by sharp(input)', image);
  const opts = validateSharpOptions(options);
  throwIfAborted(opts.signal);
  const { raw, source } = await decode(image);
  throwIfAborted(opts.signal);
  let output: RawImage;
  if (opts.deblurrer) {
    output = await opts.deblurrer.deblur(raw, opts.run);
  } else {
    const deblurrer = await createDeblurrer({ ...opts.create, signal: opts.signal });
    try {
      output = await deblurrer.deblur(raw, opts.run);
    } finally {
      await deblurrer.dispose();
    }
  }
  throwIfAborted(opts.signal);
  return encode(output, source, opts.keepMetadata);
}
