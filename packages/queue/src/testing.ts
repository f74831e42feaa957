import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * @sgenet/queue/testing: a throwaway redis-server for integration tests (this package's, the
 * CLI's, yours). Needs the `redis-server` binary (Debian/Ubuntu: `apt-get install redis-server`).
 *
 * @packageDocumentation
 */

/** A redis-server of our own on a free loopback port. */
export interface TestRedis {
  host: string;
  port: number;
  url: string;
  /**
   * Stops the server this call started (a no-op for `SGENET_TEST_REDIS_URL`'s). `'SIGKILL'`
   * makes it vanish as a crashed server does, without closing its clients' connections first.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Always start a server of this test's own, even when `SGENET_TEST_REDIS_URL` names one: for a
   * test that stops Redis under a worker.
   */
  own?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Uses `SGENET_TEST_REDIS_URL` when CI started a server (unless `own`), else starts one without
 * persistence on a free loopback port. Rejects (it never skips) when redis-server is not
 * installed.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * const queue = createDeblurQueue({ connection: { host: redis.host, port: redis.port } });
 * // ...
 * await redis.stop();
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const given = process.env.SGENET_TEST_REDIS_URL;
  if (given && !options.own) {
    const u = new URL(given);
    return { host: u.hostname, port: Number(u.port || 6379), url: given, stop: async () => {} };
  }
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`redis-server could not start (${String(err)}): apt-get install -y redis-server`);
  }
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not become ready on port ${port}: ${out}`)), 15_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`redis-server is not installed or not runnable (${err.message}): apt-get install -y redis-server`));
    });
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    }),
  };
}
