import { describe, expect, it } from 'vitest';

import { InvalidOptionError } from '../src/errors.js';
import { levelWindow } from '../src/kernel/coarse-to-fine.js';
import { DEFAULT_WINDOW, defaultMaxSize, defaultStartSize, MAX_ESTIMATED_KERNEL_SIZE, resolveEstimateOptions, WIDE_WINDOW } from '../src/kernel/options.js';
import { fittedWindowSide } from '../src/kernel/window.js';

describe('startSize and maxSize', () => {
  it('default to two ladders (start: the long side / 22; max: a tenth of the short side from 1 MP, at least 101, else a fifth of it)', () => {
    // 768 / 22 = 34.9 → 35; 512 / 5 = 102.4 → 101 (the cap).
    expect(resolveEstimateOptions({}, 768, 512)).toMatchObject({ maxSize: 101, startSize: 35 });
    // 480 / 22 = 21.8 → 31 (the floor); 360 / 5 = 72 → 73.
    expect(resolveEstimateOptions({}, 360, 480)).toMatchObject({ maxSize: 73, startSize: 31 });
    // A fifth of a short side below the start size: one ladder at the start size.
    expect(resolveEstimateOptions({}, 640, 120)).toMatchObject({ maxSize: 31, startSize: 31 });
    // 1 MP or more: a tenth of the short side, at least 101. 2100x480 (1.008 MP): a fifth of 480
    // would give 97; 2000x480 (0.96 MP) keeps it. 1600x640: a fifth of 640 is capped at 101 anyway.
    expect(resolveEstimateOptions({}, 2100, 480)).toMatchObject({ maxSize: 101, startSize: 97 });
    expect(resolveEstimateOptions({}, 2000, 480)).toMatchObject({ maxSize: 97, startSize: 91 });
    expect(resolveEstimateOptions({}, 1600, 640)).toMatchObject({ maxSize: 101, startSize: 73 });
    expect([defaultStartSize(1000, 1000), defaultMaxSize(1000, 1000)]).toEqual([47, 101]);
    // 1010 / 10 = 101; 1100 / 10 = 110 → 111; 1600 / 10 → 161; 3000 / 10 → 301 (12 MP: the
    // start size 101 was its only ladder); 6000x4500 → 451, capped at 401.
    expect(defaultMaxSize(1400, 1010)).toBe(101);
    expect(defaultMaxSize(1100, 1011)).toBe(103);
    expect(resolveEstimateOptions({}, 1100, 1100)).toMatchObject({ maxSize: 111, startSize: 51 });
    expect(resolveEstimateOptions({}, 2400, 1600)).toMatchObject({ maxSize: 161, startSize: 101 });
    expect(resolveEstimateOptions({}, 4000, 3000)).toMatchObject({ maxSize: 301, startSize: 101 });
    expect(resolveEstimateOptions({}, 3000, 4000)).toMatchObject({ maxSize: 301, startSize: 101 });
    expect(defaultMaxSize(6000, 4500)).toBe(MAX_ESTIMATED_KERNEL_SIZE);
    expect(MAX_ESTIMATED_KERNEL_SIZE).toBe(401);
  });

  it('an explicit maxSize alone means one ladder at it, and startSize is refused above it or even', () => {
    expect(resolveEstimateOptions({ maxSize: 101 }, 768, 512)).toMatchObject({ maxSize: 101, startSize: 101 });
    expect(resolveEstimateOptions({ maxSize: 35 }, 768, 512)).toMatchObject({ maxSize: 35, startSize: 35 });
    expect(resolveEstimateOptions({ maxSize: 101, startSize: 35 }, 768, 512)).toMatchObject({ maxSize: 101, startSize: 35 });
    expect(resolveEstimateOptions({ startSize: 41 }, 768, 512)).toMatchObject({ maxSize: 101, startSize: 41 });
    // Above a maxSize the photo's size chose (31 here), it is lowered to it; above an explicit one, refused.
    expect(resolveEstimateOptions({ startSize: 41 }, 640, 120)).toMatchObject({ maxSize: 31, startSize: 31 });
    expect(() => resolveEstimateOptions({ maxSize: 35, startSize: 37 }, 768, 512)).toThrow(InvalidOptionError);
    expect(() => resolveEstimateOptions({ startSize: 40 }, 768, 512)).toThrow(/startSize/);
    expect(() => resolveEstimateOptions({ maxSize: 101, startSize: 34 }, 768, 512)).toThrow(/startSize/);
    expect(() => resolveEstimateOptions({ maxSize: 101, startSize: 3 }, 768, 512)).toThrow(/startSize/);
    // maxSize's range: odd, 5 to 401.
    expect(resolveEstimateOptions({ maxSize: 401 }, 768, 512)).toMatchObject({ maxSize: 401, startSize: 401 });
    expect(() => resolveEstimateOptions({ maxSize: 403 }, 768, 512)).toThrow(/between 5 and 401 for maxSize/);
    expect(() => resolveEstimateOptions({ maxSize: 3 }, 768, 512)).toThrow(InvalidOptionError);
  });
});

