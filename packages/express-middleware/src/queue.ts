import { AbortError, invalidOption } from '@sgenet/core';

import { DeblurHttpError } from './errors.js';

/** Options of {@link JobQueue}. */
export interface JobQueueOptions {
  /** Jobs that run at the same time, 1 to 64. Default 1: one job already uses every core. */
  concurrency?: number;
  /** Jobs that may wait for a free slot, 0 to 10 000; beyond that `run` rejects. Default 4. */
  maxQueue?: number;
}

/** Rejection of {@link JobQueue.run} when every slot is busy and the queue is full: HTTP 503. */
export class QueueFullError extends DeblurHttpError {
  /** Seconds after which a retry has a fair chance. */
  readonly retryAfter: number;
  constructor(retryAfter: number, running: number, waiting: number) {
    super(
      503,
      'ERR_SGENET_BUSY',
      `The server is busy (${running} running, ${waiting} waiting): retry in ${retryAfter} s`,
      { headers: { 'Retry-After': String(retryAfter) } },
    );
    this.name = 'QueueFullError';
    this.retryAfter = retryAfter;
  }
}

interface Waiter {
  start: () => void;
  onQueued: ((position: number) => void) | undefined;
}

/** Per-call options of {@link JobQueue.run}. */
export interface RunOptions {
  /** Aborting removes a waiting job from the queue (its promise rejects with `AbortError`). */
  signal?: AbortSignal;
  /** Called with the 1-based queue position when the job has to wait, and as it moves up. */
  onQueued?: (position: number) => void;
}

function intOption(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

/**
 * A bounded job queue: at most `concurrency` jobs run, at most `maxQueue` wait, and anything
 * more is refused at once with {@link QueueFullError} (never buffered without bound). It keeps a
 * moving average of job durations to tell refused clients when to come back (`Retry-After`).
 * Share one queue between routes that use the same model.
 */
export class JobQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private averageMs: number | undefined;

  constructor(options: JobQueueOptions = {}) {
    this.concurrency = intOption('concurrency', options.concurrency, 1, 64, 1);
    this.maxQueue = intOption('maxQueue', options.maxQueue, 0, 10_000, 4);
  }

  /** Jobs running now. */
  get running(): number {
    return this.active;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Whether a new job would be refused right now. */
  get full(): boolean {
    return this.active >= this.concurrency && this.waiting.length >= this.maxQueue;
  }

  /** Estimated seconds until a slot frees up for a new job (1 to 600). */
  retryAfterSeconds(): number {
    const perJobMs = this.averageMs ?? 5000;
    const ahead = this.active + this.waiting.length;
    const seconds = Math.ceil(((ahead / this.concurrency) * perJobMs) / 1000);
    return Math.min(600, Math.max(1, seconds));
  }

  /**
   * Runs `task` when a slot is free. Rejects with {@link QueueFullError} right away when the
   * queue is full, and with `AbortError` when `signal` fires while the job is waiting (a running
   * task must watch the signal itself).
   */
  run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, onQueued } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('The job was cancelled before it started'));
    if (this.active < this.concurrency) return this.execute(task);
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(new QueueFullError(this.retryAfterSeconds(), this.active, this.waiting.length));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          this.notifyPositions(i);
        }
        reject(new AbortError('The job was cancelled while it waited in the queue'));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.execute(task).then(resolve, reject);
        },
        onQueued,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      safeCall(onQueued, this.waiting.length);
    });
  }

  private async execute<T>(task: () => Promise<T>): Promise<T> {
    this.active++;
    const started = Date.now();
    try {
      return await task();
    } finally {
      const ms = Date.now() - started;
      this.averageMs = this.averageMs === undefined ? ms : 0.7 * this.averageMs + 0.3 * ms;
      this.active--;
      const next = this.waiting.shift();
      if (next) {
        next.start();
        this.notifyPositions(0);
      }
    }
  }

  private notifyPositions(from: number): void {
    for (let i = from; i < this.waiting.length; i++) safeCall(this.waiting[i]!.onQueued, i + 1);
  }
}

function safeCall(fn: ((position: number) => void) | undefined, position: number): void {
  if (!fn) return;
  try {
    fn(position);
  } catch {
    // A progress hook must never break the queue.
  }
}
