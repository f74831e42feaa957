/**
 * Queue throughput: jobs per minute with 1 and 2 `sgenet worker` processes on this machine, and
 * queue latency (from `add` to a worker starting the job, on an idle queue). A real redis-server
 * on loopback, real worker processes, project-made photos on a temp folder (the shared storage).
 *
 * Standalone: `node tools/bench/dist/queue-throughput.js [--jobs N] [--size WxH]`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import { createDeblurQueue } from '@sgenet/queue';
import { startRedis } from '@sgenet/queue/testing';
import sharp from 'sharp';

import type { Table } from './report.js';
import { median } from './stats.js';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/sgenet.js', import.meta.url));

export interface QueueRun {
  workers: number;
  threadsPerWorker: number;
  jobs: number;
  seconds: number;
  jobsPerMinute: number;
}

export interface QueueBenchResult {
  width: number;
  height: number;
  runs: QueueRun[];
  /** Milliseconds from add to active on an idle queue: median and max of the samples. */
  latencyMedianMs: number;
  latencyMaxMs: number;
  latencySamples: number;
}

async function startWorkers(url: string, root: string, queue: string, count: number, threads: number): Promise<ChildProcess[]> {
  const procs = Array.from({ length: count }, () =>
    spawn(process.execPath, [CLI, 'worker', '--redis', url, '--root', root, '--queue', queue, '--threads', String(threads)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  await Promise.all(procs.map((p) => new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`a worker did not start: ${out}`)), 60_000);
    p.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('waiting for jobs')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (code) => reject(new Error(`a worker exited (${String(code)}) before it started: ${out}`)));
  })));
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  })));
}

/** Runs the measurement; `jobs` photos of `width x height`, network only (the default pipeline). */
export async function measureQueue(options: { jobs?: number; width?: number; height?: number; latencySamples?: number } = {}): Promise<QueueBenchResult> {
  const jobs = options.jobs ?? 24;
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const samples = options.latencySamples ?? 15;
  const cores = availableParallelism();
  const redis = await startRedis();
  const root = await mkdtemp(join(tmpdir(), 'sgenet-queue-bench-'));
  try {
    await mkdir(join(root, 'in'));
    for (let i = 0; i < 4; i++) {
      const img = applyBlur(deadLeaves(width, height, i + 1), trajectoryKernel({ length: 13, seed: i + 1 }), { noise: 0.01, seed: i });
      await sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toFile(join(root, 'in', `${i}.jpg`));
    }
    const runs: QueueRun[] = [];
    let latencies: number[] = [];
    for (const workers of [1, 2]) {
      const name = `bench-${workers}-${Date.now()}`;
      const threads = Math.max(1, Math.floor(cores / workers));
      const procs = await startWorkers(redis.url, root, name, workers, threads);
      const queue = createDeblurQueue({ connection: { host: redis.host, port: redis.port }, name });
      try {
        // A warm-up job per worker: model load is not throughput.
        await Promise.all(Array.from({ length: workers }, (_, w) => queue.add({ input: 'in/0.jpg', output: `warm-${workers}/${w}.jpg` }).then((id) => queue.waitFor(id))));
        const t0 = performance.now();
        const ids = await Promise.all(Array.from({ length: jobs }, (_, j) => queue.add({ input: `in/${j % 4}.jpg`, output: `out-${workers}/${j}.jpg` })));
        await Promise.all(ids.map((id) => queue.waitFor(id)));
        const seconds = (performance.now() - t0) / 1000;
        runs.push({ workers, threadsPerWorker: threads, jobs, seconds, jobsPerMinute: (jobs / seconds) * 60 });
        if (workers === 1) {
          // Idle queue, one waiting worker: how long a job sits in Redis before it starts.
          latencies = [];
          for (let s = 0; s < samples; s++) {
            const id = await queue.add({ input: 'in/1.jpg', output: `latency/${s}.jpg` });
            await queue.waitFor(id);
            const job = await queue.bull.getJob(id);
            if (job?.processedOn !== undefined) latencies.push(job.processedOn - job.timestamp);
          }
        }
      } finally {
        await queue.close();
        await stopWorkers(procs);
      }
    }
    return {
      width,
      height,
      runs,
      latencyMedianMs: median(latencies),
      latencyMaxMs: Math.max(...latencies),
      latencySamples: latencies.length,
    };
  } finally {
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  }
}

export function queueTable(r: QueueBenchResult): Table {
  const base = r.runs[0]?.jobsPerMinute ?? 1;
  return {
    title: `Queue throughput (${r.width}x${r.height} JPEG, default pipeline, sgenet worker processes)`,
    columns: ['workers', 'threads each', 'jobs', 'seconds', 'jobs / min', 'vs 1 worker'],
    rows: r.runs.map((run) => [String(run.workers), String(run.threadsPerWorker), String(run.jobs), run.seconds.toFixed(1), run.jobsPerMinute.toFixed(1), `${(run.jobsPerMinute / base).toFixed(2)}x`]),
    notes: [`Queue latency (idle queue, one waiting worker, add → active): median ${r.latencyMedianMs.toFixed(1)} ms, max ${r.latencyMaxMs.toFixed(1)} ms over ${r.latencySamples} jobs.`],
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { jobs: { type: 'string' }, size: { type: 'string' } } });
  const [w, h] = (values.size ?? '640x480').split('x').map(Number);
  const result = await measureQueue({ jobs: Number(values.jobs ?? 24), width: w!, height: h! });
  const { renderMarkdown } = await import('./report.js');
  process.stdout.write(`${renderMarkdown(queueTable(result))}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
