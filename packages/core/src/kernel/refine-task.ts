/**
 * Step 5 of the estimator, and of each cell of step 7 that keeps its own kernel (estimate.ts): a
 * working-scale kernel magnified and refined level by level up to full scale, on windows of the
 * photo read beforehand. The unit of work a worker thread runs per kept cell, registered by the
 * worker entry (src/worker.ts); the same function runs on this thread for the photo's own
 * kernel, with the same numbers.
 */
import type { Task } from '../parallel/tasks.js';
import { resizeKernel } from './cleanup.js';
import { alternate, buildLevel } from './coarse-to-fine.js';
import type { PyramidSettings } from './coarse-to-fine.js';

/**
 * Kernel/latent alternations per refinement level above the working scale (planted 93-95 px
 * kernels on a 0.7 MP scene: 2 per level reached NCC 0.76-0.87, 3 reached 0.87-0.92).
 */
export const REFINE_ITERATIONS = 3;

/** One refinement level: a window of the photo's luminance at `scale`, and the kernel side there. */
export interface RefineLevel {
  width: number;
  height: number;
  data: Float64Array;
  /** The kernel side at this level (the last level: the photo's `maxSize`). */
  levelSize: number;
  /** This level's scale against the photo (the last: 1). */
  scale: number;
}

/** A working-scale kernel and the levels above it. */
export interface RefineJob {
  levels: RefineLevel[];
  /** The working-scale kernel, centred in a `size` square. */
  kernel: Float64Array;
  size: number;
  /** The working scale: the kernel's own, and the estimation plane's (the dark-channel patch follows it). */
  workScale: number;
  settings: PyramidSettings;
  saturation: number;
}

/** The refined kernel at full scale, centred in a `size` square. */
export interface Refined {
  kernel: Float64Array;
  size: number;
}

/**
 * Refines `job.kernel` through its levels, coarse to fine: at each, the kernel magnified by the
 * step of scale, then {@link REFINE_ITERATIONS} alternations at half the estimator's λ.
 * `between` runs after every level (this thread: yield and honour an abort).
 */
export async function refineThroughLevels(job: RefineJob, between?: () => void | Promise<void>): Promise<Refined> {
  let k = job.kernel;
  let size = job.size;
  let at = job.workScale;
  for (const l of job.levels) {
    const level = buildLevel({ width: l.width, height: l.height, data: l.data }, l.levelSize, job.saturation);
    const magnified = resizeKernel(k, size, l.levelSize, l.scale / at);
    // The last argument is the level's scale against the estimation plane (the dark-channel patch).
    k = alternate(level, magnified, l.levelSize, REFINE_ITERATIONS, job.settings.lambda / 2, job.settings, false, l.scale / job.workScale);
    size = l.levelSize;
    at = l.scale;
    await between?.();
  }
  return { kernel: k, size };
}

/** One kept cell's refinement up to full scale. */
export const refineTask: Task<RefineJob, Refined> = {
  name: 'kernel/refine',
  async run(job) {
    const refined = await refineThroughLevels(job);
    return { result: refined, transfer: [refined.kernel.buffer as ArrayBuffer] };
  },
};
