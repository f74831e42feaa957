/**
 * Step 7's costly tests of a cell's own kernel (estimate.ts, step 7.3): three blind scores on
 * the cell's window, each a hyper-Laplacian deconvolution of it. The unit of work a worker thread
 * runs per cell that passed the cheap tests, registered by the worker entry (src/worker.ts); the
 * same function runs on this thread when there are no workers, with the same numbers.
 */
import type { Task } from '../parallel/tasks.js';
import { blindScore, selectionScore } from './blind-score.js';
import { identityKernel } from './cleanup.js';
import { buildLevel } from './coarse-to-fine.js';
import { REGION_MIN_GAIN } from './regions.js';

/** A cell's window (the plane its pyramid ran on), its own and the photo's kernels, and the tests' settings. */
export interface CellTestJob {
  width: number;
  height: number;
  data: Float64Array;
  /** Both kernels centred in a `size` square (the working scale's largest side). */
  own: Float64Array;
  photoKernel: Float64Array;
  size: number;
  saturation: number;
  /** The window's noise σ: the blind scores' deconvolution weight. */
  sigma: number;
  minConfidence: number;
}

/**
 * Tests 3 and 4 of a cell's own kernel: the cell's window prefers it to the photo's by
 * {@link REGION_MIN_GAIN} on both measures of the blind score (the sparsity of its deconvolution
 * and the selection score), and it is blur (at least `minConfidence` of the identity's sparsity
 * removed). The identity is scored only when the first passes.
 */
export function windowPrefersOwnKernel(j: CellTestJob): boolean {
  const level = buildLevel({ width: j.width, height: j.height, data: j.data }, j.size, j.saturation);
  const mine = blindScore(level, j.own, j.size, j.sigma);
  const photos = blindScore(level, j.photoKernel, j.size, j.sigma);
  const gain = 1 - REGION_MIN_GAIN;
  if (!(selectionScore(mine) <= gain * selectionScore(photos) && mine.sparsity <= gain * photos.sparsity)) return false;
  const identity = blindScore(level, identityKernel(j.size), j.size, j.sigma);
  return 1 - mine.sparsity / identity.sparsity >= j.minConfidence;
}

/** One cell's tests 3 and 4. */
export const cellTestTask: Task<CellTestJob, boolean> = {
  name: 'kernel/cell-test',
  async run(job) {
    return { result: windowPrefersOwnKernel(job) };
  },
};
