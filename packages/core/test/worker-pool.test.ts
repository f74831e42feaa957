/**
 * The worker threads, through the compiled package (dist/: the sources run untranspiled here have
 * no worker to start, so every other test runs the same functions on this thread). Workers outlive
 * the call that started them and are leased again; these tests check that a reused worker, one
 * whose last call was aborted, and this thread all give the same numbers.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import type * as Core from '../src/index.js';
import type { RawImage } from '../src/index.js';
import type * as Errors from '../src/errors.js';
import type * as Pool from '../src/parallel/pool.js';
import type { Task } from '../src/parallel/tasks.js';
import type * as Synthetic from '../src/synthetic/index.js';

const DIST = new URL('../dist/index.js', import.meta.url);
const SYNTHETIC = new URL('../dist/synthetic/index.js', import.meta.url);

describe('worker threads (compiled package)', () => {
  it('is built: the tests run after the build, as turbo orders them', () => {
    expect(existsSync(DIST), 'packages/core/dist/index.js is missing: run the build first').toBe(true);
  });

  it('a reused worker, an aborted call and this thread give the same deconvolution and kernel', async () => {
    const core = (await import(DIST.href)) as typeof Core;
    const synthetic = (await import(SYNTHETIC.href)) as typeof Synthetic;
    const sharp = synthetic.deadLeaves(600, 400, 4);
    const kernel = synthetic.trajectoryKernel({ length: 11, seed: 4 });
    const blurry = synthetic.applyBlur(sharp, kernel, { noise: 0.01, seed: 4 });
    // Small tiles: several tiles, so both workers take some.
    const options = { tileSize: 256, overlap: 48 };
    const onThisThread = await core.deconvolve(blurry, kernel, { ...options, workers: 1 });
    const first = await core.deconvolve(blurry, kernel, { ...options, workers: 2 });
    const second = await core.deconvolve(blurry, kernel, { ...options, workers: 2 });
    expect(Buffer.compare(Buffer.from(first.data as Uint8Array), Buffer.from(onThisThread.data as Uint8Array))).toBe(0);
    expect(Buffer.compare(Buffer.from(second.data as Uint8Array), Buffer.from(first.data as Uint8Array))).toBe(0);

    // Aborted after its first tile: it rejects, and the workers it leaves behind are not reused busy.
    const controller = new AbortController();
    const aborted = core.deconvolve(blurry, kernel, {
      ...options, workers: 2, signal: controller.signal, onProgress: () => controller.abort(),
    });
    await expect(aborted).rejects.toBeInstanceOf(core.AbortError);
    const after: RawImage = await core.deconvolve(blurry, kernel, { ...options, workers: 2 });
    expect(Buffer.compare(Buffer.from(after.data as Uint8Array), Buffer.from(first.data as Uint8Array))).toBe(0);

    // The estimator's candidates on leased workers equal those run here, call after call.
    const small = synthetic.applyBlur(synthetic.deadLeaves(200, 150, 5), kernel, { noise: 0.01, seed: 5 });
    const here = await core.estimateKernel(small, { maxSize: 15, workers: 1 });
    const leased = await core.estimateKernel(small, { maxSize: 15, workers: 2 });
    const again = await core.estimateKernel(small, { maxSize: 15, workers: 2 });
    expect(here.identity).toBe(false);
    expect(Array.from(leased.kernel.data)).toEqual(Array.from(here.kernel.data));
    expect(Array.from(again.kernel.data)).toEqual(Array.from(here.kernel.data));
  });

  it('per-region kernels on workers (cell pyramids, cell tests, refinements) equal those run here', async () => {
    const core = (await import(DIST.href)) as typeof Core;
    const synthetic = (await import(SYNTHETIC.href)) as typeof Synthetic;
    const { blurry } = synthetic.twoRegionShake();
    // At full scale, then estimated at a working size of 31 px and refined up to the photo's own
    // scale (the kept cells' refinements then run on the workers too).
    for (const scale of [{}, { maxWorkingSize: 31 }]) {
      const here = await core.estimateKernel(blurry, { regions: 2, workers: 1, ...scale });
      const leased = await core.estimateKernel(blurry, { regions: 2, workers: 2, ...scale });
      // Two cells kept their own kernels, so at least two cells were tested (and refined): on two
      // workers in the second call (on a machine of one core, on this thread in both).
      expect(here.grid!.own.filter(Boolean).length).toBeGreaterThanOrEqual(2);
      expect(leased.grid?.own).toEqual(here.grid?.own);
      leased.grid!.kernels.forEach((k, i) => {
        const h = here.grid!.kernels[i]!;
        expect(k.width).toBe(h.width);
        expect(k.data.every((v, j) => v === h.data[j])).toBe(true);
      });
    }
  }, 240_000);

  it('a task\'s error keeps its class, code and fields across the thread', async () => {
    const { WorkerPool } = (await import(new URL('../dist/parallel/pool.js', import.meta.url).href)) as typeof Pool;
    const errors = (await import(new URL('../dist/errors.js', import.meta.url).href)) as typeof Errors;
    // A worker entry of the test's own: its task throws what the payload names (fixtures/throwing-worker.mjs).
    const entry = new URL('./fixtures/throwing-worker.mjs', import.meta.url);
    const throwing: Task<string, never> = { name: 'test/throw', run: () => Promise.reject(new Error('runs on the worker')) };
    const pool = new WorkerPool(1, undefined, entry);
    try {
      const kernel = await pool.run(throwing, 'kernel').catch((err: unknown) => err);
      expect(kernel).toBeInstanceOf(errors.InvalidKernelError);
      expect(kernel).toMatchObject({ name: 'InvalidKernelError', code: 'ERR_SGENET_INVALID_KERNEL', message: 'kernel.json: all zero' });

      const storage = await pool.run(throwing, 'storage').catch((err: unknown) => err);
      expect(storage).toBeInstanceOf(errors.StorageError);
      expect(storage).toMatchObject({ code: 'ERR_SGENET_STORAGE', permanent: false, message: 'out/x.png is not writable' });

      // Its message composed by the constructor, kept as thrown.
      const disposed = await pool.run(throwing, 'disposed').catch((err: unknown) => err);
      expect(disposed).toBeInstanceOf(errors.DisposedError);
      expect((disposed as Error).message).toBe(new errors.DisposedError('the deblurrer').message);

      // Any other error is a backend failure, as before.
      const other = await pool.run(throwing, 'range').catch((err: unknown) => err);
      expect(other).toBeInstanceOf(errors.SgenetError);
      expect(other).not.toBeInstanceOf(errors.BackendError);
      expect(other).toMatchObject({ code: 'ERR_SGENET_BACKEND', message: 'worker thread failed: offset out of range' });

      // The worker survives its tasks' errors.
      await expect(pool.run<string, string>({ name: 'test/echo', run: () => Promise.reject(new Error('unused')) }, 'ok')).resolves.toBe('ok');
    } finally {
      await pool.close();
    }
  });

  it('keeps a closed lease\'s workers for the next one, and stops them when it closes with retire', async () => {
    const { WorkerPool } = (await import(new URL('../dist/parallel/pool.js', import.meta.url).href)) as typeof Pool;
    const entry = new URL('./fixtures/throwing-worker.mjs', import.meta.url);
    const thread: Task<null, number> = { name: 'test/thread', run: () => Promise.reject(new Error('runs on the worker')) };
    const threadOfNewLease = async (close: { retire?: boolean }): Promise<number> => {
      const pool = new WorkerPool(1, undefined, entry);
      try {
        return await pool.run(thread, null);
      } finally {
        await pool.close(close);
      }
    };
    const first = await threadOfNewLease({});
    // Kept as a spare: the next lease gets the same thread.
    expect(await threadOfNewLease({ retire: true })).toBe(first);
    // Retired: that thread stopped, so the next lease starts a new one.
    expect(await threadOfNewLease({})).not.toBe(first);
  });
});
