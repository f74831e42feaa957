import { describe, expect, it } from 'vitest';

import { axisWeight, planAxis, planTiles } from '../src/index.js';

describe('planAxis', () => {
  it('matches a hand-computed plan', () => {
    // 1000 px, tiles of 512 with 64 px context and 2 x 8 px alignment: cores up to 368 px -> 3 tiles.
    const spans = planAxis(1000, { tileSize: 512, overlap: 64, multiple: 8 });
    expect(spans.map((s) => [s.coreStart, s.coreEnd])).toEqual([[0, 333], [333, 667], [667, 1000]]);
    // Feather = 64 / 4 = 16 px either side of each core boundary.
    expect(spans.map((s) => [s.writeStart, s.writeEnd])).toEqual([[0, 349], [317, 683], [651, 1000]]);
    // Reads start on the 8-px grid, at least 64 px before the core: floor((333-64)/8)*8 = 264.
    expect(spans.map((s) => s.readStart)).toEqual([0, 264, 600]);
    // Lengths are multiples of 8 covering core + 64: 397 -> 400, 731-264=467 -> 472, 400 -> 400.
    expect(spans.map((s) => s.readLength)).toEqual([400, 472, 400]);
  });

  it('uses a single tile when the axis fits', () => {
    expect(planAxis(7, { tileSize: 512, overlap: 64, multiple: 8 })).toEqual([
      { coreStart: 0, coreEnd: 7, writeStart: 0, writeEnd: 7, readStart: 0, readLength: 8 },
    ]);
  });

  for (const [length, tileSize, overlap] of [
    [1, 64, 16], [7, 64, 16], [1000, 128, 32], [4001, 1024, 136], [3001, 512, 96], [777, 200, 40],
  ] as const) {
    it(`covers every pixel of ${length} px exactly once after blending (tile ${tileSize}, overlap ${overlap})`, () => {
      const opts = { tileSize, overlap, multiple: 8 };
      const spans = planAxis(length, opts);
      const feather = Math.floor(overlap / 4);
      for (let p = 0; p < length; p++) {
        let sum = 0;
        for (const s of spans) sum += axisWeight(s, p, feather, length);
        expect(sum).toBeCloseTo(1, 6);
      }
      for (const s of spans) {
        expect(s.readStart % 8).toBe(0);
        expect(s.readLength % 8).toBe(0);
        expect(s.readLength).toBeLessThanOrEqual(Math.max(tileSize, 8));
        // Everything written has at least (overlap - feather) px of real context, or is at a border.
        if (s.writeStart > 0) expect(s.writeStart - s.readStart).toBeGreaterThanOrEqual(overlap - feather);
        if (s.writeEnd < length) expect(s.readStart + s.readLength - s.writeEnd).toBeGreaterThanOrEqual(overlap - feather);
      }
    });
  }
});

describe('planTiles', () => {
  it('plans a 4001 x 3001 image into a grid whose 2-D weights sum to one', () => {
    const plan = planTiles(4001, 3001, { tileSize: 1024, overlap: 136, multiple: 8 });
    expect(plan.cols.length).toBe(6);
    expect(plan.rows.length).toBe(5);
    expect(plan.tiles.length).toBe(30);
    // Check a lattice of points including the seams.
    for (let y = 0; y < 3001; y += 37) {
      for (let x = 0; x < 4001; x += 41) {
        let sum = 0;
        for (const t of plan.tiles) {
          sum += axisWeight(t.x, x, plan.feather, 4001) * axisWeight(t.y, y, plan.feather, 3001);
        }
        expect(sum).toBeCloseTo(1, 6);
      }
    }
  });
});

describe('planTiles with a kernel grid', () => {
  it('shrinks the feather to half the shortest core, so the weights still sum to one', () => {
    // 200 px in 3 cells: cores of 67/66/67 px, shorter than two feathers of 186 / 4 = 46 px.
    const plan = planTiles(200, 160, { tileSize: 2048, overlap: 186, multiple: 1, columns: 3, rows: 3 });
    expect(plan.feather).toBe(26); // floor(53 / 2): the shortest core is a row's, 53 px
    for (const [spans, length] of [[plan.cols, 200], [plan.rows, 160]] as const) {
      for (let p = 0; p < length; p++) {
        let sum = 0;
        for (const s of spans) sum += axisWeight(s, p, plan.feather, length);
        expect(sum).toBeCloseTo(1, 6);
      }
      for (const s of spans) expect(s.writeStart).toBeGreaterThanOrEqual(0);
    }
  });

  it('cuts cores on the grid cells\' boundaries (hand-computed)', () => {
    // 1000 px fits one 2048 tile; 3 columns ask for 3 cores: round(1000/3) = 333, round(2000/3) = 667.
    const plan = planTiles(1000, 600, { tileSize: 2048, overlap: 64, multiple: 1, columns: 3, rows: 2 });
    expect(plan.cols.map((s) => [s.coreStart, s.coreEnd])).toEqual([[0, 333], [333, 667], [667, 1000]]);
    expect(plan.rows.map((s) => [s.coreStart, s.coreEnd])).toEqual([[0, 300], [300, 600]]);
    // 4 tiles needed on an axis of 2 cells: the next multiple of 2 (4), each cell cut in two.
    const cols = planAxis(1000, { tileSize: 400, overlap: 64, multiple: 1 }, 2);
    expect(cols.map((s) => s.coreStart)).toEqual([0, 250, 500, 750]);
    // 3 tiles on an axis of 2 cells become 4: the boundary at 500 stays a core boundary.
    expect(planAxis(1000, { tileSize: 512, overlap: 64, multiple: 8 }).length).toBe(3);
    expect(planAxis(1000, { tileSize: 512, overlap: 64, multiple: 8 }, 2).map((s) => s.coreStart)).toEqual([0, 250, 500, 750]);
  });
});
