import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Deblurrer, DeblurOptions, RawImage } from '@sgenet/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createDeblurQueue, createDeblurWorker, fileStorage, WORKER_UNCLEAN_CLOSE } from '../src/index.js';
import type { DeblurWorker, DeblurWorkerClosed, DeblurWorkerEvent } from '../src/index.js';
import { startRedis } from '../src/testing.js';
import type { TestRedis } from '../src/testing.js';
import { blurredScenePng, uniqueQueue, until } from './helpers.js';

// A worker whose Redis has gone must still close within its bound (issue 28: a process manager's
// SIGTERM, then SIGKILL after its grace period). Each test starts a redis-server of its own and
// kills it under the worker: a shared server (SGENET_TEST_REDIS_URL) must not be stopped.

let root: string;
const workers: DeblurWorker[] = [];
const servers: TestRedis[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgenet-shutdown-'));
  await writeFile(join(root, 'scene.png'), await blurredScenePng());
});
afterEach(async () => {
  // Bounded even when a test failed halfway: close() settles within its timeout, Redis or not.
  await Promise.all(workers.splice(0).map((w) => w.close({ timeoutMs: 0 })));
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function ownRedis(): Promise<TestRedis> {
  const redis = await startRedis({ own: true });
  servers.push(redis);
  return redis;
}

/** A deblurrer that holds each call until it is cancelled, and says so. */
function holdingDeblurrer(): { deblurrer: Deblurrer; holding: Promise<void>; aborted: () => boolean } {
  let aborted = false;
  let started!: () => void;
  const holding = new Promise<void>((resolve) => (started = resolve));
  const deblurrer = {
    model: {},
    backend: 'stub',
    provider: 'cpu',
    deblur: (_image: RawImage, options?: DeblurOptions) => new Promise<RawImage>((_resolve, reject) => {
      started();
      options?.signal?.addEventListener('abort', () => {
        aborted = true;
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
      }, { once: true });
    }),
    dispose: async () => {},
  } as unknown as Deblurrer;
  return { deblurrer, holding, aborted: () => aborted };
}

function startWorker(redis: { host: string; port: number }, deblurrer: Deblurrer, events: DeblurWorkerEvent[]): DeblurWorker {
  const worker = createDeblurWorker({
    connection: { host: redis.host, port: redis.port },
    storage: fileStorage({ root }),
    name: uniqueQueue('shutdown'),
    deblurrer,
    onEvent: (e) => events.push(e),
  });
  workers.push(worker);
  return worker;
}

/** Settles with the close's outcome, or 'still closing' if it has not settled by `limitMs`. */
async function settledWithin(closing: Promise<DeblurWorkerClosed>, limitMs: number): Promise<DeblurWorkerClosed | 'still closing'> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'still closing'>((resolve) => (timer = setTimeout(() => resolve('still closing'), limitMs)));
  try {
    return await Promise.race([closing, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** BullMQ's own close ran to its end (its timers stopped) once the worker dropped its connections. */
async function bullClosed(worker: DeblurWorker): Promise<void> {
  await until('BullMQ\'s close to finish', async () => ((worker.bull as unknown as { closed: boolean }).closed ? true : undefined), 15_000);
}

describe('close() bound', () => {
  it('with Redis up: resolves { clean: true }', async () => {
    const redis = await ownRedis();
    const worker = startWorker(redis, holdingDeblurrer().deblurrer, []);
    await worker.waitUntilReady();
    expect(await worker.close({ timeoutMs: 10_000 })).toEqual({ clean: true });
  });

  it('with Redis gone: resolves unclean within its bound, says why, and is idempotent', async () => {
    const redis = await ownRedis();
    const events: DeblurWorkerEvent[] = [];
    const worker = startWorker(redis, holdingDeblurrer().deblurrer, events);
    await worker.waitUntilReady();
    await redis.stop('SIGKILL');
    await until('the worker to notice Redis has gone', async () => (events.some((e) => e.type === 'error') ? true : undefined), 30_000);

    const closing = worker.close({ timeoutMs: 1000 });
    // Like BullMQ's Worker.close(): every later call gets the first call's promise.
    expect(worker.close()).toBe(closing);
    expect(worker.close({ timeoutMs: 60_000 })).toBe(closing);
    // Generous margin over the 1 s bound (a loaded 2-core machine), far below "never".
    const closed = await settledWithin(closing, 15_000);
    expect(closed).toEqual({
      clean: false,
      code: WORKER_UNCLEAN_CLOSE,
      message: expect.stringMatching(/^Redis did not answer (within 1000 ms )?\(connection [a-z, ]+\); Redis connections dropped$/) as unknown,
      unfinishedJobs: 0,
    });
    expect(events.filter((e) => e.type === 'unclean-close')).toEqual([
      { type: 'unclean-close', code: WORKER_UNCLEAN_CLOSE, message: (closed as { message: string }).message, unfinishedJobs: 0 },
    ]);
    await bullClosed(worker);
    expect(await worker.close()).toBe(closed);
  });

  it('with a job running when Redis goes: cancels it, then gives up on handing it back at the bound', async () => {
    const redis = await ownRedis();
    const events: DeblurWorkerEvent[] = [];
    const stub = holdingDeblurrer();
    const worker = startWorker(redis, stub.deblurrer, events);
    await worker.waitUntilReady();
    const queue = createDeblurQueue({ connection: { host: redis.host, port: redis.port }, name: worker.bull.name });
    try {
      await queue.add({ input: 'scene.png', output: 'out/scene.png', kernel: 'none' });
      await stub.holding;
    } finally {
      await queue.close();
    }
    await redis.stop('SIGKILL');

    const closed = await settledWithin(worker.close({ timeoutMs: 2000 }), 15_000);
    expect(closed).toMatchObject({ clean: false, code: WORKER_UNCLEAN_CLOSE, unfinishedJobs: 1 });
    expect((closed as { message: string }).message).toMatch(/^Redis did not answer .*; 1 unfinished job\(s\) left for another worker once their lock expires$/);
    // Cancelled at the hand-back point (the last quarter of the bound), not left running.
    expect(stub.aborted()).toBe(true);
    // Redis never confirmed a hand-back: the job waits in Redis for its lock to expire instead.
    expect(events.map((e) => e.type)).not.toContain('released');
    await bullClosed(worker);
  });

  it('a worker that never reached Redis closes within its bound too', async () => {
    const redis = await ownRedis();
    await redis.stop('SIGKILL');
    const events: DeblurWorkerEvent[] = [];
    const worker = startWorker(redis, holdingDeblurrer().deblurrer, events);
    await until('a refused connection', async () => (events.some((e) => e.type === 'error') ? true : undefined), 30_000);
    const closed = await settledWithin(worker.close({ timeoutMs: 500 }), 15_000);
    expect(closed).toMatchObject({ clean: false, code: WORKER_UNCLEAN_CLOSE, unfinishedJobs: 0 });
    await bullClosed(worker);
  });
});
