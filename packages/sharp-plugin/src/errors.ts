import { ImageTooLargeError, InvalidImageError, SgenetError } from '@sgenet/core';

/**
 * Why an input could not be turned into pixels:
 * - `empty`: zero bytes.
 * - `unsupported-format`: not an image, or a format that is not accepted / not built into sharp.
 * - `undecodable`: looks like a supported image but decoding failed (truncated or corrupt).
 */
export type ImageDecodeFailure = 'empty' | 'unsupported-format' | 'undecodable';

/**
 * The input could not be decoded. Its `code` is core's stable `ERR_SGENET_INVALID_IMAGE`;
 * `reason` tells the cases apart (an HTTP layer maps them to 400, 415 and 422).
 */
export class ImageDecodeError extends InvalidImageError {
  readonly reason: ImageDecodeFailure;
  constructor(reason: ImageDecodeFailure, message: string, options?: { cause?: unknown }) {
    super(message);
    this.reason = reason;
    if (options && 'cause' in options) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns an error thrown by sharp/libvips while reading an input into a typed SGENet error.
 * Errors that already are SGENet errors are returned unchanged.
 */
export function classifySharpError(err: unknown, limitInputPixels?: number): SgenetError {
  if (err instanceof SgenetError) return err;
  const msg = messageOf(err);
  if (/exceeds pixel limit/i.test(msg)) {
    const limit = limitInputPixels ? ` of ${limitInputPixels} pixels` : '';
    const e = new ImageTooLargeError(
      `The image has more pixels than the limit${limit}: downscale it first, or raise limitInputPixels`,
    );
    Object.defineProperty(e, 'cause', { value: err, enumerable: false, writable: true, configurable: true });
    return e;
  }
  if (/unsupported image format|unsupported codec|unsupported feature|not a known file format/i.test(msg)) {
    return new ImageDecodeError(
      'unsupported-format',
      `The input is not an image format this sharp build can read (${msg}): convert it to JPEG, PNG or WebP`,
      { cause: err },
    );
  }
  if (/input file is missing/i.test(msg)) {
    return new InvalidImageError(`${msg}: check the path`);
  }
  return new ImageDecodeError(
    'undecodable',
    `The image could not be decoded (${msg}); it is probably truncated or corrupt: re-export or re-upload it`,
    { cause: err },
  );
}
