import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createDeblurQueue } from '../src/index.js';
import { blurredScenePng, uniqueQueue, until } from './helpers.js';
import { startRedis } from '../src/testing.js';
import type { TestRedis } from '../src/testing.js';

const CHILD = fileURLToPath(new URL('./fixtures/child-worker.mjs', import.meta.url));

interface Child {
  process: ChildProcess;
  events: Record<string, unknown>[];
  /** Resolves with the first event of this type. */
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let redis: TestRedis;
let root: string;
const children: Child[] = [];

function startWorker(name: string, env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [CHILD, redis.url, name, root], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  proc.stdout!.on('data', (b: Buffer) => {
    buffered += b.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
      for (const l of [...listeners]) l();
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const child: Child = {
    process: proc,
    events,
    exited,
    next: (type, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find((e) => e.type === type);
        if (found) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`worker never reported "${type}"; it said: ${JSON.stringify(events)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    }),
  };
  children.push(child);
  return child;
}

beforeAll(async () => {
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'sgenet-crash-'));
  await writeFile(join(root, 'scene.png'), await blurredScenePng());
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(async () => {
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

const connection = () => ({ host: redis.host, port: redis.port });

describe('a worker that dies', () => {
  it('kill -9 mid-job: a second worker takes the job over and writes exactly one output', async () => {
    const name = uniqueQueue('kill');
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const first = startWorker(name, { HOLD_MS: '60000' });
      const ready = await first.next('ready');
      const id = await queue.add({ input: 'scene.png', output: 'kill/scene.png' });
      await first.next('holding');
      expect((await queue.status(id)).state).toBe('active');
      first.process.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');

      const second = startWorker(name);
      const secondReady = await second.next('ready');
      const result = await queue.waitFor(id);
      expect(result.worker).toBe(secondReady.id);
      expect(result.worker).not.toBe(ready.id);
      expect(result.reused).toBe(false);
      expect(await readdir(join(root, 'kill'))).toEqual(['scene.png']);
      expect((await queue.status(id)).state).toBe('completed');
    } finally {
      await queue.close();
    }
  });

  it('killed right after writing: the retry finds the output and does not write it again', async () => {
    const name = uniqueQueue('written');
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const first = startWorker(name, { DIE_AFTER_WRITE: '1' });
      await first.next('ready');
      const id = await queue.add({ input: 'scene.png', output: 'written/scene.png' });
      await first.next('wrote');
      expect((await first.exited).signal).toBe('SIGKILL');
      const before = await stat(join(root, 'written/scene.png'));

      const second = startWorker(name);
      await second.next('ready');
      const result = await queue.waitFor(id);
      expect(result.reused).toBe(true);
      const after = await stat(join(root, 'written/scene.png'));
      expect(after.ino).toBe(before.ino);
      expect(after.mtimeMs).toBe(before.mtimeMs);
      expect(await readdir(join(root, 'written'))).toEqual(['scene.png']);
    } finally {
      await queue.close();
    }
  });
});

describe('SIGTERM', () => {
  it('finishes the running job, then exits 0', async () => {
    const name = uniqueQueue('term');
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      // A long lock: with the 2 s one the kill tests need, a deblur that keeps the event loop busy
      // on a loaded machine misses a renewal, the job stalls back to the queue and never
      // completes here; what this test checks is the shutdown, not the takeover.
      const worker = startWorker(name, { HOLD_MS: '1500', LOCK_MS: '30000' });
      const ready = await worker.next('ready');
      const id = await queue.add({ input: 'scene.png', output: 'term/scene.png' });
      await worker.next('holding');
      worker.process.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      const types = worker.events.map((e) => e.type);
      expect(types.indexOf('sigterm')).toBeLessThan(types.indexOf('completed'));
      const status = await queue.status(id);
      expect(status.state).toBe('completed');
      expect(status.result?.worker).toBe(ready.id);
      expect(await readdir(join(root, 'term'))).toEqual(['scene.png']);
    } finally {
      await queue.close();
    }
  });

  it('past the shutdown timeout, hands the job back untouched for another worker', async () => {
    const name = uniqueQueue('release');
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const worker = startWorker(name, { HOLD_MS: '60000', SHUTDOWN_MS: '2000' });
      await worker.next('ready');
      const id = await queue.add({ input: 'scene.png', output: 'release/scene.png' });
      await worker.next('holding');
      worker.process.kill('SIGTERM');
      expect((await worker.exited).code).toBe(0);
      expect(worker.events.map((e) => e.type)).toContain('released');
      const back = await until('the job back in the queue', async () => {
        const s = await queue.status(id);
        return s.state === 'waiting' ? s : undefined;
      }, 10_000);
      expect(back.attemptsMade).toBe(0);
      expect(await readdir(join(root, 'release')).catch(() => [])).toEqual([]);

      const second = startWorker(name);
      const ready = await second.next('ready');
      expect((await queue.waitFor(id)).worker).toBe(ready.id);
    } finally {
      await queue.close();
    }
  });
});
