import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createDeblurrer } from '@sgenet/core';
import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import { deblur } from '@sgenet/sharp';
import { startRedis } from '@sgenet/queue/testing';
import type { TestRedis } from '@sgenet/queue/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseCommand } from '../src/args.js';
import { WORKER_EXIT_UNCLEAN } from '../src/queue-commands.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/sgenet.js', import.meta.url));

describe('worker and enqueue arguments', () => {
  it('parses the documented flags', () => {
    expect(parseCommand(['worker', '--redis', 'redis://h:1', '--concurrency', '2', '--queue', 'q', '--root', '/mnt'])).toEqual({
      command: 'worker', redis: 'redis://h:1', concurrency: 2, queue: 'q', root: '/mnt', quiet: false,
    });
    expect(parseCommand(['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://h', '--wait', '--kernel', 'auto'])).toEqual({
      command: 'enqueue', inputs: ['a.jpg'], outDir: 'o', redis: 'redis://h', root: '.', kernel: 'auto', overwrite: false, wait: true, quiet: false,
    });
    // The learned prior's loop: the worker loads the σ model, each job asks for the loop.
    expect(parseCommand(['worker', '--redis', 'redis://h', '--model', 'sgenet-s-sigma'])).toMatchObject({ command: 'worker', model: 'sgenet-s-sigma' });
    expect(parseCommand(['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://h', '--effort', 'best'])).toMatchObject({ command: 'enqueue', effort: 'best' });
  });
  it.each([
    [['worker'], /worker needs --redis URL/],
    [['worker', '--redis', 'http://x'], /redis:\/\/ or rediss:\/\//],
    [['worker', '--redis', 'redis://x', 'a.jpg'], /worker takes no files/],
    [['worker', '--redis', 'redis://x', '--concurrency', '0'], /--concurrency must be an integer between 1 and 64/],
    [['worker', '--redis', 'redis://x', '--kernel', 'auto'], /--kernel is not a worker option/],
    [['worker', '--redis', 'redis://x', '--effort', 'best'], /--effort is not a worker option/],
    [['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://x', '--effort', 'max'], /--effort must be one of standard, best/],
    [['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://x', '--model', 'm.onnx'], /--model is not an enqueue option/],
    [['enqueue', 'a.jpg', '--redis', 'redis://x'], /enqueue needs --out-dir/],
    [['enqueue', 'a.jpg', '-o', 'b.png', '--redis', 'redis://x'], /not -o FILE/],
    [['enqueue', 'a.jpg', '--out-dir', 'o'], /enqueue needs --redis/],
    [['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://x', '--queue', 'a b'], /--queue must be/],
    [['deblur', 'a.jpg', '-o', 'b.png', '--redis', 'redis://x'], /--redis is a worker\/enqueue option/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('sgenet worker + sgenet enqueue --wait (the installed bin, a real Redis)', () => {
  let redis: TestRedis;
  let root: string;
  let worker: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    redis = await startRedis();
    root = await mkdtemp(join(tmpdir(), 'sgenet-cli-queue-'));
    await mkdir(join(root, 'in'));
    for (const [i, name] of ['street', 'desk'].entries()) {
      const img = applyBlur(deadLeaves(160, 120, i + 3), trajectoryKernel({ length: 9, seed: i + 3 }));
      await sharp(Buffer.from(img.data), { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(join(root, 'in', `${name}.png`));
    }
    await writeFile(join(root, 'in', 'notes.png'), 'this is not an image');
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await redis?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('deblurs every good photo, names the failure, exits 1; the worker stops cleanly on SIGTERM', async () => {
    worker = spawn(process.execPath, [BIN, 'worker', '--redis', redis.url, '--root', root, '--queue', 'cli-test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
    worker.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    worker.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    for (let i = 0; i < 300 && !/waiting for jobs/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toMatch(/waiting for jobs on "cli-test"/);

    const result = await run(process.execPath, [BIN, 'enqueue', 'in', '--out-dir', 'out', '--redis', redis.url, '--queue', 'cli-test', '--wait'], { cwd: root })
      .catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect('code' in result ? result.code : 0).toBe(1);
    expect(result.stderr).toMatch(/in\/notes\.png: .*not an image.*\[ERR_SGENET_INVALID_IMAGE\]/);
    expect(result.stdout).toMatch(/in\/street\.png -> out\/street\.png/);
    expect(result.stdout).toMatch(/in\/desk\.png -> out\/desk\.png/);
    expect((await readdir(join(root, 'out'))).sort()).toEqual(['desk.png', 'street.png']);

    // The queue's output is the in-process restoration, pixel for pixel.
    const deblurrer = await createDeblurrer({ backend: 'ort' });
    try {
      const direct = await (await deblur(sharp(join(root, 'in', 'street.png')), { deblurrer })).raw().toBuffer();
      const queued = await sharp(join(root, 'out', 'street.png')).raw().toBuffer();
      expect(queued.equals(direct)).toBe(true);
    } finally {
      await deblurrer.dispose();
    }

    // Again: existing outputs are skipped, not overwritten.
    const again = await run(process.execPath, [BIN, 'enqueue', 'in/street.png', '--out-dir', 'out', '--redis', redis.url, '--queue', 'cli-test'], { cwd: root });
    expect(again.stderr).toMatch(/out\/street\.png exists; skipped \(use --overwrite/);

    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toMatch(/SIGTERM: finishing the running job/);
    expect(log).toMatch(/worker stopped/);
  });

  it('refuses photos outside --root before queueing anything', async () => {
    const result = await run(process.execPath, [BIN, 'enqueue', join(root, 'in', 'street.png'), '--out-dir', join(root, 'out2'), '--redis', redis.url, '--root', join(root, 'out')])
      .catch((err: { code: number; stderr: string }) => err);
    expect('code' in result ? result.code : 0).toBe(1);
    expect(result.stderr).toMatch(/outside the storage root/);
  });
});

describe('sgenet worker when Redis has gone (issue 28)', () => {
  let redis: TestRedis | undefined;
  let worker: ChildProcess | undefined;

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await redis?.stop('SIGKILL');
  });

  it(`exits ${WORKER_EXIT_UNCLEAN} within --shutdown-timeout on SIGTERM, saying why`, async () => {
    // A server of this test's own, even when CI shares one (SGENET_TEST_REDIS_URL): it is killed.
    redis = await startRedis({ own: true });
    worker = spawn(process.execPath, [BIN, 'worker', '--redis', redis.url, '--root', tmpdir(), '--queue', 'cli-gone', '--shutdown-timeout', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => worker!.once('exit', (code, signal) => resolve({ code, signal })));
    let log = '';
    worker.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    worker.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    for (let i = 0; i < 300 && !/waiting for jobs/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toMatch(/waiting for jobs on "cli-gone"/);

    // As a crashed or unreachable Redis: gone without closing anything first.
    await redis.stop('SIGKILL');
    for (let i = 0; i < 300 && !/sgenet: worker: .*ECONNREFUSED/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    expect(log).toMatch(/sgenet: worker: .*ECONNREFUSED/);

    worker.kill('SIGTERM');
    // The bound is 2 s; 15 s is a generous margin for a loaded machine, far from "never" (before
    // the fix the worker was still running 27 s later and needed SIGKILL).
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 15_000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toEqual({ code: WORKER_EXIT_UNCLEAN, signal: null });
    expect(log).toMatch(/SIGTERM: finishing the running job, then exiting \(within 2000 ms\)/);
    expect(log).toMatch(/sgenet: worker did not close cleanly: Redis did not answer (within 2000 ms )?\(connection [a-z, ]+\); Redis connections dropped \[ERR_SGENET_WORKER_UNCLEAN_CLOSE\]/);
    expect(log).not.toMatch(/worker stopped/);
  });
});