describe('the estimation window', () => {
  it('is 512 up to a long side of 1210 px, and above it 1024 with 512 per level', () => {
    // 1210 / 22 = 55 = maxWorkingSize: estimated at full scale; 1232 / 22 = 56, odd 57: downscaled.
    expect(defaultStartSize(1210, 800)).toBe(55);
    expect(resolveEstimateOptions({}, 1210, 800)).toMatchObject({ startSize: 55, windowSize: DEFAULT_WINDOW, levelWindowSize: DEFAULT_WINDOW });
    expect(resolveEstimateOptions({}, 1232, 800)).toMatchObject({ startSize: 57, windowSize: WIDE_WINDOW, levelWindowSize: DEFAULT_WINDOW });
    expect([DEFAULT_WINDOW, WIDE_WINDOW]).toEqual([512, 1024]);
    // The photo's size decides, not the sizes asked for.
    expect(resolveEstimateOptions({ maxSize: 101 }, 1024, 683)).toMatchObject({ windowSize: 512, levelWindowSize: 512 });
    expect(resolveEstimateOptions({ maxSize: 31 }, 2400, 1600)).toMatchObject({ windowSize: 1024, levelWindowSize: 512 });
    // An explicit window bounds its levels; a level larger than the window is refused.
    expect(resolveEstimateOptions({ windowSize: 256 }, 4000, 3000)).toMatchObject({ windowSize: 256, levelWindowSize: 256 });
    expect(resolveEstimateOptions({ windowSize: 1024, levelWindowSize: 1024 }, 100, 100)).toMatchObject({ levelWindowSize: 1024 });
    expect(() => resolveEstimateOptions({ windowSize: 512, levelWindowSize: 600 }, 100, 100)).toThrow(InvalidOptionError);
    expect(() => resolveEstimateOptions({ levelWindowSize: 100 }, 100, 100)).toThrow(/levelWindowSize/);
  });

  it('cuts a pyramid level larger than its field to the most textured part, and leaves a smaller one whole', () => {
    // 600x400, flat except for a checkerboard in the bottom-right 200x200: a 128 field with a 9 px
    // kernel holds a 119 px window (fittedWindowSide), which must lie inside the checkerboard.
    const width = 600, height = 400;
    const data = new Float64Array(width * height).fill(0.5);
    for (let y = 200; y < 400; y++) for (let x = 400; x < 600; x++) data[y * width + x] = ((x >> 2) + (y >> 2)) % 2 ? 0.8 : 0.2;
    const plane = { width, height, data };
    const side = fittedWindowSide(128, 9);
    expect(side).toBe(119);
    const cut = levelWindow(plane, 128, 9, 0.98);
    expect([cut.width, cut.height]).toEqual([side, side]);
    // Every sample of the cut is checkerboard (0.2 or 0.8), none of the flat 0.5.
    expect(cut.data.every((v) => v === 0.2 || v === 0.8)).toBe(true);
    const small = { width: 100, height: 80, data: new Float64Array(8000) };
    expect(levelWindow(small, 128, 9, 0.98)).toBe(small);
  });
});
