import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createDeblurrer, StorageError } from '@sgenet/core';
import { trajectoryKernel } from '@sgenet/core/synthetic';
import type { Deblurrer } from '@sgenet/core';
import { deblurJobResult, deblurJobStatus, deblurUpload, sgenetErrorHandler } from '@sgenet/express';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDeblurQueue, createDeblurWorker, DeblurJobError, fileStorage, queueHandoff } from '../src/index.js';
import type { DeblurJobProgress, DeblurStorage } from '../src/index.js';
import { blurredScenePng, decodeRgb, deblurDirectly, kernelUsedDirectly, maxDifference, uniqueQueue, until } from './helpers.js';
import { startRedis } from '../src/testing.js';
import type { TestRedis } from '../src/testing.js';

let redis: TestRedis;
let root: string;
let deblurrer: Deblurrer;
let scene: Buffer;

beforeAll(async () => {
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'sgenet-queue-'));
  deblurrer = await createDeblurrer({ backend: 'ort' });
  scene = await blurredScenePng();
  await writeFile(join(root, 'scene.png'), scene);
  await writeFile(join(root, 'notes.png'), 'this is text with an image extension');
});

afterAll(async () => {
  await deblurrer?.dispose();
  await redis?.stop();
  await rm(root, { recursive: true, force: true });
});

const connection = () => ({ host: redis.host, port: redis.port });

