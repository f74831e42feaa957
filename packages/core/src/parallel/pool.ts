/**
 * A small pool of worker threads that run named tasks (tasks.ts): both cores of a 2-core machine
 * work on one photo. The pool knows tasks by name only; a worker entry registers them
 * (`serveTasks`), by default the package's own (src/worker.ts: the estimator's kernel sizes, the
 * per-region cells' pyramids, tests and refinements, and the deconvolution's tiles). Payloads are plain data;
 * results come back transferred, and a task's error comes back as the same `SgenetError` subclass
 * with its `code`. When the compiled worker is
 * absent (the sources run untranspiled, as in unit tests) or one thread is asked for, callers run
 * the same functions on this thread instead (`threadsFor` says which).
 *
 * A pool leases its threads from a process-wide set of started workers and gives them back when it
 * closes: a fresh worker runs its first photo with cold, interpreted code (a 768x512 deconvolution
 * took 1.4 s on new workers against 0.5 s on this warm thread), so a server's second request and
 * the deconvolution after an estimation reuse compiled ones (below 3 MP: on larger photos
 * `deblur()` stops the estimate's workers first, {@link retireSpareWorkers}). Spare workers are
 * unref'd (they never keep the process alive) and drop what their last lease cached.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { AbortError, rebuildError, SgenetError } from '../errors.js';
import type { SerializedError } from '../errors.js';
import type { Task, WorkerMessage, WorkerReply } from './tasks.js';

/** The package's worker entry (src/worker.ts), which serves the estimator's and deconvolution's tasks. */
const WORKER = new URL('../worker.js', import.meta.url);

/** Threads worth starting for `jobs` independent jobs, at most `limit`. */
export function threadsFor(jobs: number, limit: number): number {
  const compiled = WORKER.protocol === 'file:' && existsSync(fileURLToPath(WORKER));
  return compiled ? Math.max(1, Math.min(jobs, limit, availableParallelism())) : 1;
}

/** Started workers no pool holds, per worker entry, ready for the next lease (at most one per core). */
const spares = new Map<string, Worker[]>();
let leases = 0;
/** Pools constructed and not yet closed, in this thread. */
let openPools = 0;

function sparesOf(entry: URL): Worker[] {
  let list = spares.get(entry.href);
  if (!list) spares.set(entry.href, list = []);
  return list;
}

function startWorker(entry: URL): Worker {
  const w = new Worker(entry);
  w.unref();
  // A spare that dies (it should not) must not be leased again.
  w.once('exit', () => {
    const spare = sparesOf(entry);
    const i = spare.indexOf(w);
    if (i >= 0) spare.splice(i, 1);
  });
  return w;
}

/**
 * The error a task's failure rejects with: the `SgenetError` subclass it threw, with its `code`
 * (as on this thread); any other error is a backend failure that keeps its message.
 */
function errorFromWorker(data: SerializedError): SgenetError {
  return rebuildError(data) ?? new SgenetError('ERR_SGENET_BACKEND', `worker thread failed: ${data.message}`);
}

/**
 * Stops every spare worker of `entry` (default: the package's), so that what their last leases
 * dropped is freed now: an idle thread may not collect its garbage for a long time. `deblur()`
 * calls it on a large photo once the kernel estimate returns (its workers would otherwise hold
 * their windows' garbage through the network, or under the deconvolution's FFT caches: a sharp
 * 12 MP photo peaked at 967 MiB through the CLI so, 695-816 MiB with them stopped, training log,
 * session 20; a blurred one with a 189 px kernel 965 MiB, 787 with them stopped, session 28), and
 * before a network that no estimate precedes. Nothing is stopped while any pool is open: another
 * photo is working, its workers would be given back warm when it closes, and the next lease would
 * start cold ones for nothing. The next lease after a retire starts fresh workers (about a second
 * of cold code on their first task).
 */
export async function retireSpareWorkers(entry: URL = WORKER): Promise<void> {
  if (openPools > 0) return;
  await Promise.all(sparesOf(entry).splice(0).map((w) => w.terminate()));
}

export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: { resolve: (w: Worker) => void; reject: (err: Error) => void }[] = [];
  /** Workers that must not be given back: busy when the pool closed, or failed. */
  private readonly unusable = new Set<Worker>();
  private readonly lease = ++leases;
  private readonly spare: Worker[];
  private closed = false;

  /**
   * Leases `size` workers of `entry` (default: the package's worker entry; another one is a
   * module that calls `serveTasks`). An abort of `signal` rejects the tasks in flight.
   */
  constructor(size: number, private readonly signal?: AbortSignal, entry: URL = WORKER) {
    openPools += 1;
    this.spare = sparesOf(entry);
    for (let i = 0; i < size; i++) {
      const w = this.spare.pop() ?? startWorker(entry);
      this.all.push(w);
      this.idle.push(w);
    }
  }

  /**
   * Runs `task` with `payload` on the next free worker (whose entry serves a task of that name);
   * `transfer` lists the payload's buffers to move; `onProgress` receives the task's progress pings.
   */
  async run<P, R>(task: Task<P, R>, payload: P, transfer: ArrayBuffer[] = [], onProgress?: () => void): Promise<R> {
    const w = await this.acquire();
    try {
      return await new Promise<R>((resolve, reject) => {
        // The worker goes on with the task: it cannot take another, so the pool stops it on close.
        const onAbort = () => { this.unusable.add(w); reject(new AbortError()); };
        this.signal?.addEventListener('abort', onAbort, { once: true });
        const done = () => {
          this.signal?.removeEventListener('abort', onAbort);
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        const onMessage = (m: WorkerReply) => {
          if ('progress' in m) { onProgress?.(); return; }
          done();
          if ('error' in m) reject(errorFromWorker(m.error));
          else resolve(m.result as R);
        };
        const onError = (err: Error) => { done(); this.unusable.add(w); reject(err); };
        // Terminated by close(): the call was aborted or failed elsewhere.
        const onExit = () => { done(); this.unusable.add(w); reject(new AbortError()); };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        const message: WorkerMessage = { lease: this.lease, task: task.name, payload };
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
   * With `retire`, every worker stops: what its lease cached is then freed now, where an idle
   * spare would hold it until its own next garbage collection, which an idle thread may not run
   * for a long time (deconvolve/deconvolve.ts says when a pass retires its workers).
   */
  async close({ retire = false }: { retire?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openPools -= 1;
    for (const { reject } of this.waiting.splice(0)) reject(new AbortError());
    const stopping: Promise<number>[] = [];
    for (const w of this.all) {
      if (retire || !this.idle.includes(w) || this.unusable.has(w) || this.spare.length >= availableParallelism()) {
        stopping.push(w.terminate());
        continue;
      }
      const release: WorkerMessage = { release: true };
      w.postMessage(release);
      this.spare.push(w);
    }
    await Promise.all(stopping);
  }
}
