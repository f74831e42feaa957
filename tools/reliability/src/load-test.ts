/**
 * Load test of the Express middleware on loopback (autocannon): N uploads at concurrency C against
 * a queue that holds Q. Every request must be answered 200 or 503 with Retry-After, none dropped
 * or hung; the server's peak RSS stays bounded and it serves normally afterwards. Then cancelled
 * clients: queued uploads whose clients disconnect must free their places at once.
 *
 * `node tools/reliability/dist/load-test.js [--requests 200] [--connections 32] [--max-queue 8] [--max-held N] [--hold-ms N]`
 *
 * Fairness (`--fairness`): clients that honour `Retry-After` against clients that resubmit at once,
 * each with its uploads to get through; per client, the 503s in a row and the time to completion.
 *
 * `node tools/reliability/dist/load-test.js --fairness [--clients 8] [--uploads 5] [--honouring 4] [--max-queue 3] [--max-held N] [--hold-ms N]`
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
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
  /** The server's bounded wait for a place (`JobQueue` `maxHeld`, `holdMs`). Default: the library's. */
  maxHeld?: number;
  holdMs?: number;
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

async function startServer(
  concurrency: number,
  maxQueue: number,
  hold: { maxHeld?: number | undefined; holdMs?: number | undefined } = {},
): Promise<{ child: ChildProcess; base: string }> {
  // An empty argument leaves the library's default.
  const args = [String(concurrency), String(maxQueue), hold.maxHeld === undefined ? '' : String(hold.maxHeld), hold.holdMs === undefined ? '' : String(hold.holdMs)];
  const child = fork(SERVER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.disconnect();
  await exited;
}

interface Stats {
  running: number;
  queued: number;
  /** Absent from servers without the bounded wait (before it existed). */
  held?: number;
  limits?: { concurrency: number; maxQueue: number; maxHeld: number; holdMs: number };
  aborted: number;
  peakRss: number;
  rss: number;
}
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
  const { child, base } = await startServer(concurrency, maxQueue, { maxHeld: options.maxHeld, holdMs: options.holdMs });
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
    await stopServer(child);
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

/** Options of {@link runFairnessTest}. */
export interface FairnessOptions {
  /** Clients, each sending its uploads one after the other. Default 8. */
  clients?: number;
  /** Uploads each client must get through. Default 5. */
  uploads?: number;
  /** How many of the clients wait `Retry-After` after a 503; the others resubmit at once. Default half. */
  honouring?: number;
  /** The server's queue: jobs running at once and jobs waiting. Default 1 and 3 (the demo's). */
  concurrency?: number;
  maxQueue?: number;
  /** The server's bounded wait for a place (`JobQueue` `maxHeld`, `holdMs`). Default: the library's. */
  maxHeld?: number;
  holdMs?: number;
  /** Size of the uploaded photo. Default 320 x 240. */
  width?: number;
  height?: number;
  /** Attempts allowed for one upload before the client gives it up. Default 5000. */
  maxAttempts?: number;
  /** The whole run stops (every client gives up) after this many seconds. Default 900. */
  deadlineS?: number;
  /** A `Retry-After` longer than this is slept for this long only. Default 120. */
  maxSleepS?: number;
}

/** One client of the fairness test. */
export interface FairnessClient {
  client: number;
  honoursRetryAfter: boolean;
  uploads: number;
  /** Uploads answered 200. */
  done: number;
  attempts: number;
  /** 503 answers, and those of them without a usable `Retry-After` (must stay 0). */
  refusals: number;
  refusalsWithoutRetryAfter: number;
  /** The most 503s in a row for one upload. */
  longestStreak: number;
  /** 503s in a row before each upload went through. */
  streaks: number[];
  /** Seconds from the start until its last upload was answered 200 (`null`: not all got through). */
  completedS: number | null;
  /** Seconds spent sleeping out `Retry-After`s. */
  sleptS: number;
  /** `Retry-After` values received (seconds): count, smallest, mean, largest. */
  retryAfter: { n: number; min: number; mean: number; max: number } | null;
  /** Other statuses and network errors (must stay 0), and why it stopped early, if it did. */
  failures: number;
  gaveUp?: string;
}

/** Figures for one kind of client. */
export interface FairnessGroup {
  clients: number;
  uploads: number;
  done: number;
  attempts: number;
  refusals: number;
  /** Longest refused streak of any of its clients, and the median of the clients' longest streaks. */
  longestStreakMax: number;
  longestStreakMedian: number;
  /** Time to completion, seconds: median and slowest client (`null` when one did not finish). */
  completionMedianS: number | null;
  completionMaxS: number | null;
}

export interface FairnessReport {
  clients: number;
  uploads: number;
  concurrency: number;
  maxQueue: number;
  /** The server's bounded wait, as it reports it (`null`: a server without one). */
  maxHeld: number | null;
  holdMs: number | null;
  photo: string;
  honouring: FairnessGroup;
  immediate: FairnessGroup;
  /** Median completion of the clients that honour Retry-After over that of the ones that do not (1 = fair). */
  completionRatio: number | null;
  /** Slowest client over fastest client, all kinds (1 = fair). */
  spreadRatio: number | null;
  /** Every `Retry-After` the honouring clients were given, seconds: smallest, median, largest. */
  retryAfterS: { min: number; median: number; max: number } | null;
  /** The most requests the server held waiting for a place at once (0 without the bounded wait). */
  peakHeld: number;
  peakRssMiB: number;
  seconds: number;
  perClient: FairnessClient[];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function fairnessClient(
  client: number,
  honours: boolean,
  base: string,
  photo: Buffer,
  limits: { uploads: number; maxAttempts: number; deadline: number; maxSleepS: number; t0: number; seen: number[] },
): Promise<FairnessClient> {
  const r: FairnessClient = {
    client, honoursRetryAfter: honours, uploads: limits.uploads, done: 0, attempts: 0, refusals: 0, refusalsWithoutRetryAfter: 0,
    longestStreak: 0, streaks: [], completedS: null, sleptS: 0, retryAfter: null, failures: 0,
  };
  let raN = 0;
  let raSum = 0;
  let raMin = Infinity;
  let raMax = 0;
  uploads: for (let u = 0; u < limits.uploads; u++) {
    let streak = 0;
    for (let attempt = 0; ; attempt++) {
      const left = limits.deadline - performance.now();
      if (left <= 0) {
        r.gaveUp = `the ${((limits.deadline - limits.t0) / 1000).toFixed(0)} s deadline passed`;
        break uploads;
      }
      if (attempt >= limits.maxAttempts) {
        r.gaveUp = `upload ${u + 1} was refused ${limits.maxAttempts} times`;
        break uploads;
      }
      r.attempts += 1;
      let status: number;
      let retryAfter = NaN;
      try {
        const res = await upload(base, photo, AbortSignal.timeout(Math.ceil(left)));
        await res.arrayBuffer();
        status = res.status;
        retryAfter = Number(res.headers.get('retry-after'));
      } catch (err) {
        r.failures += 1;
        if (r.failures >= 10) {
          r.gaveUp = `too many network errors (${err instanceof Error ? err.message : String(err)})`;
          break uploads;
        }
        continue;
      }
      if (status === 200) break;
      if (status !== 503) {
        r.failures += 1;
        r.gaveUp = `answered ${status}`;
        break uploads;
      }
      r.refusals += 1;
      streak += 1;
      if (Number.isFinite(retryAfter) && retryAfter > 0) {
        raN += 1;
        raSum += retryAfter;
        raMin = Math.min(raMin, retryAfter);
        raMax = Math.max(raMax, retryAfter);
        if (honours) limits.seen.push(retryAfter);
      } else {
        r.refusalsWithoutRetryAfter += 1;
      }
      if (honours) {
        const s = Math.min(limits.maxSleepS, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1, (limits.deadline - performance.now()) / 1000);
        if (s > 0) await new Promise((resolve) => setTimeout(resolve, s * 1000));
        r.sleptS += Math.max(0, s);
      }
    }
    r.streaks.push(streak);
    r.longestStreak = Math.max(r.longestStreak, streak);
    r.done += 1;
  }
  if (r.done === limits.uploads) r.completedS = (performance.now() - limits.t0) / 1000;
  if (raN > 0) r.retryAfter = { n: raN, min: raMin, mean: raSum / raN, max: raMax };
  return r;
}

function group(clients: FairnessClient[]): FairnessGroup {
  const finished = clients.every((c) => c.completedS !== null);
  const times = clients.map((c) => c.completedS ?? Infinity);
  return {
    clients: clients.length,
    uploads: clients.reduce((a, c) => a + c.uploads, 0),
    done: clients.reduce((a, c) => a + c.done, 0),
    attempts: clients.reduce((a, c) => a + c.attempts, 0),
    refusals: clients.reduce((a, c) => a + c.refusals, 0),
    longestStreakMax: Math.max(0, ...clients.map((c) => c.longestStreak)),
    longestStreakMedian: clients.length ? median(clients.map((c) => c.longestStreak)) : 0,
    completionMedianS: clients.length && finished ? median(times) : null,
    completionMaxS: clients.length && finished ? Math.max(...times) : null,
  };
}

/**
 * Fairness under load: `clients` clients each get `uploads` uploads through a small queue (the
 * demo's 1 running + 3 waiting by default), one at a time each, all at once. Some wait
 * `Retry-After` after a 503, the others resubmit at once. Reports, per client and per kind, the
 * 503s in a row (longest refused streak) and the time to completion. Every loop is bounded: at
 * most `maxAttempts` tries per upload and `deadlineS` in all; the server is a child process on
 * 127.0.0.1.
 */
export async function runFairnessTest(options: FairnessOptions = {}): Promise<FairnessReport> {
  const clients = options.clients ?? 8;
  const uploads = options.uploads ?? 5;
  const honouring = options.honouring ?? Math.floor(clients / 2);
  const concurrency = options.concurrency ?? 1;
  const maxQueue = options.maxQueue ?? 3;
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const photo = await photoPng(width, height, 23);
  const { child, base } = await startServer(concurrency, maxQueue, { maxHeld: options.maxHeld, holdMs: options.holdMs });
  let peakHeld = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        peakHeld = Math.max(peakHeld, (await stats(base)).held ?? 0);
      } catch {
        // The server is busy answering uploads; the next poll will do.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    // One upload first, so the server has loaded the model and timed a job.
    const warm = await upload(base, photo);
    await warm.arrayBuffer();
    if (warm.status !== 200) throw new Error(`the warm-up upload was answered ${warm.status}`);
    const limits0 = (await stats(base)).limits;
    const t0 = performance.now();
    const seen: number[] = [];
    const limits = {
      uploads,
      maxAttempts: options.maxAttempts ?? 5000,
      deadline: t0 + (options.deadlineS ?? 900) * 1000,
      maxSleepS: options.maxSleepS ?? 120,
      t0,
      seen,
    };
    // The kinds alternate (while both last), so neither gets the first places by its index.
    const kinds: boolean[] = [];
    for (let h = honouring, o = clients - honouring; h + o > 0;) {
      if (h > 0 && (kinds.at(-1) !== true || o === 0)) {
        kinds.push(true);
        h -= 1;
      } else {
        kinds.push(false);
        o -= 1;
      }
    }
    const perClient = await Promise.all(kinds.map((honours, i) => fairnessClient(i + 1, honours, base, photo, limits)));
    const seconds = (performance.now() - t0) / 1000;
    const honours = group(perClient.filter((c) => c.honoursRetryAfter));
    const immediate = group(perClient.filter((c) => !c.honoursRetryAfter));
    const times = perClient.map((c) => c.completedS);
    const allDone = times.every((t): t is number => t !== null);
    return {
      clients,
      uploads,
      concurrency,
      maxQueue,
      maxHeld: limits0?.maxHeld ?? null,
      holdMs: limits0?.holdMs ?? null,
      photo: `${width}x${height} PNG`,
      honouring: honours,
      immediate,
      completionRatio: honours.completionMedianS !== null && immediate.completionMedianS ? honours.completionMedianS / immediate.completionMedianS : null,
      spreadRatio: allDone ? Math.max(...times) / Math.min(...times) : null,
      retryAfterS: seen.length ? { min: Math.min(...seen), median: median(seen), max: Math.max(...seen) } : null,
      peakHeld,
      peakRssMiB: (await stats(base)).peakRss / 2 ** 20,
      seconds,
      perClient,
    };
  } finally {
    polling = false;
    await poller;
    await stopServer(child);
  }
}

export function formatFairness(r: FairnessReport): string {
  const s = (v: number | null, d = 0) => (v === null ? 'did not finish' : v.toFixed(d));
  const row = (name: string, g: FairnessGroup) =>
    `| ${name} | ${g.clients} | ${g.done}/${g.uploads} | ${g.attempts} | ${g.refusals} | ${g.longestStreakMax} (median ${g.longestStreakMedian}) | ${s(g.completionMedianS)} | ${s(g.completionMaxS)} |`;
  return [
    `${r.clients} clients x ${r.uploads} uploads (${r.photo}) against ${r.concurrency} running + ${r.maxQueue} waiting, ` +
      `${r.maxHeld === null ? 'a server without the bounded wait' : r.maxHeld === 0 ? 'maxHeld 0 (refused at once)' : `up to ${r.maxHeld} held for ${r.holdMs} ms`}; ${r.seconds.toFixed(0)} s in all`,
    '',
    '| clients | n | uploads done | attempts | 503s | longest refused streak | completion s, median | completion s, slowest |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('honour Retry-After', r.honouring),
    row('resubmit at once', r.immediate),
    '',
    `Completion ratio (honouring / at once, medians): ${s(r.completionRatio, 2)}; slowest / fastest client: ${s(r.spreadRatio, 2)}; ` +
      `Retry-After given to honouring clients: ${r.retryAfterS ? `${r.retryAfterS.min}-${r.retryAfterS.max} s (median ${r.retryAfterS.median})` : 'none'}; ` +
      `peak held ${r.peakHeld}; server peak RSS ${r.peakRssMiB.toFixed(0)} MiB.`,
    '',
    '| client | honours Retry-After | 503s | streaks per upload | completion s | slept s | Retry-After s (min/mean/max) |',
    '|---:|---|---:|---|---:|---:|---|',
    ...r.perClient.map((c) =>
      `| ${c.client} | ${c.honoursRetryAfter ? 'yes' : 'no'} | ${c.refusals} | ${c.streaks.join(' ')} | ${s(c.completedS)}${c.gaveUp ? ` (${c.gaveUp})` : ''} | ${c.sleptS.toFixed(0)} | ` +
        `${c.retryAfter ? `${c.retryAfter.min}/${c.retryAfter.mean.toFixed(1)}/${c.retryAfter.max}` : '-'} |`),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      connections: { type: 'string' },
      'max-queue': { type: 'string' },
      'max-held': { type: 'string' },
      'hold-ms': { type: 'string' },
      fairness: { type: 'boolean' },
      clients: { type: 'string' },
      uploads: { type: 'string' },
      honouring: { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const hold = {
    ...(values['max-held'] !== undefined ? { maxHeld: num(values['max-held'])! } : {}),
    ...(values['hold-ms'] !== undefined ? { holdMs: num(values['hold-ms'])! } : {}),
  };
  if (values.fairness) {
    const report = await runFairnessTest({
      ...hold,
      ...(values.clients ? { clients: Number(values.clients) } : {}),
      ...(values.uploads ? { uploads: Number(values.uploads) } : {}),
      ...(values.honouring ? { honouring: Number(values.honouring) } : {}),
      ...(values['max-queue'] ? { maxQueue: Number(values['max-queue']) } : {}),
    });
    process.stdout.write(`${formatFairness(report)}\n\n${JSON.stringify(report)}\n`);
  } else {
    const report = await runLoadTest({
      ...hold,
      ...(values.requests ? { requests: Number(values.requests) } : {}),
      ...(values.connections ? { connections: Number(values.connections) } : {}),
      ...(values['max-queue'] ? { maxQueue: Number(values['max-queue']) } : {}),
    });
    process.stdout.write(`${formatReport(report)}\n\n${JSON.stringify(report)}\n`);
  }
}
