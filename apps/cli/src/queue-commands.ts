/**
 * `sgenet worker` and `sgenet enqueue`: bulk deblurring on a BullMQ queue (see @sgenet/queue).
 */
import { kernelToJson } from '@sgenet/core';
import type { BlurKernel } from '@sgenet/core';
import { createDeblurQueue, createDeblurWorker, fileStorage, redisUrlOptions, WORKER_DEFAULT_SHUTDOWN_TIMEOUT_MS } from '@sgenet/queue';
import type {
  DeblurJobData,
  DeblurJobResult,
  DeblurQueue,
  DeblurWorker,
  DeblurWorkerClosed,
  DeblurWorkerEvent,
  FileStorage,
} from '@sgenet/queue';

import type { EnqueueCommand, WorkerCommand } from './args.js';
import type { CliIO } from './io.js';
import { EXIT } from './exit-codes.js';
import { planJobs } from './inputs.js';
import type { Job } from './inputs.js';
import { readKernelFile } from './kernel-files.js';
import { ProgressBar } from './progress.js';
import { reasonOf } from './reason.js';

/**
 * Exit status of `sgenet worker` when it stopped without closing cleanly: Redis did not answer
 * within --shutdown-timeout, so the worker dropped its connections and released its deblurrer (a
 * job it was running is taken over by another worker once its lock expires). A clean stop is
 * {@link EXIT.ok}; Redis refusing the worker at start, {@link EXIT.failed}.
 */
export const WORKER_EXIT_UNCLEAN = EXIT.workerUnclean;

/**
 * Runs until SIGTERM or SIGINT; the first signal finishes (or hands back) the running jobs and
 * exits within --shutdown-timeout, Redis or not ({@link WORKER_EXIT_UNCLEAN} when Redis did not
 * answer); a second one exits at once (130).
 */
export async function runWorker(cmd: WorkerCommand, io: CliIO): Promise<number> {
  let connection;
  let storage;
  try {
    connection = redisUrlOptions(cmd.redis);
    storage = fileStorage({ root: cmd.root });
  } catch (err) {
    io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
    return EXIT.usage;
  }
  const log = (line: string): void => {
    if (!cmd.quiet) io.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const shutdownTimeoutMs = cmd.shutdownTimeoutMs ?? WORKER_DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const worker = createDeblurWorker({
    connection,
    storage,
    name: cmd.queue,
    concurrency: cmd.concurrency,
    backend: cmd.backend,
    ...(cmd.model !== undefined ? { model: cmd.model } : {}),
    threads: cmd.threads,
    lockDurationMs: cmd.lockDurationMs,
    stalledIntervalMs: cmd.stalledIntervalMs,
    shutdownTimeoutMs,
    onEvent: workerLog(io, log),
  });
  return untilStopped(worker, { cmd, io, log, root: storage.root, shutdownTimeoutMs });
}

/** The worker's events as log lines: progress on stdout (unless --quiet), failures on stderr. */
function workerLog(io: CliIO, log: (line: string) => void): (e: DeblurWorkerEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'active':
        log(`job ${e.jobId} started: ${e.input}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        break;
      case 'completed':
        log(`job ${e.jobId} done: ${e.result.output} (${(e.result.durationMs / 1000).toFixed(1)} s${e.result.reused ? ', written by an earlier attempt' : ''})`);
        break;
      case 'failed':
        io.stderr.write(`sgenet: job ${e.jobId} failed: ${e.message} [${e.code}]${e.willRetry ? ' (will retry)' : ''}\n`);
        break;
      case 'released':
        log(`job ${e.jobId} handed back to the queue (shutdown)`);
        break;
      case 'error':
        io.stderr.write(`sgenet: worker: ${e.message}\n`);
        break;
      case 'unclean-close':
        // Printed once, from close()'s result (untilStopped).
        break;
    }
  };
}

/**
 * Resolves with the worker's exit status once a signal has stopped it (or Redis refused it at
 * start); a second signal exits at once (130).
 */
function untilStopped(
  worker: DeblurWorker,
  at: { cmd: WorkerCommand; io: CliIO; log: (line: string) => void; root: string; shutdownTimeoutMs: number },
): Promise<number> {
  const { cmd, io, log, shutdownTimeoutMs } = at;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const finish = (code: number): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(code);
    };
    const closedWith = (closed: DeblurWorkerClosed, code: number): void => {
      if (closed.clean) {
        log('worker stopped');
        finish(code);
        return;
      }
      io.stderr.write(`sgenet: worker did not close cleanly: ${closed.message} [${closed.code}]\n`);
      // The bin (bin/sgenet.js) exits promptly on this status: BullMQ and ioredis may still hold
      // one-shot timers for seconds. Not here, so main() stays callable in process.
      finish(code);
    };
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        io.stderr.write(`sgenet: ${signal} again: exiting now; the running job is taken over by another worker\n`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: finishing the running job, then exiting (within ${shutdownTimeoutMs} ms)`);
      // close() never rejects, and settles within shutdownTimeoutMs even when Redis has gone.
      void worker.close().then((closed) => closedWith(closed, closed.clean ? EXIT.ok : WORKER_EXIT_UNCLEAN));
    };
    // Listening before Redis answers: a worker still waiting for Redis must stop on SIGTERM too,
    // within its bound, and say why it could not close cleanly.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    worker.waitUntilReady().then(
      () => {
        if (!stopping) log(`worker ${worker.id} waiting for jobs on "${cmd.queue ?? 'sgenet-deblur'}" (root ${at.root})`);
      },
      (err: unknown) => {
        if (stopping) return;
        stopping = true;
        io.stderr.write(`sgenet: cannot reach Redis at ${cmd.redis}: ${reasonOf(err)}\n`);
        void worker.close({ timeoutMs: 0 }).then((closed) => closedWith(closed, EXIT.failed));
      },
    );
  });
}

