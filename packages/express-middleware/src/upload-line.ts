import { AbortError, checkOptionNames, integerOption, invalidOption, isPlainObject } from '@sgenet/core';

import { DeblurHttpError } from './errors.js';

/** Options of {@link UploadLine}. */
export interface UploadLineOptions {
  /** Jobs that run at the same time, 1 to 64. Default 1: one job already uses every core. */
  concurrency?: number;
  /** Jobs that may wait for a free slot, 0 to 10 000. Default 4. */
  maxQueue?: number;
  /**
   * Jobs that may wait for a place in the queue when it is full, 0 to 10 000: they join it in
   * arrival order as places free up, and are refused (503) after `holdMs`. Beyond them, `run`
   * refuses at once. Each holds its upload in memory, as a queued job does. Default: twice
   * `maxQueue` (so 0 keeps the old behaviour of refusing at once). 0 turns the wait off.
   */
  maxHeld?: number;
  /** How long a held job waits for a place in the queue before it is refused, 1 to 600 000 ms. Default 10 000. */
  holdMs?: number;
}

/** Rejection of {@link UploadLine.run} when every slot is busy and the queue is full: HTTP 503. */
export class QueueFullError extends DeblurHttpError {
  /** Seconds after which a retry has a fair chance. */
  readonly retryAfter: number;
  constructor(retryAfter: number, running: number, waiting: number, held = 0) {
    super(
      503,
      'ERR_SGENET_BUSY',
      `The server is busy (${running} running, ${waiting} waiting${held > 0 ? `, ${held} waiting for a place` : ''}): ` +
        `a place is expected to free up in about ${retryAfter} s, retry then`,
      { headers: { 'Retry-After': String(retryAfter) } },
    );
    this.name = 'QueueFullError';
    this.retryAfter = retryAfter;
  }
}

interface Waiter {
  start: () => void;
  onQueued: ((position: number) => void) | undefined;
  /** Set while the job is held (waiting for a place in the queue): refuses it when `holdMs` is up. */
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** The place in line last reported to `onQueued`. */
  position?: number;
}

/** Per-call options of {@link UploadLine.run}. */
export interface RunOptions {
  /** Aborting removes a waiting job from the queue (its promise rejects with `AbortError`). */
  signal?: AbortSignal;
  /**
   * Called with the 1-based place in line when the job has to wait, and as it moves up (held
   * jobs count after the queue: `maxQueue + 1` is the first held one).
   */
  onQueued?: (position: number) => void;
}

const OPTIONS = ['concurrency', 'maxQueue', 'maxHeld', 'holdMs'] as const;

/** Job duration assumed until one has been timed. */
const FIRST_ESTIMATE_MS = 5000;

/**
 * The Express middleware's line of uploads waiting to be deblurred in this process (formerly
 * `JobQueue`; not to be confused with `@sgenet/queue`, the BullMQ job queue shared by workers).
 * At most `concurrency` jobs run and at most `maxQueue` wait for a slot. A job that finds the line
 * full is held, in arrival order, for up to `holdMs` until a place frees up (at most `maxHeld` of
 * them); anything more is refused with {@link QueueFullError} (never buffered without bound).
 * Places go strictly in arrival order, so a client that resubmits at once cannot overtake one that
 * came earlier. The refusal's `Retry-After` is when the next place is expected to free up: the
 * running jobs' time left, from a moving average of job durations. Share one line between routes
 * that use the same model.
 */
export class UploadLine {
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly maxHeld: number;
  readonly holdMs: number;
  /** Start times of the running jobs (Date.now()). */
  private readonly startedAt: number[] = [];
  private readonly waiting: Waiter[] = [];
  private readonly holding: Waiter[] = [];
  private averageMs: number | undefined;

  constructor(options: UploadLineOptions = {}) {
    if (!isPlainObject(options)) throw invalidOption('UploadLine options', 'an object', options);
    checkOptionNames(options, OPTIONS, 'UploadLine option name');
    this.concurrency = integerOption('concurrency', options.concurrency, 1, 64, 1);
    this.maxQueue = integerOption('maxQueue', options.maxQueue, 0, 10_000, 4);
    this.maxHeld = integerOption('maxHeld', options.maxHeld, 0, 10_000, 2 * this.maxQueue);
    this.holdMs = integerOption('holdMs', options.holdMs, 1, 600_000, 10_000);
  }

  /** Jobs running now. */
  get running(): number {
    return this.startedAt.length;
  }

  /** Jobs waiting in the queue for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Jobs held while the queue is full, waiting for a place in it. */
  get held(): number {
    return this.holding.length;
  }

