/**
 * FFT solvers treat an image as periodic: its right edge touches its left edge. A photo is not, and
 * the jump at the seam rings across the whole result. So before any FFT the image is extended to
 * the FFT field with a smooth bridge: each padding sample blends the image mirrored at the near
 * edge with the image mirrored at the far (wrapped) edge, with a smoothstep weight, so the field is
 * continuous everywhere (in the spirit of Liu & Jia 2008, "Reducing boundary artifacts in image
 * deconvolution").
 */
import { reflectIndex } from '../pixels/image.js';

function smoothstep(t: number): number {
  return t * t * (3 - 2 * t);
}

/**
 * Places a `w` x `h` field at the top-left of a `fieldW` x `fieldH` periodic field and fills the
 * rest with the smooth bridge. `fieldW - w` and `fieldH - h` should be at least the blur kernel's
 * size so the bridge hides the seam from the kernel.
 */
export function periodicExtend(
  src: ArrayLike<number>, w: number, h: number, fieldW: number, fieldH: number, into?: Float64Array,
): Float64Array {
  if (fieldW < w || fieldH < h) throw new RangeError(`field ${fieldW}x${fieldH} is smaller than the image ${w}x${h}`);
  const out = into ?? new Float64Array(fieldW * fieldH);
  const padX = fieldW - w;
  const padY = fieldH - h;
  for (let y = 0; y < h; y++) {
    const row = y * fieldW;
    for (let x = 0; x < w; x++) out[row + x] = src[y * w + x]!;
    for (let p = 0; p < padX; p++) {
      const near = reflectIndex(w - 2 - p, w); // mirrored at the right edge
      const far = reflectIndex(padX - p, w); // mirrored at the left edge, which follows after the wrap
      const t = smoothstep((p + 1) / (padX + 1));
      out[row + w + p] = (1 - t) * src[y * w + near]! + t * src[y * w + far]!;
    }
  }
  for (let p = 0; p < padY; p++) {
    const near = reflectIndex(h - 2 - p, h);
    const far = reflectIndex(padY - p, h);
    const t = smoothstep((p + 1) / (padY + 1));
    const row = (h + p) * fieldW;
    for (let x = 0; x < fieldW; x++) out[row + x] = (1 - t) * out[near * fieldW + x]! + t * out[far * fieldW + x]!;
  }
  return out;
}
