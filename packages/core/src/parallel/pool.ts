/**
 * A small pool of worker threads for the kernel estimator and the deconvolution: both cores of a
 * 2-core machine work on one photo. Tasks are plain data; results come back transferred. When the
 * compiled worker is absent (the sources run untranspiled, as in unit tests) or one thread is
 * asked for, callers run the same functions on this thread instead (`threadsFor` says which).
 *
 * A pool leases its threads from a process-wide set of started workers and gives them back when it
 * closes: a fresh worker runs its first photo with cold, interpreted code (a 768x512 deconvolution
 * took 1.4 s on new workers against 0.5 s on this warm thread), so a server's second request and
 * the deconvolution after an estimation reuse compiled ones. Spare workers are unref'd (they never
 * keep the process alive) and drop what their last lease cached.
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

/** Started workers no pool holds, ready for the next lease (at most one per core). */
const spare: Worker[] = [];
let leases = 0;

function startWorker(): Worker {
  const w = new Worker(WORKER);
  w.unref();
  // A spare that dies (it should not) must not be leased again.
  w.once('exit', () => {
    const i = spare.indexOf(w);
    if (i >= 0) spare.splice(i, 1);
  });
  return w;
}

/** How a task travels: `lease` tells the worker when its cache belongs to an earlier call. */
export type WorkerMessage = { lease: number; task: WorkerTask } | { release: true };

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: { resolve: (w: Worker) => void; reject: (err: Error) => void }[] = [];
  /** Workers that must not be given back: busy when the pool closed, or failed. */
  private readonly unusable = new Set<Worker>();
  private readonly lease = ++leases;
  private closed = false;

  constructor(size: number, private readonly signal?: AbortSignal) {
    for (let i = 0; i < size; i++) {
      const w = spare.pop() ?? startWorker();
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /** Runs a task on the next free worker; `onProgress` receives its progress pings. */
  async run<T>(task: WorkerTask, transfer: ArrayBuffer[] = [], onProgress?: () => void): Promise<T> {
    const w = await this.acquire();
    try {
      return await new Promise<T>((resolve, reject) => {
        // The worker goes on with the task: it cannot take another, so the pool stops it on close.
        const onAbort = () => { this.unusable.add(w); reject(new AbortError()); };
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
        const onError = (err: Error) => { done(); this.unusable.add(w); reject(err); };
        // Terminated by close(): the call was aborted or failed elsewhere.
        const onExit = () => { done(); this.unusable.add(w); reject(new AbortError()); };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        const message: WorkerMessage = { lease: this.lease, task };
        w.postMessage(message, transfer);
      });
    } finally {
      this.release(w);
    }
  }

  private acquire(): Promise<Worker> {
    if (this.closed) return Promise.reject(new AbortError());
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(w: Worker): void {
    if (this.unusable.has(w)) return;
    const next = this.waiting.shift();
    if (next) next.resolve(w);
    else this.idle.push(w);
  }

  /**
   * Ends the lease: idle workers go back to the spares (up to one per core), after dropping their
   * cache; busy ones (an aborted or failed call does not wait for them) and failed ones stop.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.waiting.splice(0)) reject(new AbortError());
    const stopping: Promise<number>[] = [];
    for (const w of this.all) {
      if (!this.idle.includes(w) || this.unusable.has(w) || spare.length >= availableParallelism()) {
        stopping.push(w.terminate());
        continue;
      }
      const release: WorkerMessage = { release: true };
      w.postMessage(release);
      spare.push(w);
    }
    await Promise.all(stopping);
  }
}