  /** Whether a new job would be refused at once right now. */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxQueue && this.holding.length >= this.maxHeld;
  }

  /** The moving average of job durations, in ms (`undefined` before the first job ends). */
  get averageJobMs(): number | undefined {
    return this.averageMs;
  }

  /**
   * Estimated seconds until a place frees up (1 to 600): the time left of the running job closest
   * to its end, from the moving average of job durations (5 s until a job has been timed). A
   * retry sent then finds a place in line: in the queue, or among the held jobs, which take the
   * queue's places in arrival order.
   */
  retryAfterSeconds(): number {
    if (this.running < this.concurrency) return 1;
    const perJobMs = this.averageMs ?? FIRST_ESTIMATE_MS;
    const now = Date.now();
    let nextMs = perJobMs;
    for (const t of this.startedAt) nextMs = Math.min(nextMs, Math.max(0, perJobMs - (now - t)));
    return Math.min(600, Math.max(1, Math.ceil(nextMs / 1000)));
  }

  /**
   * Runs `task` when a slot is free. A job that finds the queue full is held for up to `holdMs`
   * (in arrival order, at most `maxHeld` of them) and rejects with {@link QueueFullError} if no
   * place frees up by then; beyond `maxHeld` it rejects at once. Rejects with `AbortError` when
   * `signal` fires while the job waits (a running task must watch the signal itself).
   */
  run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, onQueued } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('The job was cancelled before it started'));
    if (this.running < this.concurrency && this.waiting.length === 0 && this.holding.length === 0) return this.execute(task);
    const queueIt = this.waiting.length < this.maxQueue;
    if (!queueIt && this.holding.length >= this.maxHeld) return Promise.reject(this.refusal());
    return new Promise<T>((resolve, reject) => {
      const remove = (): boolean => {
        for (const list of [this.waiting, this.holding]) {
          const i = list.indexOf(waiter);
          if (i >= 0) {
            list.splice(i, 1);
            clearTimeout(waiter.timer);
            this.pump();
            this.notifyPositions();
            return true;
          }
        }
        return false;
      };
      const onAbort = () => {
        if (remove()) reject(new AbortError('The job was cancelled while it waited in the queue'));
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.execute(task).then(resolve, reject);
        },
        onQueued,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (queueIt) {
        this.waiting.push(waiter);
        notify(waiter, this.waiting.length);
        return;
      }
      waiter.timer = setTimeout(() => {
        waiter.timer = undefined;
        const i = this.holding.indexOf(waiter);
        if (i < 0) return;
        this.holding.splice(i, 1);
        signal?.removeEventListener('abort', onAbort);
        this.notifyPositions();
        reject(this.refusal());
      }, this.holdMs);
      this.holding.push(waiter);
      notify(waiter, this.maxQueue + this.holding.length);
    });
  }

  private refusal(): QueueFullError {
    return new QueueFullError(this.retryAfterSeconds(), this.running, this.waiting.length, this.holding.length);
  }

  private async execute<T>(task: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.startedAt.push(started);
    try {
      return await task();
    } finally {
      const ms = Date.now() - started;
      this.averageMs = this.averageMs === undefined ? ms : 0.7 * this.averageMs + 0.3 * ms;
      this.startedAt.splice(this.startedAt.indexOf(started), 1);
      this.pump();
      this.notifyPositions();
    }
  }

  /** Fills free slots from the queue, and free places in the queue from the held jobs, in order. */
  private pump(): void {
    for (;;) {
      if (this.running < this.concurrency && this.waiting.length > 0) {
        this.waiting.shift()!.start();
      } else if (this.holding.length > 0 && (this.waiting.length < this.maxQueue || this.running < this.concurrency)) {
        const next = this.holding.shift()!;
        clearTimeout(next.timer);
        next.timer = undefined;
        // With maxQueue 0 a held job goes straight to the free slot (next turn of the loop).
        this.waiting.push(next);
      } else {
        return;
      }
    }
  }

  /** Tells every waiting job whose place in line changed. */
  private notifyPositions(): void {
    for (let i = 0; i < this.waiting.length; i++) notify(this.waiting[i]!, i + 1);
    for (let i = 0; i < this.holding.length; i++) notify(this.holding[i]!, this.maxQueue + i + 1);
  }
}

function notify(waiter: Waiter, position: number): void {
  if (waiter.position === position) return;
  waiter.position = position;
  safeCall(waiter.onQueued, position);
}

function safeCall(fn: ((position: number) => void) | undefined, position: number): void {
  if (!fn) return;
  try {
    fn(position);
  } catch {
    // A progress hook must never break the queue.
  }
}

/**
 * The former name of {@link UploadLine}.
 * @deprecated Use {@link UploadLine}: beside `@sgenet/queue`, "queue" named two different things.
 */
export const JobQueue = UploadLine;
/** @deprecated Use {@link UploadLine}. */
export type JobQueue = UploadLine;
/** @deprecated Use {@link UploadLineOptions}. */
export type JobQueueOptions = UploadLineOptions;
