/**
 * @sgenet/sharp: SGENet motion deblurring as a step in a sharp pipeline.
 *
 * ```ts
 * import sharp from 'sharp';
 * import { deblur } from '@sgenet/sharp';
 * const out = await deblur(sharp('shaky.jpg'));
 * await out.resize(1200).webp().toFile('sharp.webp');
 * ```
 *
 * @packageDocumentation
 */
export { deblur } from './deblur.js';
export { validateSharpOptions } from './options.js';
export type { DeblurSharpOptions, ResolvedSharpOptions } from './options.js';
export { imageFormatsOption, openImage, sniffImageFormat, IMAGE_FORMATS, SHARP_DEFAULT_PIXEL_LIMIT } from './open.js';
export type { ImageFormat, OpenImageOptions, OpenedImage } from './open.js';
export { ImageDecodeError, classifySharpError } from './errors.js';
export type { ImageDecodeFailure } from './errors.js';
export { uprightExif } from './container.js';
export { encodeImage, ENCODE_FORMATS } from './encode.js';
export type { EncodeFormat, EncodeImageOptions } from './encode.js';
