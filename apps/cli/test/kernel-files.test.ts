import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { kernelToGrey } from '@sgenet/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readKernelFile, writeKernelFile } from '../src/kernel-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sgenet-psf-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Random PSFs: 1-41 px a side, non-negative, not all zero, normalised. */
const psfs = fc.record({ width: fc.integer({ min: 1, max: 41 }), height: fc.integer({ min: 1, max: 41 }) })
  .chain(({ width, height }) => fc.record({
    width: fc.constant(width),
    height: fc.constant(height),
    data: fc.array(fc.float({ min: 0, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: width * height, maxLength: width * height })
      .filter((d) => d.some((v) => v > 1e-3)),
  }))
  .map(({ width, height, data }) => {
    const sum = data.reduce((a, b) => a + b, 0);
    return { width, height, data: Float32Array.from(data, (v) => v / sum) };
  });

describe('PSF files (property)', () => {
  it('a PSF written as .json and read back is unchanged', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(psfs, async (psf) => {
      const file = join(dir, `k${n++}.json`);
      await writeKernelFile(psf, file);
      const back = await readKernelFile(file);
      expect([back.width, back.height]).toEqual([psf.width, psf.height]);
      // 8 significant digits in the file, then float32 and a renormalisation: a few float32 ulps.
      for (let i = 0; i < psf.data.length; i++) expect(Math.abs(back.data[i]! - psf.data[i]!)).toBeLessThanOrEqual(4e-7 * psf.data[i]! + 1e-12);
    }), { numRuns: 40 });
  });

  it('a PSF written as .png reads back to the same 8-bit picture, and as the kernel that picture holds', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(psfs, async (psf) => {
      const file = join(dir, `k${n++}.png`);
      await writeKernelFile(psf, file);
      const back = await readKernelFile(file);
      const grey = kernelToGrey(psf);
      expect(Array.from(kernelToGrey(back))).toEqual(Array.from(grey));
      // What a PNG can hold: the kernel quantised to 255 levels of its peak, normalised.
      const total = grey.reduce((a, b) => a + b, 0);
      for (let i = 0; i < grey.length; i++) expect(Math.abs(back.data[i]! - grey[i]! / total)).toBeLessThanOrEqual(1e-6);
    }), { numRuns: 40 });
  });
});
