import { Job, Queue, QueueEvents } from 'bullmq';
import type { ConnectionOptions, JobsOptions } from 'bullmq';

import { AbortError, checkOptionNames, integerOption, invalidOption, isPlainObject } from '@sgenet/core';

import { DeblurJobError, checkJobData, decodeFailure } from './job.js';
import type { DeblurJobData, DeblurJobFailure, DeblurJobProgress, DeblurJobResult, DeblurJobState } from './job.js';
import { checkConnection, checkName, checkPrefix } from './options.js';

/** Default queue name. */
export const DEFAULT_QUEUE_NAME = 'sgenet-deblur';

/** Options of {@link createDeblurQueue}. */
export interface DeblurQueueOptions {
  /** Redis: `{ host, port }`, `{ url: 'redis://...' }`, or an ioredis instance. */
  connection: ConnectionOptions;
  /** Queue name, shared by producers and workers. Default `sgenet-deblur`. */
  name?: string;
  /** Redis key prefix. Default BullMQ's `bull`. */
  prefix?: string;
  /** Tries per job for failures that retrying can fix (I/O, a crashed backend), 1 to 100. Default 3. */
  attempts?: number;
  /** First retry delay in ms, doubled at each retry, 0 to 3 600 000. Default 2000. */
  backoffMs?: number;
  /** Finished jobs kept for `status()`: completed ones, 0 to 1e7. Default 10 000. */
  keepCompleted?: number;
  /** Failed jobs kept, 0 to 1e7. Default 10 000. */
  keepFailed?: number;
}

/** Options of {@link DeblurQueue.add}. */
export interface AddJobOptions {
  /**
   * Job id, 1 to 128 characters of `[A-Za-z0-9_-]`. Adding an id that is already queued adds
   * nothing (so a producer that retries is idempotent). Default: BullMQ's counter.
   */
  jobId?: string;
  /** 1 (first) to 2 097 152; lower runs earlier. Default: none (first in, first out). */
  priority?: number;
}

/** Where a job stands. */
export interface DeblurJobStatus {
  id: string;
  state: DeblurJobState;
  /** The latest progress the worker reported. */
  progress?: DeblurJobProgress;
  /** Set when `completed`. */
  result?: DeblurJobResult;
  /** Set when `failed`: the job's error code and message. */
  error?: DeblurJobFailure;
  /** Attempts that ended (failed or stalled); 0 before the first ends. */
  attemptsMade: number;
  data?: DeblurJobData;
}

/** Options of {@link DeblurQueue.waitFor}. */
export interface WaitOptions {
  /** Stops waiting (the job goes on) with an `AbortError`. */
  signal?: AbortSignal;
  /** Each progress report of the job. */
  onProgress?: (progress: DeblurJobProgress) => void;
}

interface Waiter {
  resolve: (r: DeblurJobResult) => void;
  reject: (e: Error) => void;
  onProgress: ((p: DeblurJobProgress) => void) | undefined;
}

const KNOWN = ['connection', 'name', 'prefix', 'attempts', 'backoffMs', 'keepCompleted', 'keepFailed'] as const;
const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;
const SWEEP_MS = 1000;
const SWEEP_BATCH = 64;

function isProgress(p: unknown): p is DeblurJobProgress {
  return isPlainObject(p) && typeof p.phase === 'string';
}

/** A producer's handle on the deblur queue: add jobs, read their status, wait for them. */
export class DeblurQueue {
  /** The BullMQ queue, for what this wrapper does not cover (metrics, pause, clean...). */
  readonly bull: Queue;
  readonly name: string;
  private readonly connection: ConnectionOptions;
  private readonly prefix: string | undefined;
  private events: Promise<QueueEvents> | undefined;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly defaults: JobsOptions;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepCursor = 0;

