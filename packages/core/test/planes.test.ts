import { describe, expect, it } from 'vitest';

import { describeImage } from '../src/pixels/image.js';
import { luminancePlane, luminanceResized, resizePlane } from '../src/pixels/planes.js';
import { deadLeaves } from '../src/synthetic/index.js';

describe('luminance planes', () => {
  it.each([[false], [true]])('luminanceResized (strips) equals resizing the whole luminance plane (linear %s)', (linear) => {
    const image = deadLeaves(301, 283, 4); // more rows than one strip, a partial last strip
    const layout = describeImage(image, 1e8);
    const whole = resizePlane(luminancePlane(image, layout, undefined, linear), 122, 115);
    const strips = luminanceResized(image, layout, 122, 115, linear);
    expect(strips.width).toBe(122);
    expect(strips.height).toBe(115);
    expect(strips.data).toEqual(whole.data);
  });

  it('a window reads the same values as the whole plane', () => {
    const image = deadLeaves(64, 48, 2);
    const layout = describeImage(image, 1e8);
    const whole = luminancePlane(image, layout);
    const win = luminancePlane(image, layout, { x: 10, y: 7, width: 20, height: 9 });
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 20; x++) expect(win.data[y * 20 + x]).toBe(whole.data[(y + 7) * 64 + x + 10]);
    }
  });
});
