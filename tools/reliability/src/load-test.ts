/**
 * Load test of the Express middleware on loopback (autocannon): N uploads at concurrency C against
 * a queue that holds Q. Every request must be answered 200 or 503 with Retry-After, none dropped
 * or hung; the server's peak RSS stays bounded and it serves normally afterwards. Then cancelled
 * clients: queued uploads whose clients disconnect must free their places at once.
 *
 * `node tools/reliability/dist/load-test.js [--requests 200] [--connections 32] [--max-queue 8]`
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core';
import autocannon from 'autocannon';
import sharp from 'sharp';

export interface LoadTestOptions {
  requests?: number;
  connections?: number;
  maxQueue?: number;
  /** Jobs deblurring at once on the server. Default 1. */
  concurrency?: number;
  /** Size of the uploaded photo. Default 320 x 240. */
  width?: number;
  height?: number;
}

export interface LoadReport {
  requests: number;
  connections: number;
  maxQueue: number;
  photo: string;
  answered: number;
  ok: number;
  busy: number;
  busyWithRetryAfter: number;
  /** Any other status: must stay empty. */
  other: Record<string, number>;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; max: number };
  seconds: number;
  /** Peak RSS of the server process (VmHWM), MiB. */
  peakRssMiB: number;
  /** One upload after the load: status and milliseconds. */
  afterwards: { status: number; ms: number };
  cancellation: CancellationReport;
}

export interface CancellationReport {
  /** Queued uploads whose clients disconnected. */
  cancelled: number;
  /** The server reported them aborted, and emptied its queue, within this many ms. */
  freedWithinMs: number;
  abortedSeen: number;
  /** Uploads sent right after, into the freed places: all must be accepted (200). */
  refill: { ok: number; busy: number };
}

// The compiled server, from dist/ and from src/ under vitest alike: a child process runs plain JS.
const SERVER = fileURLToPath(new URL('../dist/load-server.js', import.meta.url));

