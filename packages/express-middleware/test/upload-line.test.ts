/**
 * UploadLine (formerly JobQueue) on its own, with tasks the test finishes by hand: places go in
 * arrival order, held jobs are bounded in count and in time, and Retry-After follows the running
 * job. Timers and the clock are fake where a hold runs out or a job's time is estimated: nothing
 * here measures time.
 */
import { SgenetError } from '@sgenet/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { JobQueue, QueueFullError, UploadLine } from '../src/index.js';

/** A task that ends when the test says so, and records that it started. */
function gate(log: string[], name: string): { task: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('UploadLine: a bounded, fair wait before 503', () => {
  it('holds jobs that find the queue full and gives them places in arrival order', async () => {
    const queue = new UploadLine({ concurrency: 1, maxQueue: 1, maxHeld: 2, holdMs: 600_000 });
    const started: string[] = [];
    const jobs = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => [n, gate(started, n)]));
    const positions: Record<string, number[]> = { c: [], d: [] };
    const a = queue.run(jobs.a!.task);
    const b = queue.run(jobs.b!.task);
    const c = queue.run(jobs.c!.task, { onQueued: (p) => positions.c!.push(p) });
    const d = queue.run(jobs.d!.task, { onQueued: (p) => positions.d!.push(p) });
    expect([queue.running, queue.queued, queue.held, queue.full]).toEqual([1, 1, 2, true]);

    // A fifth job finds every place taken, held ones included: refused at once, with Retry-After.
    const refused = await queue.run(jobs.e!.task).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueFullError);
    expect(refused).toMatchObject({ status: 503, code: 'ERR_SGENET_BUSY' });
    expect(Number((refused as QueueFullError).headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect((refused as QueueFullError).message).toMatch(/1 running, 1 waiting, 2 waiting for a place/);

    // a ends: b runs, c takes b's place in the queue, and a job sent now (as a client that
    // resubmits at once would) waits behind d instead of taking it.
    jobs.a!.finish();
    await a;
    const f = queue.run(jobs.f!.task);
    expect([queue.running, queue.queued, queue.held]).toEqual([1, 1, 2]);
    for (const n of ['b', 'c', 'd', 'f'] as const) {
      await tick();
      jobs[n]!.finish();
    }
    expect(await Promise.all([b, c, d, f])).toEqual(['b', 'c', 'd', 'f']);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(positions.c).toEqual([2, 1]);
    expect(positions.d).toEqual([3, 2, 1]);
    expect([queue.running, queue.queued, queue.held]).toEqual([0, 0, 0]);
  });

  it('refuses a held job with 503 + Retry-After when no place frees up within holdMs', async () => {
    vi.useFakeTimers();
    const queue = new UploadLine({ concurrency: 1, maxQueue: 1, maxHeld: 2, holdMs: 5000 });
    const log: string[] = [];
    const a = gate(log, 'a');
    const running = queue.run(a.task);
    const waiting = queue.run(gate(log, 'b').task);
    const held = queue.run(gate(log, 'c').task).catch((e: unknown) => e);
    const later = gate(log, 'd');
    await vi.advanceTimersByTimeAsync(2000);
    const heldLater = queue.run(later.task);
    expect(queue.held).toBe(2);
    await vi.advanceTimersByTimeAsync(3000);
    const err = await held;
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).headers['Retry-After']).toMatch(/^\d+$/);
    expect(queue.held).toBe(1);
    // The one held later keeps its own time, and gets its place when a job ends.
    a.finish();
    await running;
    expect([queue.queued, queue.held]).toEqual([1, 0]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(['a', 'b']);
    void waiting;
    void heldLater;
  });

  it('Retry-After is the running job\'s time left, from the average job duration', async () => {
    vi.useFakeTimers();
    const queue = new UploadLine({ concurrency: 1, maxQueue: 0, maxHeld: 0 });
    const log: string[] = [];
    // Nothing timed yet: 5 s is assumed.
    const first = gate(log, 'first');
    const p1 = queue.run(first.task);
    const e0 = (await queue.run(gate(log, 'x').task).catch((e: unknown) => e)) as QueueFullError;
    expect(e0.retryAfter).toBe(5);
    await vi.advanceTimersByTimeAsync(20_000);
    first.finish();
    await p1;
    expect(queue.averageJobMs).toBe(20_000);
    const second = gate(log, 'second');
    const p2 = queue.run(second.task);
    const refusals: number[] = [];
    for (const step of [0, 6000, 10_000, 3000, 5000]) {
      await vi.advanceTimersByTimeAsync(step);
      refusals.push(((await queue.run(gate(log, 'x').task).catch((e: unknown) => e)) as QueueFullError).retryAfter);
    }
    // 20 s estimated: 20, 14, 4 and 1 left, then the job overruns its estimate: 1.
    expect(refusals).toEqual([20, 14, 4, 1, 1]);
    second.finish();
    await p2;
    expect(queue.retryAfterSeconds()).toBe(1);
  });

  it('a held job whose client leaves frees its place, and those behind move up', async () => {
    const queue = new UploadLine({ concurrency: 1, maxQueue: 1, maxHeld: 3, holdMs: 600_000 });
    const log: string[] = [];
    const a = gate(log, 'a');
    const pa = queue.run(a.task);
    const pb = queue.run(gate(log, 'b').task);
    const leaving = new AbortController();
    const left = queue.run(gate(log, 'c').task, { signal: leaving.signal }).catch((e: unknown) => e);
    const positions: number[] = [];
    const d = gate(log, 'd');
    const pd = queue.run(d.task, { onQueued: (p) => positions.push(p) });
    leaving.abort();
    expect(await left).toMatchObject({ name: 'AbortError' });
    expect(queue.held).toBe(1);
    expect(positions).toEqual([3, 2]);
    a.finish();
    await pa;
    expect(positions).toEqual([3, 2, 1]);
    void pb;
    void pd;
  });

  it('with maxQueue 0, a held job goes straight to the slot that frees', async () => {
    const queue = new UploadLine({ concurrency: 1, maxQueue: 0, maxHeld: 1, holdMs: 600_000 });
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = queue.run(a.task);
    const pb = queue.run(b.task);
    expect([queue.queued, queue.held]).toEqual([0, 1]);
    a.finish();
    await pa;
    expect(log).toEqual(['a', 'b']);
    b.finish();
    expect(await pb).toBe('b');
  });

  it('validates its options once, with typed errors', () => {
    const code = expect.objectContaining({ code: 'ERR_SGENET_INVALID_OPTION' }) as unknown;
    expect(() => new UploadLine({ maxHeld: -1 })).toThrow(code);
    expect(() => new UploadLine({ maxHeld: -1 })).toThrow('Expected an integer between 0 and 10000 for maxHeld but received -1 of type number');
    expect(() => new UploadLine({ holdMs: 0 })).toThrow('Expected an integer between 1 and 600000 for holdMs but received 0 of type number');
    expect(() => new UploadLine({ holdMs: 1.5 })).toThrow(SgenetError);
    expect(() => new UploadLine({ holdMS: 5 } as never)).toThrow(/for UploadLine option name but received "holdMS"/);
    expect(() => new UploadLine(null as never)).toThrow(/an object for UploadLine options/);
    const defaults = new UploadLine({ maxQueue: 3 });
    expect([defaults.concurrency, defaults.maxQueue, defaults.maxHeld, defaults.holdMs]).toEqual([1, 3, 6, 10_000]);
    expect(new UploadLine({ maxQueue: 0 }).maxHeld).toBe(0);
  });

  it('is still there under its former name, JobQueue (deprecated)', () => {
    expect(JobQueue).toBe(UploadLine);
    const line: JobQueue = new JobQueue({ maxQueue: 2 });
    expect(line).toBeInstanceOf(UploadLine);
    expect(line.maxHeld).toBe(4);
  });
});
