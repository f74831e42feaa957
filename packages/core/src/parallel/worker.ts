/**
 * The worker-thread entry of @sgenet/core: runs the two CPU-heavy units that parallelise cleanly,
 * one scored kernel size of the estimator and one tile of the deconvolution. It outlives the call
 * that started it (pool.ts: workers are leased and given back).
 */
import { parentPort } from 'node:worker_threads';

import { deconvolveTile } from '../deconvolve/tile.js';
import type { TileCache } from '../deconvolve/tile.js';
import { estimateCandidate } from '../kernel/blind-score.js';
import type { WorkerMessage } from './pool.js';

// The cache holds one call's kernel (one pool's lease): a task of another lease, or the end of the
// lease, drops it.
const cache: TileCache = new Map();
let lease = 0;

parentPort!.on('message', async (message: WorkerMessage) => {
  if ('release' in message) {
    cache.clear();
    return;
  }
  if (message.lease !== lease) {
    cache.clear();
    lease = message.lease;
  }
  const { task } = message;
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
