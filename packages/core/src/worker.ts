/**
 * The worker-thread entry of @sgenet/core (parallel/pool.ts starts it): serves the CPU-heavy units
 * that parallelise cleanly: one kernel size of the estimator (scored, or a per-region cell's
 * unscored), one per-region cell's blind-score tests, one kept cell's refinement up to full
 * scale, and one tile of the deconvolution. The pool
 * and the worker's message loop (parallel/) know tasks only by name; this is where the layers
 * above them register theirs.
 */
import { candidateTask } from './kernel/candidate-task.js';
import { cellTestTask } from './kernel/cell-task.js';
import { refineTask } from './kernel/refine-task.js';
import { tileTask } from './deconvolve/tile-task.js';
import { serveTasks } from './parallel/worker-host.js';

serveTasks([candidateTask, cellTestTask, refineTask, tileTask]);