  constructor(options: DeblurQueueOptions) {
    if (!isPlainObject(options)) throw invalidOption('options', 'an object { connection, ... }', options);
    checkOptionNames(options, KNOWN);
    this.connection = checkConnection(options.connection);
    this.name = checkName(options.name) ?? DEFAULT_QUEUE_NAME;
    this.prefix = checkPrefix(options.prefix);
    const attempts = integerOption('attempts', options.attempts, 1, 100, 3);
    const backoffMs = integerOption('backoffMs', options.backoffMs, 0, 3_600_000, 2000);
    this.defaults = {
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { count: integerOption('keepCompleted', options.keepCompleted, 0, 1e7, 10_000) },
      removeOnFail: { count: integerOption('keepFailed', options.keepFailed, 0, 1e7, 10_000) },
    };
    this.bull = new Queue(this.name, {
      connection: this.connection,
      ...(this.prefix !== undefined ? { prefix: this.prefix } : {}),
      defaultJobOptions: this.defaults,
    });
    // Connection errors surface on the calls that need Redis; an 'error' listener keeps them
    // from crashing the process as unhandled events.
    this.bull.on('error', () => {});
  }

  /**
   * Queues a photo. The data is checked here (a bad location or option throws
   * `InvalidOptionError` at once) and again by the worker. Resolves with the job id.
   */
  async add(data: DeblurJobData | (Omit<DeblurJobData, 'kernel'> & { kernel?: unknown }), options: AddJobOptions = {}): Promise<string> {
    const clean = checkJobData(data);
    if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
    if (options.jobId !== undefined && !(typeof options.jobId === 'string' && JOB_ID.test(options.jobId))) {
      throw invalidOption('jobId', '1 to 128 characters of letters, digits, _ or -', options.jobId);
    }
    const priority = integerOption('priority', options.priority, 1, 2_097_152);
    const job = await this.bull.add('deblur', clean, {
      ...(options.jobId !== undefined ? { jobId: options.jobId } : {}),
      ...(priority !== undefined ? { priority } : {}),
    });
    if (job.id === undefined) throw new DeblurJobError(options.jobId ?? '?', { code: 'ERR_SGENET_JOB_FAILED', message: 'Redis did not return a job id' });
    return job.id;
  }

