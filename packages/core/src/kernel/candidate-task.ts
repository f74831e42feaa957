/**
 * The estimator's unit of work on a worker thread: one kernel size, estimated coarse to fine and
 * scored (blind-score.ts), registered by the worker entry (src/worker.ts).
 */
import type { Task } from '../parallel/tasks.js';
import { estimateCandidate } from './blind-score.js';
import type { ScoredCandidate } from './blind-score.js';
import { estimateAtSize } from './coarse-to-fine.js';
import type { PyramidSettings } from './coarse-to-fine.js';

/** One kernel size of the estimator: the window's plane and what `estimateCandidate` needs. */
export interface CandidateJob {
  width: number;
  height: number;
  data: Float64Array;
  size: number;
  workMax: number;
  settings: PyramidSettings;
  saturation: number;
  /** Noise σ of the window: the blind score's deconvolution weight. */
  sigma: number;
  /** False: the kernel alone, no blind score (per-region cells score their own way). */
  scored: boolean;
}

/** A pyramid's kernel, and its blind score when one was asked for. */
export type Pyramid = Pick<ScoredCandidate, 'kernel'> & Partial<Pick<ScoredCandidate, 'score'>>;

/** One kernel size, scored when asked; a progress ping after every pyramid level. */
export const candidateTask: Task<CandidateJob, Pyramid> = {
  name: 'kernel/candidate',
  async run(j, context) {
    const window = { width: j.width, height: j.height, data: j.data };
    const onLevel = () => context.progress();
    const candidate = j.scored
      ? await estimateCandidate(window, j.size, j.workMax, j.settings, j.saturation, j.sigma, onLevel)
      : { kernel: await estimateAtSize(window, j.size, j.workMax, j.settings, j.saturation, onLevel) };
    return { result: candidate, transfer: [candidate.kernel.buffer as ArrayBuffer] };
  },
};
