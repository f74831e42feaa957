/**
 * What runs on a worker thread: named tasks. The pool (pool.ts) and the worker's message loop
 * (worker-host.ts) know tasks only by this interface and their names; the modules that own the
 * work define them (kernel/candidate-task.ts, kernel/cell-task.ts, kernel/refine-task.ts,
 * deconvolve/tile-task.ts) and the worker entry (src/worker.ts) registers them with `serveTasks`. Payloads, results and
 * progress cross the thread as structured clones; buffers named in `transfer` move instead of
 * being copied.
 */
import type { SerializedError } from '../errors.js';

/** What a task can use besides its payload, on the worker. */
export interface TaskContext {
  /** Sends one progress ping to the caller (the pool's `onProgress`). */
  progress(): void;
  /**
   * This task's state for the current lease (one pool, i.e. one call: for example the FFTs of that
   * call's kernel), made by `create` on first use; dropped when a task of another lease arrives
   * and when the lease ends.
   */
  leaseCache<T>(create: () => T): T;
}

/** A task's result and the buffers of it to transfer rather than copy. */
export interface TaskOutput<R> {
  result: R;
  transfer?: ArrayBuffer[];
}

/** A unit of work a worker thread runs: `run` on the worker, addressed by `name` from the pool. */
export interface Task<P, R> {
  /** Unique among the tasks a worker entry serves, e.g. `'kernel/candidate'`. */
  readonly name: string;
  run(payload: P, context: TaskContext): Promise<TaskOutput<R>>;
}

/**
 * Pool → worker: a task for the worker's current lease (`lease` tells it when its lease caches
 * belong to an earlier call), or the end of the lease.
 */
export type WorkerMessage = { lease: number; task: string; payload: unknown } | { release: true };

/** Worker → pool: a progress ping, the result, or the error the task threw. */
export type WorkerReply = { progress: true } | { result: unknown } | { error: SerializedError };
