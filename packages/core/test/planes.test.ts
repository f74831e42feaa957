import { describe, expect, it } from 'vitest';

import { describeImage } from '../src/pixels/image.js';
import { luminancePlane, luminanceResized, resizePlane } from '../src/pixels/planes.js';
import { deadLeaves } from '../src/synthetic/index.js';

describe('luminance planes', () => {
  it.each([[false], [true]])('luminanceResized (strips) equals resizing the whole luminance plane (linear %s)', (linear) => {
    const image = deadLeaves(301, 283, 4); // more rows than one strip, a partial last strip
    const layout = describeImage(image, 1e8);
    const whole = resizePlane(luminancePlane(image, layout, undefined, { linear }), 122, 115);
    const strips = luminanceResized(image, layout, 122, 115, { linear });
    expect(strips.width).toBe(122);
    expect(strips.height).toBe(115);
    expect(strips.data).toEqual(whole.data);
  });

  it('clipAt reads a pixel clipped in any one channel as 1 and leaves the others alone', () => {
    // A red lamp clipped in red only (luminance 0.2126 encoded), a white clip, a dark pixel, and a
    // channel just under the threshold; 8-bit and 16-bit.
    for (const max of [255, 65535]) {
      const px = [[max, 0, 0], [max, max, max], [10, 20, 30], [Math.floor(0.98 * max) - 1, 0, 0]];
      const data = max === 255 ? new Uint8Array(px.flat()) : new Uint16Array(px.flat());
      const image = { data, width: 4, height: 1, channels: 3 as const };
      const layout = describeImage(image, 1e8);
      const plain = luminancePlane(image, layout);
      const clipped = luminancePlane(image, layout, undefined, { clipAt: 0.98 });
      expect(plain.data[0]).toBeCloseTo(0.2126, 6);
      expect(Array.from(clipped.data)).toEqual([1, 1, plain.data[2], plain.data[3]]);
      const linear = luminancePlane(image, layout, undefined, { clipAt: 0.98, linear: true });
      expect(linear.data[0]).toBe(1); // compared on the raw values, decoded or not
      expect(linear.data[2]).toBeLessThan(plain.data[2]!);
    }
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