  /** Where a job stands; `state: 'unknown'` when there is no such job (or it was removed). */
  async status(jobId: string): Promise<DeblurJobStatus> {
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) throw invalidOption('jobId', 'a job id', jobId);
    // State first: once it reads completed or failed, the job's hash already holds the result or
    // the reason (read the other way round, a job finishing in between looks failed without one).
    const state = (await this.bull.getJobState(jobId)) as DeblurJobState;
    const job = await Job.fromId<DeblurJobData, DeblurJobResult>(this.bull, jobId);
    if (!job || state === 'unknown') return { id: jobId, state: 'unknown', attemptsMade: 0 };
    const status: DeblurJobStatus = { id: jobId, state, attemptsMade: job.attemptsMade, data: job.data };
    if (isProgress(job.progress)) status.progress = job.progress;
    if (state === 'completed' && job.returnvalue) status.result = job.returnvalue;
    if (state === 'failed') status.error = decodeFailure(job.failedReason);
    return status;
  }

  /**
   * Resolves with the job's result once it completes; rejects with a {@link DeblurJobError}
   * (whose `jobCode` is the job's error code) once it has failed for good.
   */
  async waitFor(jobId: string, options: WaitOptions = {}): Promise<DeblurJobResult> {
    // Listening before the first look, so that a job finishing in between is not missed.
    await this.queueEvents();
    if (options.signal?.aborted) throw new AbortError('Stopped waiting for the job: the AbortSignal fired');
    return new Promise<DeblurJobResult>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (r) => {
          cleanup();
          resolve(r);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
        onProgress: options.onProgress,
      };
      const onAbort = (): void => waiter.reject(new AbortError('Stopped waiting for the job: the AbortSignal fired'));
      const cleanup = (): void => {
        options.signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(jobId);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(jobId);
        if (this.waiters.size === 0 && this.sweepTimer) {
          clearInterval(this.sweepTimer);
          this.sweepTimer = undefined;
        }
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      let set = this.waiters.get(jobId);
      if (!set) this.waiters.set(jobId, (set = new Set()));
      set.add(waiter);
      this.sweepTimer ??= setInterval(() => this.sweep(), SWEEP_MS);
      // The job may have finished before the listener was in place: look once now.
      this.settleFromStatus(jobId, waiter).catch((e: unknown) => waiter.reject(e instanceof Error ? e : new Error(String(e))));
    });
  }

  /** Jobs per state. */
  async counts(): Promise<Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'prioritized', number>> {
    const c = await this.bull.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      prioritized: c.prioritized ?? 0,
    };
  }

  /** Closes the Redis connections; pending `waitFor` calls reject with an `AbortError`. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const set of [...this.waiters.values()]) {
      for (const w of [...set]) w.reject(new AbortError('The queue was closed while waiting for the job'));
    }
    const events = this.events;
    this.events = undefined;
    await Promise.allSettled([this.bull.close(), events?.then((e) => e.close())]);
  }

  private async settleFromStatus(jobId: string, waiter: Waiter): Promise<void> {
    const status = await this.status(jobId);
    if (status.state === 'completed' && status.result) waiter.resolve(status.result);
    else if (status.state === 'failed') waiter.reject(new DeblurJobError(jobId, status.error ?? decodeFailure(undefined)));
    else if (status.state === 'unknown') {
      waiter.reject(new DeblurJobError(jobId, { code: 'ERR_SGENET_JOB_FAILED', message: 'no such job (never added, or removed from Redis)' }));
    }
  }

  /**
   * Events can be missed (the stream is read from "now", and reading starts a moment after the
   * connection is ready; a reconnection): a few waited jobs are looked up directly every second.
   */
  private sweep(): void {
    const ids = [...this.waiters.keys()];
    if (ids.length === 0) return;
    const start = this.sweepCursor % ids.length;
    const batch = ids.slice(start, start + SWEEP_BATCH);
    this.sweepCursor = start + batch.length;
    for (const id of batch) {
      for (const w of [...(this.waiters.get(id) ?? [])]) this.settleFromStatus(id, w).catch(() => {});
    }
  }

  private queueEvents(): Promise<QueueEvents> {
    this.events ??= (async () => {
      const events = new QueueEvents(this.name, {
        connection: this.connection,
        ...(this.prefix !== undefined ? { prefix: this.prefix } : {}),
      });
      events.on('error', () => {});
      events.on('progress', ({ jobId, data }) => {
        if (!isProgress(data)) return;
        for (const w of this.waiters.get(jobId) ?? []) {
          try {
            w.onProgress?.(data);
          } catch {
            // A progress hook must not break the wait.
          }
        }
      });
      const settle = (jobId: string): void => {
        for (const w of [...(this.waiters.get(jobId) ?? [])]) {
          this.settleFromStatus(jobId, w).catch((e: unknown) => w.reject(e instanceof Error ? e : new Error(String(e))));
        }
      };
      events.on('completed', ({ jobId }) => settle(jobId));
      // 'failed' can precede a retry: settleFromStatus reads the state and only a final failure rejects.
      events.on('failed', ({ jobId }) => settle(jobId));
      events.on('removed', ({ jobId }) => settle(jobId));
      await events.waitUntilReady();
      return events;
    })();
    return this.events;
  }
}

/**
 * Opens the deblur queue on Redis, for producers.
 *
 * @example
 * ```ts
 * const queue = createDeblurQueue({ connection: { host: '127.0.0.1', port: 6379 } });
 * const id = await queue.add({ input: 'in/a.jpg', output: 'out/a.jpg', kernel: 'auto' });
 * const result = await queue.waitFor(id);
 * await queue.close();
 * ```
 */
export function createDeblurQueue(options: DeblurQueueOptions): DeblurQueue {
  return new DeblurQueue(options);
}
