/**
 * Property tests (fast-check): for random image sizes, tile sizes and overlaps, the tiler's blend
 * weights sum to one and every output pixel is written once; the tiled deconvolution returns a
 * constant photo unchanged (a pixel blended twice, or missed, would not be); a PSF written as JSON
 * and read back is unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { deconvolve, kernelToGrey, kernelFromGrey, kernelToJson, parseKernelJson, planTiles } from '../src/index.js';
import type { RawImage } from '../src/index.js';
import { runTiles } from '../src/tiling/run-tiles.js';

const MULTIPLE = 8;

/** Tile sizes and overlaps the deblurrer accepts: tileSize ≥ 3 x overlap (+ grid alignment). */
const tiling = fc.record({
  width: fc.integer({ min: 1, max: 700 }),
  height: fc.integer({ min: 1, max: 500 }),
  tileSize: fc.integer({ min: 64, max: 320 }),
}).chain((t) => fc.record({
  width: fc.constant(t.width),
  height: fc.constant(t.height),
  tileSize: fc.constant(t.tileSize),
  overlap: fc.integer({ min: 0, max: Math.floor((t.tileSize - 2 * MULTIPLE) / 3) }),
}));

describe('tiler (property)', () => {
  it('blends the same result whichever tile finishes first (tiles blended in plan order)', async () => {
    await fc.assert(fc.asyncProperty(tiling, fc.integer({ min: 1, max: 1 << 30 }), async ({ width, height, tileSize, overlap }, seed) => {
      const plan = planTiles(width, height, { tileSize, overlap, multiple: MULTIPLE });
      // Values whose Float32 sums depend on their order, and tiles that finish in a scrambled order.
      const value = (tile: { row: number; col: number }, i: number) => Math.fround(Math.sin(seed + 7.3 * tile.row + 3.1 * tile.col + i) * 1e3 + 0.1);
      const run = async (concurrency: number, delay: (i: number) => number) => {
        const out = new Float32Array(width * height);
        let started = 0;
        await runTiles(plan, {
          concurrency, signal: undefined, onProgress: undefined, planes: 1,
          read: (tile) => new Float32Array(tile.x.readLength * tile.y.readLength),
          infer: async (tensor, tile) => {
            const wait = delay(started++);
            for (let i = 0; i < tensor.length; i++) tensor[i] = value(tile, i);
            await new Promise((resolve) => setTimeout(resolve, wait));
            return tensor;
          },
          write: (acc, _rows, fromRow, rowCount, accFirstRow) => {
            out.set(acc.subarray((fromRow - accFirstRow) * width, (fromRow - accFirstRow + rowCount) * width), fromRow * width);
          },
        });
        return out;
      };
      const inOrder = await run(1, () => 0);
      const scrambled = await run(3, (i) => ((i * 7919 + seed) % 5) * 2);
      expect(Buffer.from(scrambled.buffer).equals(Buffer.from(inOrder.buffer))).toBe(true);
    }), { numRuns: 25 });
  });

  it('blend weights sum to one at every pixel and every row is written exactly once, in order', async () => {
    await fc.assert(fc.asyncProperty(tiling, async ({ width, height, tileSize, overlap }) => {
      const plan = planTiles(width, height, { tileSize, overlap, multiple: MULTIPLE });
      // Each tile answers with the global x + 1000 y of every position it was given: blended with
      // weights that sum to one, the output must be exactly that coordinate code everywhere.
      const out = new Float64Array(width * height).fill(Number.NaN);
      const writes = new Uint8Array(height);
      let nextRow = 0;
      await runTiles(plan, {
        concurrency: 2,
        signal: undefined,
        onProgress: undefined,
        read: (tile) => new Float32Array(3 * tile.x.readLength * tile.y.readLength),
        infer: async (tensor, tile) => {
          const tw = tile.x.readLength;
          const th = tile.y.readLength;
          for (let c = 0; c < 3; c++) {
            for (let y = 0; y < th; y++) {
              for (let x = 0; x < tw; x++) tensor[(c * th + y) * tw + x] = (tile.x.readStart + x) + 1000 * (tile.y.readStart + y) + c * 0.25;
            }
          }
          return tensor;
        },
        write: (acc, accRows, fromRow, rowCount, accFirstRow) => {
          expect(fromRow).toBe(nextRow);
          nextRow = fromRow + rowCount;
          for (let y = fromRow; y < fromRow + rowCount; y++) {
            writes[y]! += 1;
            for (let x = 0; x < width; x++) out[y * width + x] = acc[(y - accFirstRow) * width + x]!;
          }
          void accRows;
        },
      });
      expect(nextRow).toBe(height);
      expect(writes.every((w) => w === 1)).toBe(true);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const v = out[y * width + x]!;
          // Float32 accumulation of codes up to ~5e5: a few ulps.
          if (Math.abs(v - (x + 1000 * y)) > 0.1) throw new Error(`pixel (${x}, ${y}) = ${v}, expected ${x + 1000 * y}`);
        }
      }
    }), {
      numRuns: 60,
      // Besides the random cases, always a few split both ways, with and without feathering.
      examples: [
        [{ width: 700, height: 500, tileSize: 64, overlap: 16 }],
        [{ width: 641, height: 333, tileSize: 100, overlap: 0 }],
        [{ width: 700, height: 500, tileSize: 320, overlap: 101 }],
      ],
    });
  });
});