/** Adds one job per photo; with --wait, follows them to the end. */
export async function runEnqueue(cmd: EnqueueCommand, io: CliIO): Promise<number> {
  let storage;
  let connection;
  try {
    storage = fileStorage({ root: cmd.root });
    connection = redisUrlOptions(cmd.redis);
  } catch (err) {
    io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
    return 2;
  }
  let planned;
  try {
    planned = await planJobs(cmd.inputs, { outDir: cmd.outDir }, cmd.format);
  } catch (err) {
    io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
    return 2;
  }
  for (const r of planned.rejected) io.stderr.write(`sgenet: ${r.input}: ${r.reason}\n`);
  let kernel: DeblurJobData['kernel'];
  if (cmd.kernel === 'auto' || cmd.kernel === 'none') kernel = cmd.kernel;
  else if (cmd.kernel !== undefined) {
    try {
      const psf: BlurKernel = await readKernelFile(cmd.kernel);
      kernel = JSON.parse(kernelToJson(psf)) as DeblurJobData['kernel'];
    } catch (err) {
      io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
      return 1;
    }
  }
  const { jobs, failed } = await jobsToQueue(planned.jobs, kernel, cmd, storage, io);
  const failures = planned.rejected.length + failed;
  if (jobs.length === 0) return failures > 0 ? 1 : 0;
  const queue = createDeblurQueue({ connection, name: cmd.queue });
  try {
    return (failures + await addJobs(queue, jobs, cmd, io)) > 0 ? 1 : 0;
  } finally {
    await queue.close();
  }
}

/** The job of each planned photo; an output that exists is skipped (unless --overwrite), with a line. */
async function jobsToQueue(
  planned: Job[],
  kernel: DeblurJobData['kernel'],
  cmd: EnqueueCommand,
  storage: FileStorage,
  io: CliIO,
): Promise<{ jobs: { input: string; data: DeblurJobData }[]; failed: number }> {
  const jobs: { input: string; data: DeblurJobData }[] = [];
  let failed = 0;
  for (const job of planned) {
    try {
      const data: DeblurJobData = {
        input: storage.locationOf(job.input),
        output: storage.locationOf(job.output),
        format: job.format,
        kernel,
        network: cmd.network,
        ...(cmd.effort !== undefined ? { effort: cmd.effort } : {}),
        maxKernelSize: cmd.maxSize,
        ...(cmd.overwrite ? { overwrite: true } : {}),
      };
      if (!cmd.overwrite && await storage.exists(data.output)) {
        io.stderr.write(`sgenet: ${job.input}: ${job.output} exists; skipped (use --overwrite to replace it)\n`);
        continue;
      }
      jobs.push({ input: job.input, data });
    } catch (err) {
      failed += 1;
      io.stderr.write(`sgenet: ${job.input}: ${reasonOf(err)}\n`);
    }
  }
  return { jobs, failed };
}

/** Queues the jobs; with --wait, follows them with a progress bar. Resolves with the failures. */
async function addJobs(queue: DeblurQueue, jobs: { input: string; data: DeblurJobData }[], cmd: EnqueueCommand, io: CliIO): Promise<number> {
  let failed = 0;
  const ids: { input: string; id: string }[] = [];
  for (const job of jobs) {
    try {
      ids.push({ input: job.input, id: await queue.add(job.data) });
    } catch (err) {
      failed += 1;
      io.stderr.write(`sgenet: ${job.input}: not queued: ${reasonOf(err)}\n`);
    }
  }
  if (!cmd.wait) {
    if (!cmd.quiet) for (const { input, id } of ids) io.stdout.write(`${input} -> job ${id}\n`);
    return failed;
  }
  const bar = new ProgressBar(io.stderr, !cmd.quiet);
  let finished = 0;
  const draw = (): void => bar.update('queued photos', finished, ids.length, 'jobs');
  draw();
  const outcomes = await Promise.allSettled(ids.map(async ({ id }) => {
    try {
      return await queue.waitFor(id);
    } finally {
      finished += 1;
      draw();
    }
  }));
  bar.clear();
  outcomes.forEach((o, i) => {
    const { input } = ids[i]!;
    if (o.status === 'fulfilled') {
      const r: DeblurJobResult = o.value;
      if (!cmd.quiet) io.stdout.write(`${input} -> ${r.output} (${(r.durationMs / 1000).toFixed(1)} s on ${r.worker})\n`);
    } else {
      failed += 1;
      io.stderr.write(`sgenet: ${input}: ${reasonOf(o.reason)}\n`);
    }
  });
  return failed;
}