describe('a queued job', () => {
  it('is deblurred by a worker exactly as in-process, with progress, and its result says so', async () => {
    const name = uniqueQueue('basic');
    const storage = fileStorage({ root });
    const worker = createDeblurWorker({ connection: connection(), name, storage, deblurrer });
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const id = await queue.add({ input: 'scene.png', output: 'basic/scene.png' });
      const seen: DeblurJobProgress[] = [];
      const result = await queue.waitFor(id, { onProgress: (p) => seen.push(p) });
      // The default pipeline (kernel 'auto'): the job reports the kernel an in-process run estimates.
      const kernel = await kernelUsedDirectly(scene, deblurrer);
      expect(kernel).toMatch(/^\d+x\d+; confidence=/);
      expect(result).toMatchObject({ output: 'basic/scene.png', format: 'png', width: 160, height: 120, kernel, reused: false, worker: worker.id });
      const written = await storage.read('basic/scene.png');
      expect(result.bytes).toBe(written.length);
      expect(maxDifference(await decodeRgb(written), await deblurDirectly(scene, deblurrer))).toBe(0);
      expect(seen.map((p) => p.phase)).toContain('written');
      const status = await queue.status(id);
      expect(status).toMatchObject({ state: 'completed', result, progress: { phase: 'written' } });
      expect(await readdir(join(root, 'basic'))).toEqual(['scene.png']);
    } finally {
      await queue.close();
      await worker.close();
    }
  });

  it('fails fast on a bad input with its typed error, without retries', async () => {
    const name = uniqueQueue('bad');
    const worker = createDeblurWorker({ connection: connection(), name, storage: fileStorage({ root }), deblurrer });
    const queue = createDeblurQueue({ connection: connection(), name, attempts: 5, backoffMs: 10 });
    try {
      const id = await queue.add({ input: 'notes.png', output: 'bad/notes.png' });
      const err = await queue.waitFor(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeblurJobError);
      expect((err as DeblurJobError).jobCode).toBe('ERR_SGENET_INVALID_IMAGE');
      expect((err as DeblurJobError).message).toMatch(/not an image in a supported format/);
      const status = await queue.status(id);
      expect(status.state).toBe('failed');
      expect(status.attemptsMade).toBe(1);
      expect(await fileStorage({ root }).exists('bad/notes.png')).toBe(false);
    } finally {
      await queue.close();
      await worker.close();
    }
  });

  it('refuses bad job data at add(), before anything reaches Redis', async () => {
    const queue = createDeblurQueue({ connection: connection(), name: uniqueQueue('add') });
    try {
      await expect(queue.add({ input: '../../etc/passwd', output: 'x.png' })).rejects.toThrow(/no "\.\."/);
      await expect(queue.add({ input: 'a.png', output: 'b.png', kernel: { width: 1, height: 1, data: [-1] } })).rejects.toThrow(/negative/);
      await expect(queue.add({ input: 'a.png', output: 'b.png' }, { jobId: 'a:b' })).rejects.toThrow(/jobId/);
      expect((await queue.counts()).waiting).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('retries a transient failure with backoff and then succeeds', async () => {
    const name = uniqueQueue('retry');
    const real = fileStorage({ root });
    let writes = 0;
    const flaky: DeblurStorage = {
      read: (l, o) => real.read(l, o),
      exists: (l) => real.exists(l),
      remove: (l) => real.remove(l),
      write: async (l, d, o) => {
        writes += 1;
        if (writes === 1) throw new StorageError('the shared volume went away for a moment', { permanent: false });
        return real.write(l, d, o);
      },
    };
    const worker = createDeblurWorker({ connection: connection(), name, storage: flaky, deblurrer });
    const queue = createDeblurQueue({ connection: connection(), name, attempts: 3, backoffMs: 200 });
    try {
      const id = await queue.add({ input: 'scene.png', output: 'retry/scene.png' });
      const result = await queue.waitFor(id);
      expect(result.output).toBe('retry/scene.png');
      expect(writes).toBe(2);
      expect((await queue.status(id)).attemptsMade).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.close();
      await worker.close();
    }
  });

  it('does not overwrite an existing output unless asked', async () => {
    const name = uniqueQueue('exists');
    const storage = fileStorage({ root });
    await storage.write('exists/scene.png', Buffer.from('keep me'));
    const worker = createDeblurWorker({ connection: connection(), name, storage, deblurrer });
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const refused = await queue.waitFor(await queue.add({ input: 'scene.png', output: 'exists/scene.png' })).catch((e: unknown) => e);
      expect((refused as DeblurJobError).jobCode).toBe('ERR_SGENET_OUTPUT_EXISTS');
      expect((await storage.read('exists/scene.png')).toString()).toBe('keep me');
      await queue.waitFor(await queue.add({ input: 'scene.png', output: 'exists/scene.png', overwrite: true }));
      expect((await storage.read('exists/scene.png')).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});

describe('two workers sharing a queue', () => {
  it('split the jobs between them and write each output once', async () => {
    const name = uniqueQueue('two');
    const storage = fileStorage({ root });
    const workers = [
      createDeblurWorker({ connection: connection(), name, storage, deblurrer }),
      createDeblurWorker({ connection: connection(), name, storage, deblurrer }),
    ];
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const queue = createDeblurQueue({ connection: connection(), name });
    try {
      const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.add({ input: 'scene.png', output: `two/out-${i}.png` })));
      const results = await Promise.all(ids.map((id) => queue.waitFor(id)));
      expect(new Set(results.map((r) => r.output)).size).toBe(8);
      expect(new Set(results.map((r) => r.worker))).toEqual(new Set(workers.map((w) => w.id)));
      expect((await readdir(join(root, 'two'))).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `out-${i}.png`).sort());
    } finally {
      await queue.close();
      await Promise.all(workers.map((w) => w.close()));
    }
  });
});

describe('effort: best', () => {
  it('reaches a worker that loads the learned prior (model option), from add() and from the Express handoff', async () => {
    const name = uniqueQueue('effort');
    const storage = fileStorage({ root });
    const kernel = trajectoryKernel({ length: 9, seed: 5 }); // the scene's own blur (helpers.ts)
    const worker = createDeblurWorker({ connection: connection(), name, storage, backend: 'ort', model: 'sgenet-s-sigma' });
    const queue = createDeblurQueue({ connection: connection(), name });
    const sigma = await createDeblurrer({ backend: 'ort', model: 'sgenet-s-sigma' });
    const app = express();
    app.post('/deblur', deblurUpload({ handoff: queueHandoff({ queue, storage }), kernel, effort: 'best' }));
    app.get('/deblur/jobs/:id', deblurJobStatus({ handoff: queueHandoff({ queue, storage }) }));
    app.use(sgenetErrorHandler());
    try {
      const best = await deblurDirectly(scene, sigma, { kernel, effort: 'best' });
      const standard = await deblurDirectly(scene, sigma, { kernel });
      expect(maxDifference(best, standard)).toBeGreaterThan(0); // the loop is another restoration
      const id = await queue.add({ input: 'scene.png', output: 'effort/scene.png', kernel: { ...kernel, data: Array.from(kernel.data) }, effort: 'best' });
      await queue.waitFor(id);
      expect(maxDifference(await decodeRgb(await storage.read('effort/scene.png')), best)).toBe(0);

      const accepted = await request(app).post('/deblur').attach('image', scene, 'shaky.png');
      expect(accepted.status).toBe(202);
      const { jobId } = accepted.body as { jobId: string };
      await queue.waitFor(jobId);
      const written = await storage.read(`results/${jobId}.png`);
      expect(maxDifference(await decodeRgb(written), best)).toBe(0);
    } finally {
      await queue.close();
      await worker.close();
      await sigma.dispose();
    }
  });
});

describe('Express handoff', () => {
  it('answers 202 with a job id, then serves status and the result', async () => {
    const name = uniqueQueue('http');
    const storage = fileStorage({ root });
    const queue = createDeblurQueue({ connection: connection(), name });
    const handoff = queueHandoff({ queue, storage });
    const app = express();
    app.post('/deblur', deblurUpload({ handoff }));
    app.get('/deblur/jobs/:id', deblurJobStatus({ handoff }));
    app.get('/deblur/jobs/:id/result', deblurJobResult({ handoff }));
    app.use(sgenetErrorHandler());
    let worker;
    try {
      const accepted = await request(app).post('/deblur').set('X-Job-Id', 'chosen-by-the-client').attach('image', scene, 'shaky.png');
      expect(accepted.status).toBe(202);
      const { jobId, status, result } = accepted.body as { jobId: string; status: string; result: string };
      expect(jobId).not.toBe('chosen-by-the-client');
      expect(accepted.headers.location).toBe(`/deblur/jobs/${jobId}`);
      expect(status).toBe(`/deblur/jobs/${jobId}`);
      // No worker yet: queued, and the result is not ready.
      expect((await request(app).get(status)).body).toMatchObject({ jobId, state: 'queued' });
      const early = await request(app).get(result);
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe('ERR_SGENET_JOB_NOT_READY');
      expect(early.headers['retry-after']).toBe('1');

      worker = createDeblurWorker({ connection: connection(), name, storage, deblurrer });
      const done = await until('the job to finish', async () => {
        const s = await request(app).get(status);
        return s.body.state === 'done' ? s.body as { result: string } : undefined;
      });
      expect(done.result).toBe(result);
      const image = await request(app).get(result).buffer(true);
      expect(image.status).toBe(200);
      expect(image.headers['content-type']).toBe('image/png');
      expect(maxDifference(await decodeRgb(image.body as Buffer), await deblurDirectly(scene, deblurrer))).toBe(0);
      // The upload is removed once the result is written; the result stays for the client.
      expect(await readdir(join(root, 'uploads'))).toEqual([]);

      // Checked before queueing: a text file never becomes a job.
      const rejected = await request(app).post('/deblur').attach('image', Buffer.from('hello'), 'a.png');
      expect(rejected.status).toBe(415);
      expect((await queue.counts()).waiting).toBe(0);
      const missing = await request(app).get('/deblur/jobs/00000000-0000-0000-0000-000000000000');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('ERR_SGENET_JOB_NOT_FOUND');
    } finally {
      await queue.close();
      await worker?.close();
    }
  });

  it('answers 503 with Retry-After when Redis is down, and keeps serving', async () => {
    const storage = fileStorage({ root });
    const queue = createDeblurQueue({ connection: { host: '127.0.0.1', port: 1, maxRetriesPerRequest: 0, enableOfflineQueue: false }, name: uniqueQueue('down') });
    const app = express();
    app.post('/deblur', deblurUpload({ handoff: queueHandoff({ queue, storage, submitTimeoutMs: 500 }) }));
    app.use(sgenetErrorHandler());
    try {
      for (let i = 0; i < 2; i++) {
        const res = await request(app).post('/deblur').attach('image', scene, 'shaky.png');
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('ERR_SGENET_BUSY');
        expect(res.headers['retry-after']).toBe('5');
      }
      // The stored upload of a job that could not be queued is removed again.
      expect((await readdir(join(root, 'uploads')).catch(() => [])).length).toBe(0);
    } finally {
      await queue.close();
    }
  });
});
