import { hostname } from 'node:os';

import { UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { ConnectionOptions, Job } from 'bullmq';
import type { Redis } from 'ioredis';
import sharp from 'sharp';

import {
  DeblurrerHolder,
  OutputExistsError,
  SgenetError,
  StorageError,
  checkOptionNames,
  createDeblurrer,
  deblurrerOption,
  describeKernelUsed,
  functionOption,
  integerOption,
  invalidOption,
  isPlainObject,
  modelOption,
  validateKernel,
} from '@sgenet/core';
import type { BackendChoice, Deblurrer, ModelSource, OutputFormat } from '@sgenet/core';
import { deblur, encodeImage, openImage } from '@sgenet/sharp';
import type { OpenedImage } from '@sgenet/sharp';

import { dropConnection, ownedConnection } from './connections.js';
import { PERMANENT_CODES, checkJobData, encodeFailure, formatOfLocation } from './job.js';
import type { DeblurJobData, DeblurJobProgress, DeblurJobResult } from './job.js';
import { checkConnection, checkName, checkPrefix } from './options.js';
import { DEFAULT_QUEUE_NAME } from './queue.js';
import type { DeblurStorage } from './storage.js';

/** Default pixel limit of a worker: 40 MP. */
export const WORKER_DEFAULT_MAX_PIXELS = 40_000_000;
/** Default input size limit of a worker: 100 MiB. */
export const WORKER_DEFAULT_MAX_INPUT_BYTES = 100 * 1024 * 1024;

/** Default bound of {@link DeblurWorker.close}: 30 s. */
export const WORKER_DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** Most of a close's bound kept for handing cancelled jobs back and closing connections: 5 s. */
export const WORKER_HAND_BACK_MAX_MS = 5_000;
/** `code` of a close that Redis did not confirm within its bound (Redis gone, most likely). */
export const WORKER_UNCLEAN_CLOSE = 'ERR_SGENET_WORKER_UNCLEAN_CLOSE';

/** How {@link DeblurWorker.close} ended. */
export type DeblurWorkerClosed =
  | {
      /** Every running job finished or was handed back, and every connection closed in time. */
      clean: true;
    }
  | {
      /**
       * Redis did not confirm the close within the bound (or was found gone before): the worker
       * dropped its connections and released what it holds.
       */
      clean: false;
      code: typeof WORKER_UNCLEAN_CLOSE;
      /** One line for a log: what did not answer, what was dropped and released. */
      message: string;
      /**
       * Jobs still running at the bound. Not handed back: another worker takes each over once its
       * lock expires (`lockDurationMs`), as for a worker that died.
       */
      unfinishedJobs: number;
    };

/** What a worker reports through `onEvent` (for logs). */
export type DeblurWorkerEvent =
  | { type: 'active'; jobId: string; input: string; attempt: number }
  | { type: 'completed'; jobId: string; result: DeblurJobResult }
  | { type: 'failed'; jobId: string; code: string; message: string; willRetry: boolean }
  | { type: 'released'; jobId: string }
  | { type: 'error'; message: string }
  | { type: 'unclean-close'; code: typeof WORKER_UNCLEAN_CLOSE; message: string; unfinishedJobs: number };

/** Options of {@link createDeblurWorker}. */
export interface DeblurWorkerOptions {
  /** Redis: `{ host, port }`, `{ url }` or an ioredis instance. */
  connection: ConnectionOptions;
  /** Where job inputs and outputs are read and written (shared by every worker). */
  storage: DeblurStorage;
  /** Queue name. Default `sgenet-deblur`. */
  name?: string;
  /** Redis key prefix. Default BullMQ's `bull`. */
  prefix?: string;
  /** Jobs this worker runs at the same time, 1 to 64. Default 1 (a deblur already uses every core). */
  concurrency?: number;
  /** A deblurrer to share (or a promise of one). Default: one created from `backend`/`model`/`threads`. */
  deblurrer?: Deblurrer | Promise<Deblurrer>;
  /** Backend of the deblurrer the worker creates. */
  backend?: BackendChoice;
  /**
   * Model of the deblurrer the worker creates: a file path, a shipped model's name (`'sgenet-s'`,
   * the default, or `'sgenet-s-sigma'`, the learned prior that jobs with `effort: 'best'` need) or
   * the ONNX bytes.
   */
  model?: ModelSource;
  /** Backend threads of the deblurrer the worker creates. */
  threads?: number;
  /** Largest photo, in pixels, checked from its header. Default 40 MP. */
  maxPixels?: number;
  /** Largest input file in bytes. Default 100 MiB. */
  maxInputBytes?: number;
  /**
   * How long a job's lock lasts without renewal, in ms (1000 to 600 000). A worker that dies holds
   * its job this long before another takes it over. Default 30 000.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died, in ms (500 to 600 000). Default 30 000. */
  stalledIntervalMs?: number;
  /** Times a job may be taken over from a dead worker before it fails, 0 to 100. Default 2. */
  maxStalledCount?: number;
  /**
   * The bound of `close()`, in ms (0 to 3 600 000): running jobs get all of it but the last
   * quarter (at most 5 s), which is for handing them back and closing the connections. Default
   * 30 000.
   */
  shutdownTimeoutMs?: number;
  /**
   * Log hook: job started, completed, failed (with `willRetry`), released at shutdown, a close
   * Redis did not confirm (`unclean-close`, with why).
   */
  onEvent?: (event: DeblurWorkerEvent) => void;
}

const KNOWN = [
  'connection', 'storage', 'name', 'prefix', 'concurrency', 'deblurrer', 'backend', 'model', 'threads', 'maxPixels',
  'maxInputBytes', 'lockDurationMs', 'stalledIntervalMs', 'maxStalledCount', 'shutdownTimeoutMs', 'onEvent',
] as const;

let instances = 0;

function isStorage(s: unknown): s is DeblurStorage {
  return typeof s === 'object' && s !== null &&
    ['read', 'write', 'exists', 'remove'].every((m) => typeof (s as Record<string, unknown>)[m] === 'function');
}

function isPermanent(err: unknown): boolean {
  if (err instanceof StorageError) return err.permanent;
  return err instanceof SgenetError && PERMANENT_CODES.has(err.code);
}

/** A worker: takes deblur jobs from the queue, one deblurrer, results written to the storage. */
export class DeblurWorker {
  /** The BullMQ worker, for what this wrapper does not cover. */
  readonly bull: Worker<DeblurJobData, DeblurJobResult>;
  /** `<host>:<pid>:<n>`, written into every result. */
  readonly id: string;
  private readonly storage: DeblurStorage;
  private readonly maxPixels: number;
  private readonly maxInputBytes: number;
  private readonly shutdownTimeoutMs: number;
  private readonly onEvent: ((e: DeblurWorkerEvent) => void) | undefined;
  /** The deblurrer given, or the one created on the first job (again after a failed create). */
  private readonly deblurrer: DeblurrerHolder;
  private releasing = false;
  private closing: Promise<DeblurWorkerClosed> | undefined;
  /** The Redis connections this worker made (none when given a client of the caller's). */
  private readonly connections = new Set<Redis>();
  private dropped = false;
  /** Jobs inside `process()` right now, and who waits for none to be. */
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(options: DeblurWorkerOptions) {
    if (!isPlainObject(options)) throw invalidOption('options', 'an object { connection, storage, ... }', options);
    checkOptionNames(options, KNOWN);
    if (!isStorage(options.storage)) throw invalidOption('storage', 'a DeblurStorage (for example fileStorage({ root }))', options.storage);
    const connection = checkConnection(options.connection);
    const name = checkName(options.name) ?? DEFAULT_QUEUE_NAME;
    const prefix = checkPrefix(options.prefix);
    const concurrency = integerOption('concurrency', options.concurrency, 1, 64, 1);
    this.maxPixels = integerOption('maxPixels', options.maxPixels, 1, Number.MAX_SAFE_INTEGER, WORKER_DEFAULT_MAX_PIXELS);
    this.maxInputBytes = integerOption('maxInputBytes', options.maxInputBytes, 1, 2 ** 31 - 1, WORKER_DEFAULT_MAX_INPUT_BYTES);
    const lockDuration = integerOption('lockDurationMs', options.lockDurationMs, 1000, 600_000, 30_000);
    const stalledInterval = integerOption('stalledIntervalMs', options.stalledIntervalMs, 500, 600_000, 30_000);
    const maxStalledCount = integerOption('maxStalledCount', options.maxStalledCount, 0, 100, 2);
    this.shutdownTimeoutMs = integerOption('shutdownTimeoutMs', options.shutdownTimeoutMs, 0, 3_600_000, WORKER_DEFAULT_SHUTDOWN_TIMEOUT_MS);
    this.onEvent = functionOption('onEvent', options.onEvent);
    const create: { backend?: BackendChoice; model?: ModelSource; threads?: number } = {
      backend: options.backend, model: modelOption(options.model), threads: options.threads,
    };
    this.deblurrer = new DeblurrerHolder(deblurrerOption(options.deblurrer) ?? (() => createDeblurrer(create)));
    this.storage = options.storage;
    instances += 1;
    this.id = `${hostname()}:${process.pid}:${instances}`;
    // Options become a client of ours (BullMQ duplicates it for its blocking connection): close()
    // must be able to drop both when Redis stops answering, and BullMQ offers no way to.
    const client = isPlainObject(connection) ? ownedConnection(connection, this.connections) : connection;
    this.bull = new Worker<DeblurJobData, DeblurJobResult>(name, (job, token, signal) => this.process(job, token, signal), {
      connection: client,
      ...(prefix !== undefined ? { prefix } : {}),
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
    });
    this.listen();
  }

  /** BullMQ's events, as {@link DeblurWorkerEvent}s for `onEvent`. */
  private listen(): void {
    this.bull.on('error', (err) => {
      // Once close() has dropped the connections, their "Connection is closed" and last refused
      // reconnects are its own doing, already reported as one unclean-close: not news for a log.
      if (!this.dropped) this.emit({ type: 'error', message: err.message });
    });
    this.bull.on('failed', (job, err) => {
      if (!job?.id || err.name === 'WaitingError') return;
      const [code = 'ERR_SGENET_JOB_FAILED', ...rest] = err.message.split(': ');
      const attempts = job.opts.attempts ?? 1;
      const willRetry = !(err instanceof UnrecoverableError) && job.attemptsMade < attempts;
      this.emit({ type: 'failed', jobId: job.id, code, message: rest.join(': ') || err.message, willRetry });
    });
    this.bull.on('completed', (job, result) => {
      if (job.id) this.emit({ type: 'completed', jobId: job.id, result });
    });
  }

  /** Resolves once the worker is connected and taking jobs. */
  async waitUntilReady(): Promise<void> {
    await this.bull.waitUntilReady();
  }

  /**
   * Stops taking jobs, waits for the running ones, closes the Redis connections: made for SIGTERM,
   * and bounded, so that a process manager's grace period is enough even when Redis has gone.
   *
   * Within `timeoutMs` (default: the `shutdownTimeoutMs` option, 30 s): running jobs get all of
   * it but the last quarter (at most 5 s); then they are cancelled (core's `AbortSignal`) and
   * handed back to the queue untouched, without spending an attempt. If Redis has not confirmed
   * all that by `timeoutMs` (or is found gone before: a QUIT it does not answer), the worker
   * drops its connections, releases its deblurrer (the ONNX
   * sessions; once no job runs on it) and its timers, reports `unclean-close` to `onEvent` and
   * resolves `{ clean: false, code: 'ERR_SGENET_WORKER_UNCLEAN_CLOSE', message, unfinishedJobs }`.
   * It never rejects. A job it could not hand back is taken over by another worker once its lock
   * expires, as for a worker that died.
   *
   * Idempotent: every call returns the first call's promise (a later `timeoutMs` is ignored).
   */
  close(options: { timeoutMs?: number } = {}): Promise<DeblurWorkerClosed> {
    const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 0, 3_600_000, this.shutdownTimeoutMs);
    // One shutdown, whoever asks (as BullMQ's Worker.close): a second SIGTERM handler, a test's
    // cleanup or a library user calling again must not start a second, competing one.
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<DeblurWorkerClosed> {
    // Handing a job back and closing the connections take a few round trips to Redis (and a job
    // notices its cancellation at its next step): keep their time inside the bound, so that the
    // bound is what a process manager's grace period must cover, not the bound plus something.
    const handBackMs = Math.min(Math.floor(timeoutMs / 4), WORKER_HAND_BACK_MAX_MS);
    const closed = this.bull.close()
      .then(() => this.quitConnections())
      .then((down) => (down.length === 0 ? 'closed' as const : { down }), (err: unknown) => ({ failed: err }));
    const timers: NodeJS.Timeout[] = [];
    const after = (ms: number): Promise<'expired'> => new Promise((resolve) => {
      timers.push(setTimeout(() => resolve('expired'), ms));
    });
    try {
      let outcome = await Promise.race([closed, after(timeoutMs - handBackMs)]);
      if (outcome === 'expired') {
        // The running jobs had their share of the bound: cancel them (core's AbortSignal) and hand
        // them back untouched, rather than let a process manager's SIGKILL strand them.
        this.releasing = true;
        this.bull.cancelAllJobs('the worker is shutting down');
        outcome = await Promise.race([closed, after(handBackMs)]);
      }
      if (outcome === 'closed') {
        await this.releaseDeblurrer();
        return { clean: true };
      }
      let why: string;
      if (outcome === 'expired') why = this.whyNotClosed(timeoutMs);
      else if ('down' in outcome) why = `Redis did not answer (connection ${outcome.down.join(', ')})`;
      else why = `closing failed: ${String(outcome.failed)}`;
      const unfinishedJobs = this.running;
      // Past the bound, or with Redis gone, nothing more is worth waiting for: without its
      // connections BullMQ's close fails its Redis calls at once, runs to its end and stops its
      // own timers.
      await this.dropConnections();
      const released = await this.releaseDeblurrer();
      const message = [
        why,
        'Redis connections dropped',
        ...(released === 'now' ? ['deblurrer released'] : released === 'when idle' ? ['deblurrer released once its job stops'] : []),
        ...(unfinishedJobs > 0 ? [`${unfinishedJobs} unfinished job(s) left for another worker once their lock expires`] : []),
      ].join('; ');
      this.emit({ type: 'unclean-close', code: WORKER_UNCLEAN_CLOSE, message, unfinishedJobs });
      return { clean: false, code: WORKER_UNCLEAN_CLOSE, message, unfinishedJobs };
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  }

  /** Why the close has not finished by the bound: what the connections say, for the log. */
  private whyNotClosed(timeoutMs: number): string {
    const down = [...new Set([...this.connections].map((c) => c.status).filter((s) => s !== 'ready'))];
    if (down.length > 0) return `Redis did not answer within ${timeoutMs} ms (connection ${down.join(', ')})`;
    // Connected, yet not closed: a job that has not reacted to its cancellation yet, or a Redis
    // that holds the connection open without answering (a network partition).
    if (this.running > 0) return `${this.running} job(s) still running ${timeoutMs} ms after the close began`;
    return `Redis did not answer within ${timeoutMs} ms`;
  }

  /**
   * After BullMQ's close: quits the connections it leaves to us (the one it was given). BullMQ's
   * close also ends when Redis has gone (it swallows connection errors, and a connection caught
   * mid-reconnect ends at once): a QUIT that Redis answers is what tells a clean close. Returns
   * the states of the connections that could not be quit (dropped instead).
   */
  private async quitConnections(): Promise<string[]> {
    const down: string[] = [];
    await Promise.all([...this.connections].map(async (c) => {
      if (c.status === 'end') return;
      const status = c.status;
      if (status === 'ready' && await c.quit().then(() => true, () => false)) return;
      down.push(status === 'ready' ? 'closed before QUIT was answered' : status);
      dropConnection(c);
    }));
    return [...new Set(down)];
  }

  private async dropConnections(): Promise<void> {
    this.dropped = true;
    for (const c of this.connections) dropConnection(c);
    if (this.connections.size > 0) return;
    // A client of the caller's stays theirs; the blocking connection BullMQ duplicated from it is
    // BullMQ's, reachable only once it has connected (its promise never settles before).
    const blocking = this.bull.getBackend().blockingClient;
    if (!blocking) return;
    const client = await Promise.race([blocking.catch(() => undefined), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
    if (client) dropConnection(client);
  }

  /** Disposes the deblurrer this worker created, once no job runs on it. */
  private async releaseDeblurrer(): Promise<'now' | 'when idle' | 'none'> {
    const dispose = this.deblurrer.release();
    if (!dispose) return 'none';
    // ONNX Runtime must not release a session a job is still running on: after a close that ran
    // out of time, a cancelled job may not have left the deblurrer yet. Dispose when it has.
    if (this.running > 0) {
      this.idleWaiters.push(() => void dispose());
      return 'when idle';
    }
    await dispose();
    return 'now';
  }

  private emit(event: DeblurWorkerEvent): void {
    try {
      this.onEvent?.(event);
    } catch {
      // A log hook must never break a job.
    }
  }

  private async process(job: Job<DeblurJobData, DeblurJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<DeblurJobResult> {
    this.running += 1;
    try {
      return await this.runJob(job, token, signal);
    } finally {
      this.running -= 1;
      if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private async runJob(job: Job<DeblurJobData, DeblurJobResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<DeblurJobResult> {
    const started = Date.now();
    const jobId = job.id ?? 'job';
    try {
      const data = checkJobData(job.data);
      this.emit({ type: 'active', jobId, input: data.input, attempt: job.attemptsStarted });
      const format = data.format ?? formatOfLocation(data.output);
      const reused = await this.finishedBefore(job, data);
      if (reused) return { ...reused, format, durationMs: Date.now() - started };
      if (!data.overwrite && await this.storage.exists(data.output)) {
        throw new OutputExistsError(`"${data.output}" already exists: enqueue with overwrite: true (--overwrite) or choose another output`);
      }
      const report = progressReporter(job);
      const { opened, body, kernel } = await this.restore(data, format, report, signal);
      if (signal?.aborted) throw new WaitingError();
      report({ phase: 'writing', done: 0, total: 0 }, true);
      await this.storage.write(data.output, body, { owner: jobId });
      // Recorded in Redis: a retry after this point (the worker died before completing) must not write again.
      await job.updateProgress({ phase: 'written', done: 1, total: 1 } satisfies DeblurJobProgress).catch(() => {});
      if (data.removeInput) await this.storage.remove(data.input).catch(() => {});
      return {
        output: data.output,
        format,
        width: opened.width,
        height: opened.height,
        bytes: body.length,
        kernel,
        durationMs: Date.now() - started,
        worker: this.id,
        reused: false,
      };
    } catch (err) {
      throw await this.failure(job, token, jobId, signal, err);
    }
  }

  /** Reads the job's photo, deblurs it with core's pipeline and encodes it: the bytes to write. */
  private async restore(
    data: DeblurJobData,
    format: OutputFormat,
    report: (p: DeblurJobProgress, force?: boolean) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ opened: OpenedImage; body: Buffer; kernel: string }> {
    report({ phase: 'reading', done: 0, total: 0 }, true);
    const bytes = await this.storage.read(data.input, { maxBytes: this.maxInputBytes });
    const opened = await openImage(bytes, { limitInputPixels: this.maxPixels });
    const kernel = typeof data.kernel === 'object' ? validateKernel(data.kernel, 'the job\'s kernel', opened) : data.kernel;
    const deblurrer = await this.deblurrer.get();
    let used = 'none';
    const restored = await deblur(opened.image, {
      deblurrer,
      signal,
      kernel,
      network: data.network,
      effort: data.effort,
      ...(data.maxKernelSize !== undefined ? { estimation: { maxSize: data.maxKernelSize } } : {}),
      tileSize: data.tileSize,
      overlap: data.overlap,
      onKernel: (k) => {
        used = describeKernelUsed(k);
      },
      onProgress: ({ done, total, stage }) => report({ phase: 'deblurring', done, total, ...(stage ? { stage } : {}) }),
    });
    report({ phase: 'encoding', done: 0, total: 0 }, true);
    const body = await encodeImage(restored, format, { metadata: opened.metadata, quality: data.quality });
    return { opened, body, kernel: used };
  }

  /**
   * What a failed job throws to BullMQ: handed back untouched when shutdown ran out of time;
   * failed at once (UnrecoverableError) when retrying cannot help; else an error to retry.
   */
  private async failure(job: Job<DeblurJobData, DeblurJobResult>, token: string | undefined, jobId: string, signal: AbortSignal | undefined, err: unknown): Promise<Error> {
    if (this.releasing && (signal?.aborted || err instanceof WaitingError)) {
      // Shutdown ran out of time: hand the job back untouched, without spending an attempt.
      await job.moveToWait(token);
      this.emit({ type: 'released', jobId });
      return new WaitingError();
    }
    if (err instanceof UnrecoverableError || err instanceof WaitingError) return err;
    if (isPermanent(err)) return new UnrecoverableError(encodeFailure(err));
    return new Error(encodeFailure(err));
  }

  /** A retried job whose earlier attempt wrote the output (and died before completing). */
  private async finishedBefore(job: Job<DeblurJobData, DeblurJobResult>, data: DeblurJobData): Promise<Omit<DeblurJobResult, 'format' | 'durationMs'> | undefined> {
    if (job.attemptsStarted <= 1) return undefined;
    const progress = job.progress as Partial<DeblurJobProgress> | undefined;
    const written = typeof progress === 'object' && progress?.phase === 'written';
    // Without the mark, an existing output counts as ours only when the job may not overwrite.
    if (!written && data.overwrite) return undefined;
    if (!(await this.storage.exists(data.output))) return undefined;
    const bytes = await this.storage.read(data.output);
    const meta = await sharp(bytes).metadata();
    return { output: data.output, width: meta.width ?? 0, height: meta.height ?? 0, bytes: bytes.length, kernel: 'unknown', worker: this.id, reused: true };
  }
}

/** Progress reports to Redis, at most four a second (a tile or kernel step can take milliseconds). */
function progressReporter(job: Job): (p: DeblurJobProgress, force?: boolean) => void {
  let last = 0;
  return (p, force = false) => {
    const now = Date.now();
    if (!force && p.done < p.total && now - last < 250) return;
    last = now;
    job.updateProgress(p).catch(() => {});
  };
}

/**
 * Starts a worker that deblurs the queue's jobs: reads each input from the storage, restores it
 * with core's pipeline and writes the output atomically. A worker that is killed loses nothing:
 * its job's lock expires and another worker takes the job over (BullMQ's stalled-job check).
 *
 * @example
 * ```ts
 * const worker = createDeblurWorker({
 *   connection: { host: '127.0.0.1', port: 6379 },
 *   storage: fileStorage({ root: '/mnt/photos' }),
 * });
 * process.on('SIGTERM', async () => {
 *   const closed = await worker.close();                      // within shutdownTimeoutMs
 *   if (!closed.clean) console.error(closed.message);         // Redis did not answer...
 *   process.exit(closed.clean ? 0 : 1);
 * });
 * ```
 */
export function createDeblurWorker(options: DeblurWorkerOptions): DeblurWorker {
  return new DeblurWorker(options);
}
