/**
 * The worker-thread entry of @sgenet/core: runs the two CPU-heavy units that parallelise cleanly,
 * one scored kernel size of the estimator and one tile of the deconvolution.
 */
import { parentPort } from 'node:worker_threads';

import { deconvolveTile } from '../deconvolve/tile.js';
import type { TileCache } from '../deconvolve/tile.js';
import { estimateCandidate } from '../kernel/blind-score.js';
import type { WorkerTask } from './pool.js';

// A worker lives for one call of one pool, so its cache holds that call's kernel only.
const cache: TileCache = new Map();

parentPort!.on('message', async (task: WorkerTask) => {
  try {
    if (task.kind === 'candidate') {
      const j = task.job;
      const candidate = await estimateCandidate(
        { width: j.width, height: j.height, data: j.data }, j.size, j.workMax, j.settings, j.saturation, j.sigma,
        () => parentPort!.postMessage({ progress: true }),
      );
      parentPort!.postMessage({ result: candidate }, [candidate.kernel.buffer as ArrayBuffer]);
    } else {
      const out = await deconvolveTile(task.tensor, task.width, task.height, task.settings, cache);
      parentPort!.postMessage({ result: out }, [out.buffer as ArrayBuffer]);
    }
  } catch (err) {
    parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
