import { describe, expect, it } from 'vitest';

import { InvalidKernelError, InvalidOptionError } from '../src/errors.js';
import { createDeblurrer } from '../src/index.js';
import type { KernelUsed } from '../src/index.js';
import { identityBackend } from './helpers.js';
import { deconvolve } from '../src/deconvolve/deconvolve.js';
import { estimateKernel } from '../src/kernel/estimate.js';
import { validateKernelGrid } from '../src/kernel/kernel-file.js';
import { cellIndexAt, gridCell, padToCommonSide, regionGridSide } from '../src/kernel/regions.js';
import type { KernelGrid } from '../src/kernel/regions.js';
import { applyBlur, applyBlurGrid, deadLeaves, psnrAligned, trajectoryKernel, twoRegionShake } from '../src/synthetic/index.js';
import type { RawImage } from '../src/types.js';
import { kernelNcc } from './kernel-helpers.js';

const W = 768;
const H = 512;

function region(img: RawImage, x0: number, y0: number, w: number, h: number): RawImage {
  const c = img.channels;
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y + y0) * img.width + x0) * c, ((y + y0) * img.width + x0 + w) * c), y * w * c);
  return { width: w, height: h, channels: c, data };
}

/** The planted 2-region shake (`twoRegionShake`), with the left path's uniform shake beside it. */
function twoRegionScene() {
  const { sharp, blurry, grid: { kernels: [left, right] } } = twoRegionShake({ width: W, height: H });
  return { sharp, left, right, uniform: applyBlur(sharp, left, { noise: 0.005, seed: 4 }), blurry };
}

// The four quadrants' interiors, 64 px clear of the boundary between the two shakes.
const QUADRANTS = [[0, 0], [448, 0], [0, 272], [448, 272]] as const;
const quadrant = (img: RawImage, [x, y]: readonly [number, number]) => region(img, x, y, 320, 240);

describe('per-region deconvolution: seams', () => {
  it('keeps a flat photo flat across cells narrower than the tiler\'s feathers (weights sum to one)', async () => {
    // A 3x3 grid of 31 px single-tap kernels on 200x160: cells of 67 x 53 px, shorter than two
    // feathers of the default overlap (6 x 31 = 186 px, feather 46); any seam would show.
    const dot = { width: 31, height: 31, data: Float32Array.from({ length: 961 }, (_, i) => (i === 480 ? 1 : 0)) };
    const flat: RawImage = { width: 200, height: 160, channels: 3, data: new Uint8Array(200 * 160 * 3).fill(100) };
    const grid: KernelGrid = { columns: 3, rows: 3, width: 200, height: 160, kernels: new Array(9).fill(dot), own: new Array(9).fill(true), agreement: new Array(9).fill(1) };
    for (const method of ['wiener', 'hyper-laplacian'] as const) {
      const out = await deconvolve(flat, grid, { method });
      expect(Math.max(...out.data)).toBe(100);
      expect(Math.min(...out.data)).toBe(100);
    }
    // A 32x32 photo with a 2x2 grid of 1x1 kernels: cells of 16 px, a feather of 12 before the cap.
    const tiny: RawImage = { width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3).fill(77) };
    const one = { width: 1, height: 1, data: Float32Array.of(1) };
    const out = await deconvolve(tiny, { columns: 2, rows: 2, width: 32, height: 32, kernels: [one, one, one, one], own: [true, true, true, true], agreement: [1, 1, 1, 1] }, { method: 'wiener' });
    expect([Math.min(...out.data), Math.max(...out.data)]).toEqual([77, 77]);
  });

  it('deblur takes a grid as its kernel option, checked against the photo', async () => {
    const { blurry, left, right } = twoRegionScene();
    const grid: KernelGrid = { columns: 2, rows: 1, width: W, height: H, kernels: [left, right], own: [true, true], agreement: [1, 1] };
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const used: KernelUsed[] = [];
    const out = await d.deblur(blurry, { kernel: grid, onKernel: (u) => used.push(u) });
    expect(used[0]).toMatchObject({ source: 'given', identity: false });
    expect(used[0]!.grid!.columns).toBe(2);
    expect(out.data).toEqual((await deconvolve(blurry, grid)).data);
    await expect(d.deblur(region(blurry, 0, 0, 64, 64), { kernel: grid })).rejects.toThrow(/made for a 768 x 512 photo/);
    await expect(d.deblur(blurry, { kernel: { ...grid, width: 'x' } as never })).rejects.toThrow(InvalidKernelError);
    await d.dispose();
  }, 240_000);
});

