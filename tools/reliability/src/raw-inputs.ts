/**
 * Hostile pixel buffers for the core API (`Deblurrer.deblur`, `estimateKernel`, `deconvolve`),
 * which takes decoded pixels rather than files: every way a caller can hand in a broken image.
 */
export interface RawCase {
  id: string;
  what: string;
  image: () => unknown;
  /** `ok`: a result of this size; else the stable code and a message pattern. */
  expected: { ok: true; width: number; height: number } | { code: string; message: RegExp };
}

const rgb = (w: number, h: number) => new Uint8Array(w * h * 3).map((_, i) => (i * 37) & 255);

export const RAW_CASES: readonly RawCase[] = [
  { id: 'raw-not-object', what: 'a string instead of an image', image: () => 'photo.jpg', expected: { code: 'ERR_SGENET_INVALID_OPTION', message: /an object \{ data, width, height, channels \}/ } },
  { id: 'raw-zero-width', what: 'width 0', image: () => ({ data: new Uint8Array(0), width: 0, height: 10, channels: 3 }), expected: { code: 'ERR_SGENET_INVALID_OPTION', message: /image\.width/ } },
  { id: 'raw-nan-height', what: 'height NaN', image: () => ({ data: rgb(4, 4), width: 4, height: Number.NaN, channels: 3 }), expected: { code: 'ERR_SGENET_INVALID_OPTION', message: /image\.height/ } },
  { id: 'raw-channels', what: '5 channels', image: () => ({ data: new Uint8Array(4 * 4 * 5), width: 4, height: 4, channels: 5 }), expected: { code: 'ERR_SGENET_INVALID_OPTION', message: /1, 2, 3 or 4/ } },
  { id: 'raw-float', what: 'Float32Array pixels', image: () => ({ data: new Float32Array(4 * 4 * 3), width: 4, height: 4, channels: 3 }), expected: { code: 'ERR_SGENET_INVALID_OPTION', message: /Uint8Array, Uint8ClampedArray or Uint16Array/ } },
  { id: 'raw-short', what: 'buffer shorter than width x height x channels', image: () => ({ data: rgb(4, 3), width: 4, height: 4, channels: 3 }), expected: { code: 'ERR_SGENET_INVALID_IMAGE', message: /./ } },
  { id: 'raw-declared-huge', what: '50000 x 50000 declared, 12 bytes given', image: () => ({ data: new Uint8Array(12), width: 50000, height: 50000, channels: 3 }), expected: { code: 'ERR_SGENET_IMAGE_TOO_LARGE', message: /exceeds the limit/ } },
  { id: 'raw-1x1', what: '1 x 1 RGB', image: () => ({ data: Uint8Array.of(10, 200, 90), width: 1, height: 1, channels: 3 }), expected: { ok: true, width: 1, height: 1 } },
  { id: 'raw-1x10000', what: '1 x 10000 RGB', image: () => ({ data: rgb(1, 10000), width: 1, height: 10000, channels: 3 }), expected: { ok: true, width: 1, height: 10000 } },
  { id: 'raw-16bit-grey-alpha', what: '16-bit grey + alpha', image: () => ({ data: new Uint16Array(32 * 24 * 2).map((_, i) => (i * 997) & 65535), width: 32, height: 24, channels: 2 }), expected: { ok: true, width: 32, height: 24 } },
];
