import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ProgressBar, shortenMiddle } from '../src/progress.js';

describe('shortenMiddle', () => {
  it.each([
    ['IMG_4548_small.png', 16, 'IMG_45…small.png'],
    ['IMG_4548_small.png', 18, 'IMG_4548_small.png'],
    ['IMG_4548_small.png', 17, 'IMG_45…_small.png'],
    ['IMG_4548_small.png', 7, 'I…l.png'],
    ['IMG_4548_small.png', 6, 'IMG…ng'], // no room for the extension and a character either side
    ['photos/2024/holiday/IMG_4548.jpeg', 24, 'photos/20…/IMG_4548.jpeg'],
    ['README', 5, 'RE…ME'],
    ['x.png', 1, '…'],
    ['x.png', 0, ''],
    ['😀😀😀😀😀😀.png', 8, '😀😀…😀.png'],
  ])('%s in %i -> %s', (name, max, expected) => {
    expect(shortenMiddle(name, max)).toBe(expected);
  });

  it('fits, keeps the start, and keeps the extension whenever there is room for it', () => {
    const names = fc.tuple(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme-ascii' }), fc.constantFrom('.png', '.jpg', '.jpeg', '.tiff', ''));
    fc.assert(fc.property(names, fc.integer({ min: 0, max: 60 }), ([stem, ext], max) => {
      // No dot or separator in the stem: `ext` is then the name's extension (in "a/.jpeg", ".jpeg" is a dotfile).
      const name = stem.replace(/[./\\]/g, '_') + ext;
      const out = shortenMiddle(name, max);
      expect(Array.from(out).length).toBeLessThanOrEqual(Math.max(max, 0));
      if (name.length <= max) {
        expect(out).toBe(name);
        return;
      }
      if (max >= 2) expect(out.startsWith(name[0]!)).toBe(true);
      if (max >= ext.length + 3) expect(out.endsWith(ext)).toBe(true);
    }));
  });
});

describe('ProgressBar', () => {
  it('fits the line into the terminal, shortening the name in the middle', () => {
    const written: string[] = [];
    const stream = { isTTY: true, columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar(stream, true);
    bar.update('photos/holiday-2024/IMG_4548_small.png', 3, 12, 'deconvolve');
    const line = written.at(-1)!.replace('\r\x1b[2K', '');
    expect(Array.from(line).length).toBe(79);
    expect(line).toMatch(/^█{6}░{18} 3\/12 deconvolution tiles {2}photos.*….*small\.png$/);
  });
});
