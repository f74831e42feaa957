/**
 * Clipped samples: where a light was brighter than the sensor could record, the photo holds the
 * ceiling instead of the blurred light, and a deconvolution that trusts it rings around every
 * highlight (Whyte, Sivic & Zisserman 2014). With `clipLevel` (opt-in) the deconvolution counts
 * them only as lower bounds (deconvolve/hyper-laplacian.ts); this module says which they are.
 */
import { reflectIndex } from './image.js';
import type { PixelLayout } from './image.js';
import type { RawImage } from '../types.js';

/**
 * A level, in [0.5, 1] of the sample range, at or above which a sample counts as clipped, for
 * `deconvolve`'s `clipLevel`: 250 of 255. A JPEG's clipped lights come back a few levels under
 * the ceiling, not at it.
 */
export const DEFAULT_CLIP_LEVEL = 250 / 255;

/**
 * Reads a window of the photo's clip mask, [h][w]: −1 where the pixel has any colour channel at
 * or above `level` (clipped: the light was at least that bright), 0 where a pixel next to it
 * (8-neighbourhood) is clipped and it is not (unknown: a JPEG smears the ceiling into its
 * neighbours), 1 elsewhere (measured). With `scale` 2 the window is on the half-resolution grid
 * (halfSize), a pixel clipped when any of its 2 x 2 is. Positions outside are reflected. Returns
 * whether any pixel of the window is clipped or unknown.
 */
export function readObservedMask(
  image: RawImage, layout: PixelLayout, x0: number, y0: number, w: number, h: number, level: number, scale: 1 | 2,
  out: Float32Array,
): boolean {
  const { channels, colorChannels, maxValue, width, height } = layout;
  const data = image.data;
  const ceiling = level * maxValue;
  // Clipped source pixels of the window grown by one grid step, on the window's grid.
  const gw = w + 2, gh = h + 2;
  const clipped = new Uint8Array(gw * gh);
  let any = false;
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      let hit = 0;
      for (let sy = 0; sy < scale && !hit; sy++) {
        const row = reflectIndex(scale * (y0 + gy - 1) + sy, height) * width * channels;
        for (let sx = 0; sx < scale && !hit; sx++) {
          const p = row + reflectIndex(scale * (x0 + gx - 1) + sx, width) * channels;
          for (let c = 0; c < colorChannels; c++) if (data[p + c]! >= ceiling) { hit = 1; break; }
        }
      }
      clipped[gy * gw + gx] = hit;
      if (hit) any = true;
    }
  }
  if (!any) {
    out.fill(1, 0, w * h);
    return false;
  }
  any = false;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const g = (y + 1) * gw + x + 1;
      const near = clipped[g - gw - 1]! | clipped[g - gw]! | clipped[g - gw + 1]! | clipped[g - 1]! | clipped[g]!
        | clipped[g + 1]! | clipped[g + gw - 1]! | clipped[g + gw]! | clipped[g + gw + 1]!;
      out[y * w + x] = clipped[g]! ? -1 : near ? 0 : 1;
      if (near) any = true;
    }
  }
  return any;
}