describe('per-region kernels (non-uniform shake)', () => {
  it('recovers a planted 2-region shake per region, and restores each quadrant better than one kernel', async () => {
    const { sharp, left, right, blurry } = twoRegionScene();
    const estimate = await estimateKernel(blurry, { regions: 2 });
    expect(estimate.identity).toBe(false);
    const grid = estimate.grid!;
    expect(grid).toBeDefined();
    expect([grid.columns, grid.rows, grid.width, grid.height]).toEqual([2, 2, W, H]);
    // Cells 0 and 2 are the left column, 1 and 3 the right: each holds its own half's path.
    for (const i of [0, 2]) expect(kernelNcc(grid.kernels[i]!, left)).toBeGreaterThanOrEqual(0.85);
    for (const i of [1, 3]) expect(kernelNcc(grid.kernels[i]!, right)).toBeGreaterThanOrEqual(0.85);
    // The photo's kernel is one of the two paths; the cells of the other kept their own.
    expect(grid.own.filter(Boolean).length).toBe(2);
    for (let i = 0; i < 4; i++) if (grid.own[i]) expect(grid.agreement[i]).toBeLessThan(0.8);
    // Every kernel of the grid is the same odd square, each sum 1.
    for (const k of grid.kernels) {
      expect([k.width, k.height]).toEqual([grid.kernels[0]!.width, grid.kernels[0]!.width]);
      expect(k.width % 2).toBe(1);
      expect(k.data.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    const byGrid = await deconvolve(blurry, grid);
    const byOne = await deconvolve(blurry, estimate.kernel);
    const gains = QUADRANTS.map((q) => ({
      blurry: psnrAligned(quadrant(blurry, q), quadrant(sharp, q)),
      grid: psnrAligned(quadrant(byGrid, q), quadrant(sharp, q)),
      one: psnrAligned(quadrant(byOne, q), quadrant(sharp, q)),
    }));
    console.log(gains.map((g) => `blurry ${g.blurry.toFixed(2)} one kernel ${g.one.toFixed(2)} grid ${g.grid.toFixed(2)}`).join('\n'));
    // Every quadrant gains over blurry with the grid (+4 to +5.7 dB when measured); the half the
    // photo's kernel does not fit loses with one kernel and gains with the grid.
    for (const g of gains) expect(g.grid).toBeGreaterThan(g.blurry + 2);
    const wrongHalf = gains.filter((g) => g.one < g.blurry);
    expect(wrongHalf.length).toBe(2);
    for (const g of wrongHalf) expect(g.grid).toBeGreaterThan(g.one + 3);
  }, 240_000);

  it('finds no grid on uniform shake, and none on a photo too small for one', async () => {
    const { uniform } = twoRegionScene();
    const estimate = await estimateKernel(uniform, { regions: 2 });
    expect(estimate.identity).toBe(false);
    expect(estimate.grid).toBeUndefined();
    // 384 x 320: cells of 'auto' would be under 256 px on the short side.
    const small = await estimateKernel(region(uniform, 0, 0, 384, 320), { regions: 'auto' });
    expect(small.grid).toBeUndefined();
  }, 240_000);

  it('on a 3x3 grid estimates the corners first: the planted 2-region shake keeps its outer columns per region', async () => {
    const { left, right, uniform, blurry } = twoRegionScene();
    // The two paths are told apart: a kernel near one is far from the other.
    expect(kernelNcc(left, right)).toBeLessThan(0.85);
    const estimate = await estimateKernel(blurry, { regions: 3 });
    const grid = estimate.grid!;
    expect(grid).toBeDefined();
    expect([grid.columns, grid.rows]).toEqual([3, 3]);
    // Columns 0 and 2 lie wholly in one half each (x < 256, x >= 512; the shakes meet at 384).
    // The photo's kernel is one of the two paths, so the corners of the other half disagree with
    // it, every cell is estimated, and that half's column keeps its own path.
    for (const i of [0, 3, 6]) expect(kernelNcc(grid.kernels[i]!, left)).toBeGreaterThanOrEqual(0.85);
    for (const i of [2, 5, 8]) expect(kernelNcc(grid.kernels[i]!, right)).toBeGreaterThanOrEqual(0.85);
    const photoIsLeft = kernelNcc(estimate.kernel, left) >= 0.85;
    const [ownColumn, photoColumn] = photoIsLeft ? [[2, 5, 8], [0, 3, 6]] : [[0, 3, 6], [2, 5, 8]];
    expect(ownColumn.every((i) => grid.own[i])).toBe(true);
    expect(photoColumn.some((i) => grid.own[i])).toBe(false);
    // Uniform shake: the four corners find the photo's kernel, so no grid.
    expect((await estimateKernel(uniform, { regions: 3 })).grid).toBeUndefined();
  }, 240_000);

  it('on a 3x3 grid does not look past corners that agree: shake differing in a middle band alone gets no grid', async () => {
    // The documented price of the corners first: one path everywhere but a band down the middle
    // (x 307-461, inside the grid's middle column), which has its mirror. Every corner finds the
    // photo's kernel, so the middle cells are not estimated, although their shake differs.
    const { sharp, left, right } = twoRegionScene();
    const columns = applyBlurGrid(sharp, { columns: 5, rows: 1, kernels: [left, left, right, left, left] }, { noise: 0.005, seed: 4 });
    const estimate = await estimateKernel(columns, { regions: 3 });
    expect(kernelNcc(estimate.kernel, left)).toBeGreaterThanOrEqual(0.85);
    expect(estimate.grid).toBeUndefined();
  }, 240_000);

  it('reports progress to its total with a grid planned, whether or not a grid is kept', async () => {
    const { uniform, blurry } = twoRegionScene();
    // Uniform: no grid kept; two regions: a grid kept; maxSize 61 > maxWorkingSize 55 plans a
    // refinement, so each kept cell is refined up to full scale too.
    for (const [photo, options, kept] of [
      [uniform, { regions: 2 }, false], [blurry, { regions: 2 }, true], [blurry, { regions: 2, maxSize: 61 }, true],
      // 3x3: uniform shake stops after the four corners; the 2-region shake runs every cell.
      [uniform, { regions: 3 }, false], [blurry, { regions: 3 }, true],
    ] as const) {
      const seen: { done: number; total: number }[] = [];
      const estimate = await estimateKernel(photo, { ...options, onProgress: (p) => seen.push(p) });
      expect(estimate.grid !== undefined).toBe(kept);
      const last = seen[seen.length - 1]!;
      expect(last.done).toBe(last.total);
      expect(seen.every((p, i) => p.done === i + 1 && p.total === last.total)).toBe(true);
    }
  }, 600_000);

  it('deconvolves each cell with its own kernel: the true grid restores both halves as each kernel does alone', async () => {
    const { sharp, left, right, blurry } = twoRegionScene();
    const truth: KernelGrid = { columns: 2, rows: 1, width: W, height: H, kernels: [left, right], own: [true, true], agreement: [1, 1] };
    const byGrid = await deconvolve(blurry, truth);
    const byLeft = await deconvolve(blurry, left);
    const byRight = await deconvolve(blurry, right);
    // Far from the boundary (the outer 256 px of each half) the grid's result is the single
    // kernel's: within 0.3 dB of it.
    const outer = [[0, 0, 'left'], [512, 0, 'right']] as const;
    for (const [x, y, side] of outer) {
      const truthPsnr = psnrAligned(region(side === 'left' ? byLeft : byRight, x, y, 256, H), region(sharp, x, y, 256, H));
      const gridPsnr = psnrAligned(region(byGrid, x, y, 256, H), region(sharp, x, y, 256, H));
      expect(Math.abs(gridPsnr - truthPsnr)).toBeLessThan(0.3);
      expect(gridPsnr).toBeGreaterThan(psnrAligned(region(blurry, x, y, 256, H), region(sharp, x, y, 256, H)) + 4);
    }
  }, 240_000);

  it('is off by default: one kernel, no grid, even where the shake differs by region', async () => {
    const { blurry } = twoRegionScene();
    expect((await estimateKernel(blurry)).grid).toBeUndefined();
  }, 240_000);

  it('plans grids by the cells\' size, and maps pixels to cells (hand-computed)', () => {
    expect(regionGridSide('auto', 1178, 785, 55)).toBe(3); // 785 / 3 = 261 px ≥ 256 and ≥ 4 x 55
    expect(regionGridSide('auto', 768, 512, 35)).toBe(2); // 512 / 3 = 170 < 256; 512 / 2 = 256
    expect(regionGridSide('auto', 384, 320, 31)).toBe(0);
    expect(regionGridSide('off', 4000, 3000, 55)).toBe(0);
    expect(regionGridSide(4, 400, 400, 51)).toBe(0); // cells of 100 px < 2 kernel sides
    expect(regionGridSide(2, 400, 400, 51)).toBe(2);
    expect(gridCell(1, 2, 3, 3, 1000, 600)).toEqual({ x: 333, y: 400, width: 334, height: 200 });
    const g = { columns: 3, rows: 2, width: 1000, height: 600 };
    expect([cellIndexAt(g, 0, 0), cellIndexAt(g, 332, 299), cellIndexAt(g, 333, 300), cellIndexAt(g, 999, 599)]).toEqual([0, 0, 4, 5]);
    const padded = padToCommonSide([{ width: 1, height: 1, data: Float32Array.of(1) }, trajectoryKernel({ length: 11, seed: 3 })]);
    expect(padded[0]!.width).toBe(padded[1]!.width);
    expect(padded[0]!.data[(padded[0]!.width * padded[0]!.width - 1) / 2]).toBe(1);
    // An even kernel's origin, tap ((w - 1) >> 1, (h - 1) >> 1) as the deconvolution reads it,
    // lands on the odd square's centre: a 4x2 kernel with its origin at (1, 0) in a 5x5 square.
    const even = { width: 4, height: 2, data: Float32Array.from({ length: 8 }, (_, i) => (i === 1 ? 1 : 0)) };
    const [square] = padToCommonSide([even, { width: 3, height: 3, data: new Float32Array(9).fill(1 / 9) }]);
    expect([square!.width, square!.height]).toEqual([5, 5]);
    expect(square!.data[2 * 5 + 2]).toBe(1);
  });

  it('refuses a hostile grid with a clear error, and a bad regions option', async () => {
    const photo = deadLeaves(64, 48, 1);
    const k = trajectoryKernel({ length: 7, seed: 1 });
    const ok = { columns: 2, rows: 1, width: 64, height: 48, kernels: [k, k] };
    expect(validateKernelGrid(ok, 'grid', photo).own).toEqual([true, true]);
    for (const [bad, message] of [
      [{ ...ok, columns: 0 }, /columns and rows/],
      [{ ...ok, columns: 9 }, /columns and rows/],
      [{ ...ok, width: 65 }, /made for a 65 x 48 photo/],
      [{ ...ok, kernels: [k] }, /array of 2 kernels/],
      [{ ...ok, kernels: [k, { width: 1, height: 1, data: [Number.NaN] }] }, /cell 1: value 0 is NaN/],
      [{ ...ok, own: [true] }, /own must be/],
      // Sparse arrays: a hole is refused, not skipped.
      [{ ...ok, kernels: new Array(2) }, /cell 0: expected a kernel/],
      [{ ...ok, own: new Array(2) }, /own\[0\] is undefined/],
      [{ ...ok, agreement: [0.5, 2] }, /agreement\[1\] is 2/],
    ] as const) {
      expect(() => validateKernelGrid(bad, 'grid', photo)).toThrow(InvalidKernelError);
      expect(() => validateKernelGrid(bad, 'grid', photo)).toThrow(message);
    }
    await expect(deconvolve(photo, { ...ok, rows: 2 })).rejects.toThrow(/array of 4 kernels/);
    await expect(deconvolve(photo, null as never)).rejects.toThrow(InvalidKernelError);
    // 64 cells of 256 px (padded to 257): 4.2 million taps, over MAX_GRID_TAPS (2^22).
    const big = { width: 256, height: 256, data: new Float32Array(256 * 256).fill(1) };
    expect(() => validateKernelGrid({ columns: 8, rows: 8, width: 300, height: 300, kernels: new Array(64).fill(big) }, 'grid', { width: 300, height: 300 }))
      .toThrow(/too large a grid/);
    expect(() => validateKernelGrid({ ...ok, columns: 2, rows: 2, width: 1, height: 1, kernels: [k, k, k, k] }, 'grid', { width: 1, height: 1 }))
      .toThrow(/less than a pixel/);
    await expect(estimateKernel(photo, { regions: 5 as never })).rejects.toThrow(InvalidOptionError);
    await expect(estimateKernel(photo, { regions: 'yes' as never })).rejects.toThrow(/regions/);
  });
});
