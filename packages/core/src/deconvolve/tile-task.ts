/**
 * The deconvolution's unit of work on a worker thread: one tile (tile.ts), registered by the worker
 * entry (src/worker.ts). The worker keeps the tile cache of the call (one kernel) for its lease.
 */
import type { Task } from '../parallel/tasks.js';
import { deconvolveTile } from './tile.js';
import type { TileCache, TileSettings } from './tile.js';

/** A tile's planar tensor ([planes][height][width], transferred) and how to deconvolve it. */
export interface TileJob {
  tensor: Float32Array;
  width: number;
  height: number;
  settings: TileSettings;
}

/** The deconvolved tile, in the tensor's own buffer (transferred back). */
export const tileTask: Task<TileJob, Float32Array> = {
  name: 'deconvolve/tile',
  async run(job, context) {
    const cache = context.leaseCache((): TileCache => new Map());
    const out = await deconvolveTile(job.tensor, job.width, job.height, job.settings, cache);
    return { result: out, transfer: [out.buffer as ArrayBuffer] };
  },
};
