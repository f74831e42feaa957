/**
 * A small pool of worker threads for the kernel estimator and the deconvolution: both cores of a
 * 2-core machine work on one photo. Tasks are plain data; results come back transferred. When the
 * compiled worker is absent (the sources run untranspiled, as in unit tests) or one thread is
 * asked for, callers run the same functions on this thread instead (`available()` says which).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { AbortError, SgenetError } from '../errors.js';
import type { TileSettings } from '../deconvolve/tile.js';
import type { PyramidSettings } from '../kernel/coarse-to-fine.js';

/** One kernel size of the estimator. */
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
}

export type WorkerTask =
  | { kind: 'candidate'; job: CandidateJob }
  | { kind: 'deconvolve'; tensor: Float32Array; width: number; height: number; settings: TileSettings };

const WORKER = new URL('./worker.js', import.meta.url);

/** Threads worth starting for `jobs` independent jobs, at most `limit`. */
export function threadsFor(jobs: number, limit: number): number {
  const compiled = WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
  return compiled ? Math.max(1, Math.min(jobs, limit, availableParallelism())) : 1;
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private closed = false;

  constructor(size: number, private readonly signal?: AbortSignal) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER);
      w.unref();
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Runs a task on the next free worker; `onProgress` receives its progress pings. */
  async run<T>(task: WorkerTask, transfer: ArrayBuffer[] = [], onProgress?: () => void): Promise<T> {
    const w = await this.acquire();
    try {
      return await new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(new AbortError());
        this.signal?.addEventListener('abort', onAbort, { once: true });
        const done = () => {
          this.signal?.removeEventListener('abort', onAbort);
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        const onMessage = (m: { progress?: boolean; result?: T; error?: string }) => {
          if (m.progress) { onProgress?.(); return; }
          done();
          if (m.error !== undefined) reject(new SgenetError('ERR_SGENET_BACKEND', `worker thread failed: ${m.error}`));
          else resolve(m.result as T);
        };
        const onError = (err: Error) => { done(); reject(err); };
        // Terminated by close(): the call was aborted or failed elsewhere.
        const onExit = () => { done(); reject(new AbortError()); };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.postMessage(task, transfer);
      });
    } finally {
      this.release(w);
    }
  }

  private acquire(): Promise<Worker> {
    if (this.closed) return Promise.reject(new AbortError());
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  /** Stops every worker (also the busy ones: an aborted call does not wait for them). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
