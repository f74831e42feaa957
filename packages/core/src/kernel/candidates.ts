/**
 * Runs the estimator's kernel sizes: on worker threads when there are several sizes and more than
 * one core (each size is an independent pyramid), else one after the other on this thread. Both
 * paths compute the same numbers in the same order, so the result does not depend on the path.
 */
import type { Plane } from '../pixels/planes.js';
import { throwIfAborted } from '../errors.js';
import { threadsFor, WorkerPool } from '../parallel/pool.js';
import type { Task } from '../parallel/tasks.js';
import { estimateCandidate } from './blind-score.js';
import type { ScoredCandidate } from './blind-score.js';
import { candidateTask } from './candidate-task.js';
import { cellTestTask, windowPrefersOwnKernel } from './cell-task.js';
import type { CellTestJob } from './cell-task.js';
import type { Pyramid } from './candidate-task.js';
import { estimateAtSize, pyramid } from './coarse-to-fine.js';
import type { Level, PyramidSettings } from './coarse-to-fine.js';
import type { ResolvedEstimateOptions } from './options.js';
import { refineTask, refineThroughLevels } from './refine-task.js';
import type { Refined, RefineJob } from './refine-task.js';

export function settingsOf(opts: ResolvedEstimateOptions): PyramidSettings {
  const settings: Partial<ResolvedEstimateOptions> = { ...opts };
  delete settings.onProgress;
  delete settings.signal;
  return settings as PyramidSettings;
}

/**
 * The `step` calls {@link runCandidates} makes for `sizes`: per size, one as it starts (on this
 * thread) or as its result arrives (from a worker), and one per level of its pyramid (the levels
 * `estimateAtSize` walks).
 */
export function candidateSteps(sizes: readonly number[]): number {
  return sizes.reduce((n, size) => n + 1 + pyramid(size).length, 0);
}

/**
 * One scored kernel per size, in the order of `sizes`, scored on `scoreLevel` (the window's
 * full-scale level; workers rebuild it from the window). `step` runs after every pyramid level and
 * after each score (progress, abort checks); `opts.workers` caps the threads (1: this thread only).
 */
export async function runCandidates(
  window: Plane,
  sizes: readonly number[],
  workMax: number,
  opts: ResolvedEstimateOptions,
  saturation: number,
  sigma: number,
  scoreLevel: Level,
  step: () => Promise<void>,
): Promise<ScoredCandidate[]> {
  return runPyramids(sizes.map((size) => ({ window, size, sigma, scoreLevel })), workMax, opts, saturation, step, true);
}

/**
 * One kernel of the photo's chosen `size` per cell window (per-region kernels, estimate.ts step 7),
 * in the order given, unscored: the cells' tests score the kernels that can change the answer
 * themselves, on the cell's own terms, so a blind score per pyramid would be work thrown away (a
 * full hyper-Laplacian deconvolution of each cell's window). `step` as {@link runCandidates}.
 */
export async function runCellPyramids(
  windows: readonly { window: Plane; sigma: number }[],
  size: number,
  workMax: number,
  opts: ResolvedEstimateOptions,
  saturation: number,
  step: () => Promise<void>,
): Promise<Float64Array[]> {
  const found = await runPyramids(windows.map((w) => ({ ...w, size })), workMax, opts, saturation, step, false);
  return found.map((p) => p.kernel);
}

/**
 * Tests 3 and 4 of per-region cells (cell-task.ts), one result per job in the order given (see
 * {@link runEach}).
 */
export function runCellTests(jobs: readonly CellTestJob[], opts: ResolvedEstimateOptions): Promise<boolean[]> {
  return runEach(cellTestTask, windowPrefersOwnKernel, jobs, opts);
}

/**
 * The refinements up to full scale of the per-region cells that keep their own kernels
 * (refine-task.ts), one result per job in the order given (see {@link runEach}; here, the event
 * loop turns and an abort is honoured between levels). `step` runs once per job.
 */