describe('tiled deconvolution (property)', () => {
  it('returns a constant photo unchanged for any size, tile size, overlap and kernel', async () => {
    const cases = fc.record({
      width: fc.integer({ min: 8, max: 640 }),
      height: fc.integer({ min: 8, max: 420 }),
      tileSize: fc.integer({ min: 256, max: 400 }),
      level: fc.integer({ min: 0, max: 255 }),
      kernelSide: fc.constantFrom(1, 3, 5, 7),
      weights: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 49, maxLength: 49 }),
    });
    await fc.assert(fc.asyncProperty(cases, async ({ width, height, tileSize, level, kernelSide, weights }) => {
      const n = kernelSide * kernelSide;
      const data = new Float32Array(weights.slice(0, n));
      data[Math.floor(n / 2)]! += 1; // never all zero
      const image: RawImage = { data: new Uint8Array(width * height).fill(level), width, height, channels: 1 };
      const overlap = Math.min(Math.floor(tileSize / 4), 48);
      const out = await deconvolve(image, { width: kernelSide, height: kernelSide, data }, { tileSize, overlap, workers: 1, method: 'tv' });
      let worst = 0;
      for (const v of out.data as Uint8Array) worst = Math.max(worst, Math.abs(v - level));
      expect(worst, `${width}x${height}, tile ${tileSize}, level ${level}`).toBeLessThanOrEqual(1);
    }), { numRuns: 12 });
  });
});

describe('kernel I/O (property)', () => {
  const kernels = fc.record({
    width: fc.integer({ min: 1, max: 31 }),
    height: fc.integer({ min: 1, max: 31 }),
  }).chain(({ width, height }) => fc.record({
    width: fc.constant(width),
    height: fc.constant(height),
    data: fc.array(fc.float({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: width * height, maxLength: width * height })
      .filter((d) => d.some((v) => v > 1e-6)),
  }));

  it('a PSF written as JSON and read back is unchanged (to float32 precision)', () => {
    fc.assert(fc.property(kernels, ({ width, height, data }) => {
      const sum = data.reduce((a, b) => a + b, 0);
      const psf = { width, height, data: Float32Array.from(data, (v) => v / sum) };
      const back = parseKernelJson(kernelToJson(psf), 'roundtrip.json');
      expect([back.width, back.height]).toEqual([width, height]);
      for (let i = 0; i < psf.data.length; i++) {
        // 8 significant digits in the file, then float32 and a renormalisation: a few float32 ulps.
        expect(Math.abs(back.data[i]! - psf.data[i]!)).toBeLessThanOrEqual(4e-7 * psf.data[i]! + 1e-12);
      }
    }), { numRuns: 200 });
  });

  it('a PSF stored as 8-bit grey (the PNG form) reads back to the same grey', () => {
    fc.assert(fc.property(kernels, ({ width, height, data }) => {
      const grey = kernelToGrey({ width, height, data: Float32Array.from(data) });
      fc.pre(grey.some((g) => g > 0));
      expect(Array.from(kernelToGrey(kernelFromGrey(grey, width, height, 'psf.png')))).toEqual(Array.from(grey));
    }), { numRuns: 200 });
  });
});
