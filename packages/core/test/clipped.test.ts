import { describe, expect, it } from 'vitest';

import { readObservedMask } from '../src/pixels/clipped.js';
import { describeImage } from '../src/pixels/image.js';
import type { RawImage } from '../src/types.js';

/** An 8 x 6 RGB photo at mid-grey with the given pixels' given channel at `value`. */
function photo(hits: [x: number, y: number, channel: number, value: number][], channels: 1 | 3 = 3): RawImage {
  const data = new Uint8Array(8 * 6 * channels).fill(128);
  for (const [x, y, c, v] of hits) data[(y * 8 + x) * channels + c] = v;
  return { data, width: 8, height: 6, channels };
}

function mask(image: RawImage, x0: number, y0: number, w: number, h: number, scale: 1 | 2): { any: boolean; rows: string[] } {
  const out = new Float32Array(w * h);
  const any = readObservedMask(image, describeImage(image, 1e6), x0, y0, w, h, 250 / 255, scale, out);
  const rows = Array.from({ length: h }, (_, y) => Array.from(out.subarray(y * w, (y + 1) * w), (v) => (v > 0 ? '.' : v < 0 ? 'C' : 'x')).join(''));
  return { any, rows };
}

describe('readObservedMask', () => {
  it('marks a pixel with one clipped channel clipped, its 8 neighbours unknown, nothing else (hand-computed)', () => {
    const m = mask(photo([[3, 2, 2, 252]]), 0, 0, 8, 6, 1);
    expect(m.any).toBe(true);
    expect(m.rows).toEqual(['........', '..xxx...', '..xCx...', '..xxx...', '........', '........']);
    // 249 is below the level (250/255): measured; 250 is at it: clipped.
    expect(mask(photo([[3, 2, 0, 249]]), 0, 0, 8, 6, 1)).toEqual({ any: false, rows: Array(6).fill('........') });
    expect(mask(photo([[3, 2, 0, 250]]), 0, 0, 8, 6, 1).rows[2]).toBe('..xCx...');
    // A grey photo reads its one channel.
    expect(mask(photo([[0, 0, 0, 255]], 1), 0, 0, 8, 6, 1).rows.slice(0, 3)).toEqual(['Cx......', 'xx......', '........']);
  });

  it('sees a clipped neighbour just outside its window, and reflects at the border', () => {
    // The clipped pixel (5, 2) lies one column right of the window x 1..4: its neighbours in column 4 are out.
    expect(mask(photo([[5, 2, 1, 255]]), 1, 0, 4, 6, 1).rows).toEqual(['....', '...x', '...x', '...x', '....', '....']);
    // A window hanging over the left edge reads reflected pixels: x = -1 is x = 1, x = -2 is x = 2.
    expect(mask(photo([[1, 0, 0, 255]]), -2, 0, 4, 2, 1).rows).toEqual(['xCxC', 'xxxx']);
  });

  it('on the half-resolution grid, a cell is clipped when any of its 2 x 2 pixels is, then grown by one cell', () => {
    // Pixel (5, 3) is in half-resolution cell (2, 1) of the 4 x 3 grid.
    expect(mask(photo([[5, 3, 0, 255]]), 0, 0, 4, 3, 2).rows).toEqual(['.xxx', '.xCx', '.xxx']);
  });
});