export function runRefinements(jobs: readonly RefineJob[], opts: ResolvedEstimateOptions, step: () => Promise<void>): Promise<Refined[]> {
  const betweenLevels = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(opts.signal);
  };
  return runEach(refineTask, (job) => refineThroughLevels(job, betweenLevels), jobs, opts, step);
}

/**
 * Independent jobs of one task, one result per job in the order given: on worker threads when
 * there are several jobs and more than one core, else here by `here`, one after the other. An
 * abort that came before the call stops it at once (the pool hears one only as it happens); here,
 * one is also honoured between jobs. `done` runs once per job: here after it, on the workers once
 * all results are in.
 */
async function runEach<J, R>(
  task: Task<J, R>, here: (job: J) => R | Promise<R>, jobs: readonly J[], opts: ResolvedEstimateOptions, done?: () => Promise<void>,
): Promise<R[]> {
  throwIfAborted(opts.signal);
  const threads = threadsFor(jobs.length, opts.workers);
  if (threads <= 1) {
    const out: R[] = [];
    for (const job of jobs) {
      throwIfAborted(opts.signal);
      out.push(await here(job));
      await done?.();
    }
    return out;
  }
  const pool = new WorkerPool(threads, opts.signal);
  try {
    const out = await Promise.all(jobs.map((job) => pool.run(task, job)));
    for (let i = 0; i < out.length; i++) await done?.();
    return out;
  } finally {
    await pool.close();
  }
}

/** One independent pyramid: a window, the kernel side to estimate on it, its noise σ, and (on this thread) its scoring level. */
interface PyramidJob {
  window: Plane;
  size: number;
  sigma: number;
  scoreLevel?: Level;
}

/**
 * Independent pyramids (kernel sizes of one window, or one size on several windows: per-region
 * kernels), each estimated coarse to fine and, when `scored`, scored on its own window, in the
 * order given: on worker threads when there are several and more than one core, else one after
 * the other here. `step` runs once per job as it starts here or as its result arrives, and after
 * every level.
 */
async function runPyramids(
  jobs: readonly PyramidJob[], workMax: number, opts: ResolvedEstimateOptions, saturation: number, step: () => Promise<void>, scored: true,
): Promise<ScoredCandidate[]>;
async function runPyramids(
  jobs: readonly PyramidJob[], workMax: number, opts: ResolvedEstimateOptions, saturation: number, step: () => Promise<void>, scored: false,
): Promise<Pyramid[]>;
async function runPyramids(
  jobs: readonly PyramidJob[],
  workMax: number,
  opts: ResolvedEstimateOptions,
  saturation: number,
  step: () => Promise<void>,
  scored: boolean,
): Promise<Pyramid[]> {
  const settings = settingsOf(opts);
  const threads = threadsFor(jobs.length, opts.workers);
  if (threads <= 1) {
    const out: Pyramid[] = [];
    for (const job of jobs) {
      await step(); // let the caller's identity score run first, as it does beside the workers
      out.push(scored
        ? await estimateCandidate(job.window, job.size, workMax, settings, saturation, job.sigma, step, job.scoreLevel)
        : { kernel: await estimateAtSize(job.window, job.size, workMax, settings, saturation, step) });
    }
    return out;
  }
  const pool = new WorkerPool(threads, opts.signal);
  // Progress pings from the workers are serialised into the caller's step(); its first failure
  // (an abort) stops the run.
  let pending = Promise.resolve();
  let failure: unknown;
  const onLevel = () => {
    pending = pending.then(step).catch((err: unknown) => {
      failure ??= err;
      void pool.close();
    });
  };
  try {
    const out = await Promise.all(jobs.map(({ window, size, sigma }) => pool.run(
      candidateTask,
      { width: window.width, height: window.height, data: window.data, size, workMax, settings, saturation, sigma, scored },
      [], onLevel,
    ).then((c) => { onLevel(); return c; }))).catch((err: unknown) => { throw failure ?? err; });
    await pending;
    if (failure !== undefined) throw failure;
    return out;
  } finally {
    await pool.close();
  }
}