async function photoPng(width: number, height: number, seed: number): Promise<Buffer> {
  const img = applyBlur(deadLeaves(width, height, seed), trajectoryKernel({ length: 11, seed }));
  return sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function startServer(concurrency: number, maxQueue: number): Promise<{ child: ChildProcess; base: string }> {
  const child = fork(SERVER, [String(concurrency), String(maxQueue)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 60 s')), 60_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${String(code)}) before listening`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

interface Stats { running: number; queued: number; aborted: number; peakRss: number; rss: number }
async function stats(base: string): Promise<Stats> {
  return (await fetch(`${base}/stats`)).json() as Promise<Stats>;
}

function upload(base: string, bytes: Buffer, signal?: AbortSignal): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'photo.png');
  return fetch(`${base}/deblur`, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

/** Fills the queue with slow uploads, disconnects the queued ones, refills the freed places. */
async function cancellation(base: string, maxQueue: number, concurrency: number): Promise<CancellationReport> {
  const slow = await photoPng(1280, 960, 21);
  const small = await photoPng(160, 120, 22);
  const running = Array.from({ length: concurrency }, () => upload(base, slow).then((r) => r.arrayBuffer().then(() => r.status)));
  await until('the first upload to start', async () => (await stats(base)).running === concurrency, 60_000);
  const controllers = Array.from({ length: maxQueue }, () => new AbortController());
  const queued = controllers.map((c) => upload(base, slow, c.signal).then((r) => r.status, () => 'cancelled' as const));
  await until('the queue to fill', async () => (await stats(base)).queued === maxQueue, 60_000);
  const before = (await stats(base)).aborted;
  for (const c of controllers) c.abort();
  const freedWithinMs = await until('the queue to empty', async () => (await stats(base)).queued === 0, 30_000);
  const abortedSeen = (await stats(base)).aborted - before;
  const refill = await Promise.all(Array.from({ length: maxQueue }, () => upload(base, small).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  })));
  await Promise.all([...running, ...queued]);
  return {
    cancelled: maxQueue,
    freedWithinMs,
    abortedSeen,
    refill: { ok: refill.filter((s) => s === 200).length, busy: refill.filter((s) => s === 503).length },
  };
}

export async function runLoadTest(options: LoadTestOptions = {}): Promise<LoadReport> {
  const requests = options.requests ?? 200;
  const connections = options.connections ?? 32;
  const maxQueue = options.maxQueue ?? 8;
  const concurrency = options.concurrency ?? 1;
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const dir = await mkdtemp(join(tmpdir(), 'sgenet-load-'));
  const { child, base } = await startServer(concurrency, maxQueue);
  try {
    const photo = join(dir, 'photo.png');
    await writeFile(photo, await photoPng(width, height, 20));
    let busyWithRetryAfter = 0;
    const result = await autocannon({
      url: `${base}/deblur`,
      method: 'POST',
      connections,
      amount: requests,
      timeout: 120,
      form: { image: { type: 'file', path: photo } },
      setupClient: (client) => {
        // autocannon passes the parser's raw view ({ statusCode, headers: [name, value, ...] }),
        // which its types describe as IncomingHttpHeaders.
        client.on('headers', (raw) => {
          const h = raw as unknown as { statusCode: number; headers: string[] };
          if (h.statusCode !== 503) return;
          for (let i = 0; i < h.headers.length; i += 2) {
            if (h.headers[i]!.toLowerCase() === 'retry-after' && Number(h.headers[i + 1]) > 0) busyWithRetryAfter += 1;
          }
        });
      },
    });
    const codes = result.statusCodeStats as Record<string, { count: number }>;
    const ok = codes['200']?.count ?? 0;
    const busy = codes['503']?.count ?? 0;
    const other: Record<string, number> = {};
    for (const [code, s] of Object.entries(codes)) if (code !== '200' && code !== '503') other[code] = s.count;

    const t0 = performance.now();
    const after = await upload(base, await readFile(photo));
    await after.arrayBuffer();
    const afterwards = { status: after.status, ms: performance.now() - t0 };
    const cancelled = await cancellation(base, maxQueue, concurrency);
    const { peakRss } = await stats(base);
    return {
      requests,
      connections,
      maxQueue,
      photo: `${width}x${height} PNG`,
      answered: ok + busy + Object.values(other).reduce((a, b) => a + b, 0),
      ok,
      busy,
      busyWithRetryAfter,
      other,
      errors: result.errors,
      timeouts: result.timeouts,
      latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      seconds: result.duration,
      peakRssMiB: peakRss / 2 ** 20,
      afterwards,
      cancellation: cancelled,
    };
  } finally {
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: LoadReport): string {
  return [
    `| requests | connections | queue limit | answered | 200 | 503 (with Retry-After) | other | errors | timeouts | p50 ms | p99 ms | max ms | peak RSS MiB | afterwards |`,
    `|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|`,
    `| ${r.requests} | ${r.connections} | ${r.maxQueue} | ${r.answered} | ${r.ok} | ${r.busy} (${r.busyWithRetryAfter}) | ${JSON.stringify(r.other)} | ${r.errors} | ${r.timeouts} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${r.peakRssMiB.toFixed(0)} | ${r.afterwards.status} in ${r.afterwards.ms.toFixed(0)} ms |`,
    '',
    `Cancelled clients: ${r.cancellation.cancelled} queued uploads disconnected; the server reported ${r.cancellation.abortedSeen} aborted and its queue was empty ${r.cancellation.freedWithinMs.toFixed(0)} ms later; ` +
      `${r.cancellation.refill.ok} of ${r.cancellation.cancelled} uploads sent next were accepted (200), ${r.cancellation.refill.busy} refused.`,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { requests: { type: 'string' }, connections: { type: 'string' }, 'max-queue': { type: 'string' } } });
  const report = await runLoadTest({
    ...(values.requests ? { requests: Number(values.requests) } : {}),
    ...(values.connections ? { connections: Number(values.connections) } : {}),
    ...(values['max-queue'] ? { maxQueue: Number(values['max-queue']) } : {}),
  });
  process.stdout.write(`${formatReport(report)}\n\n${JSON.stringify(report)}\n`);
}
