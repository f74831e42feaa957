import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { BackendError, createDeblurrer } from '@sgenet/core';
import type { Deblurrer } from '@sgenet/core';
import { trajectoryKernel } from '@sgenet/core/synthetic';
import express from 'express';
import type { Express } from 'express';
import { deblur, encodeImage } from '@sgenet/sharp';
import type { DeblurSharpOptions } from '@sgenet/sharp';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { JobQueue, UploadLine, deblurUpload, sgenetErrorHandler } from '../src/index.js';
import type { DeblurUploadOptions, JobProgress } from '../src/index.js';
import {
  blurredChart,
  controlledDeblurrer,
  decodeRaw,
  encodeChart,
  hugeWhitePng,
  laplacianVariance,
  noisePng,
} from './helpers.js';

let real: Deblurrer;
let png: Buffer;

beforeAll(async () => {
  real = await createDeblurrer({ backend: 'ort', threads: 1 });
  png = await encodeChart('png');
});
afterAll(async () => {
  await real?.dispose();
});

function appWith(options: DeblurUploadOptions = {}): Express {
  const app = express();
  app.post('/deblur', deblurUpload({ deblurrer: real, ...options }));
  app.post(
    '/attach',
    deblurUpload({ deblurrer: real, mode: 'attach' }),
    async (req, res) => {
      const result = req.sgenet!;
      const webp = await result.image.webp().toBuffer();
      res.json({
        jobId: result.jobId,
        width: result.width,
        height: result.height,
        channels: result.channels,
        bitDepth: result.bitDepth,
        inputFormat: result.inputFormat,
        file: result.file,
        webpFormat: (await sharp(webp).metadata()).format,
      });
    },
  );
  app.use(sgenetErrorHandler({ onServerError: () => {} }));
  return app;
}

/** A small valid upload must work: the server survived whatever came before. */
async function expectStillServing(app: Express): Promise<void> {
  const res = await request(app).post('/deblur').attach('image', png, 'chart.png');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('image/png');
}

describe('200: responds with the deblurred image', () => {
  it.each([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['jpg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ] as const)('?format=%s gives %s', async (format, type) => {
    const res = await request(appWith()).post(`/deblur?format=${format}`).attach('image', png, 'chart.png');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-disposition']).toMatch(/^inline; filename="chart-deblurred\.(png|jpg|webp)"$/);
    expect(res.headers['x-job-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.vary).toBe('Accept');
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta.format).toBe(format === 'jpg' ? 'jpeg' : format);
    expect([meta.width, meta.height]).toEqual([64, 48]);
  });

  it('negotiates from Accept, and defaults to the upload format', async () => {
    const app = appWith();
    const webp = await request(app).post('/deblur').set('Accept', 'image/webp,image/*;q=0.8').attach('image', png, 'c.png');
    expect(webp.headers['content-type']).toBe('image/webp');
    const jpegPreferred = await request(app)
      .post('/deblur')
      .set('Accept', 'image/png;q=0.5, image/jpeg')
      .attach('image', png, 'c.png');
    expect(jpegPreferred.headers['content-type']).toBe('image/jpeg');
    const jpegIn = await request(app).post('/deblur').set('Accept', '*/*').attach('image', await encodeChart('jpeg'), 'c.jpg');
    expect(jpegIn.headers['content-type']).toBe('image/jpeg');
    // ?format= wins over Accept.
    const query = await request(app).post('/deblur?format=png').set('Accept', 'image/webp').attach('image', png, 'c.png');
    expect(query.headers['content-type']).toBe('image/png');
  });

  it('returns an image sharper than the upload (variance of Laplacian up)', async () => {
    const upload = await encodeChart('png', 128, 96);
    const res = await request(appWith()).post('/deblur?format=png').attach('image', upload, 'chart.png');
    expect(res.status).toBe(200);
    const before = await decodeRaw(upload);
    const after = await decodeRaw(res.body as Buffer);
    expect(after.data).not.toEqual(before.data);
    expect(laplacianVariance(after)).toBeGreaterThan(1.25 * laplacianVariance(before));
  });

  it('keeps 16-bit PNG as 16-bit and alpha as alpha', async () => {
    const img = blurredChart();
    const rgba16 = new Uint16Array(64 * 48 * 4);
    for (let i = 0; i < 64 * 48; i++) {
      for (let c = 0; c < 3; c++) rgba16[i * 4 + c] = img.data[i * 3 + c]! * 257;
      rgba16[i * 4 + 3] = (i % 64) * 1000;
    }
    const png16 = await sharp(rgba16, { raw: { width: 64, height: 48, channels: 4 } }).toColourspace('rgb16').png().toBuffer();
    const res = await request(appWith()).post('/deblur').attach('image', png16, 'deep.png');
    expect(res.status).toBe(200);
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta.depth).toBe('ushort');
    expect(meta.hasAlpha).toBe(true);
  });
});

describe('effort', () => {
  it("'best' runs the learned prior's loop on every request: the sharp plugin's result with the same options", async () => {
    const sigma = await createDeblurrer({ backend: 'ort', threads: 1, model: 'sgenet-s-sigma' });
    try {
      const kernel = trajectoryKernel({ length: 9, seed: 3 }); // the chart's own blur (helpers.ts)
      const app = express();
      app.post('/deblur', deblurUpload({ deblurrer: sigma, kernel, effort: 'best' }));
      const res = await request(app).post('/deblur?format=png').attach('image', png, 'chart.png');
      expect(res.status).toBe(200);
      const direct = async (options: Pick<DeblurSharpOptions, 'effort'>): Promise<Buffer> =>
        encodeImage(await deblur(sharp(png), { deblurrer: sigma, kernel, ...options }), 'png');
      const got = await decodeRaw(res.body as Buffer);
      expect(Buffer.from(got.data).equals(Buffer.from((await decodeRaw(await direct({ effort: 'best' }))).data))).toBe(true);
      // ...and not the one-pass result: the option reached the pipeline.
      expect(Buffer.from(got.data).equals(Buffer.from((await decodeRaw(await direct({}))).data))).toBe(false);
    } finally {
      await sigma.dispose();
    }
  });
});

describe('attach mode', () => {
  it('leaves a typed result on req.sgenet for the next handler', async () => {
    const res = await request(appWith()).post('/attach').set('X-Job-Id', 'client-job-0001').attach('image', png, 'chart.png');
    expect(res.status).toBe(200);
    expect(res.headers['x-job-id']).toBe('client-job-0001');
    expect(res.body).toEqual({
      jobId: 'client-job-0001',
      width: 64,
      height: 48,
      channels: 3,
      bitDepth: 8,
      inputFormat: 'png',
      file: { originalName: 'chart.png', mimeType: 'image/png', size: png.length },
      webpFormat: 'webp',
    });
  });
});

describe('hostile and broken requests get JSON errors, and the server keeps serving', () => {
  const cases: [string, (app: Express) => request.Test, number, string][] = [
    ['no file (not multipart)', (app) => request(app).post('/deblur').send({ hello: 'world' }), 400, 'ERR_SGENET_NO_FILE'],
    ['no file (multipart without it)', (app) => request(app).post('/deblur').field('note', 'hi'), 400, 'ERR_SGENET_NO_FILE'],
    ['file in the wrong field', (app) => request(app).post('/deblur').attach('photo', png, 'c.png'), 400, 'ERR_SGENET_BAD_REQUEST'],
    ['unknown ?format=', (app) => request(app).post('/deblur?format=gif').attach('image', png, 'c.png'), 400, 'ERR_SGENET_INVALID_FORMAT'],
    [
      '0 bytes',
      (app) => request(app).post('/deblur').attach('image', Buffer.alloc(0), { filename: 'empty.png', contentType: 'image/png' }),
      400,
      'ERR_SGENET_EMPTY_FILE',
    ],
    [
      'a text file',
      (app) =>
        request(app).post('/deblur').attach('image', Buffer.from('just some notes\n'.repeat(20)), {
          filename: 'notes.txt',
          contentType: 'text/plain',
        }),
      415,
      'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an SVG (not a raster photo)',
      (app) =>
        request(app).post('/deblur').attach('image', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), {
          filename: 'x.svg',
          contentType: 'image/svg+xml',
        }),
      415,
      'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE',
    ],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const app = appWith();
    const res = await send(app);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toEqual(expect.any(String));
    expect(res.body.error.message.length).toBeGreaterThan(20);
    await expectStillServing(app);
  });

  it('413 when the upload has too many bytes', async () => {
    const app = appWith({ maxBytes: 10_000 });
    const big = await noisePng(100, 100);
    expect(big.length).toBeGreaterThan(10_000);
    const res = await request(app).post('/deblur').attach('image', big, 'noise.png');
    expect(res.status).toBe(413);
    expect(res.body.error).toEqual({
      code: 'ERR_SGENET_FILE_TOO_LARGE',
      message: 'The file is larger than the upload limit of 9.8 KiB: send a smaller or downscaled image',
    });
    await expectStillServing(app);
  });

  it('413 when the image has too many pixels (20000x20000 PNG, checked from its header)', async () => {
    const app = appWith();
    const huge = await hugeWhitePng(20000, 20000);
    const res = await request(app).post('/deblur').attach('image', huge, 'huge.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('ERR_SGENET_IMAGE_TOO_LARGE');
    expect(res.body.error.message).toMatch(/20000x20000 = 400000000 pixels, over the limit of 24000000 pixels/);
    await expectStillServing(app);
  });

  it('422 for a truncated JPEG', async () => {
    const app = appWith();
    const jpeg = await encodeChart('jpeg', 96, 64);
    const res = await request(app).post('/deblur').attach('image', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'cut.jpg');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ERR_SGENET_UNDECODABLE_IMAGE');
    expect(res.body.error.message).toMatch(/truncated or corrupt/);
    await expectStillServing(app);
  });

  it('500 with a generic message when the model fails, logged once, server unharmed', async () => {
    const failing: Deblurrer = {
      ...real,
      deblur: async () => {
        throw new BackendError('ONNX Runtime exploded at /secret/path');
      },
    };
    const logged = vi.fn();
    const app = express();
    app.post('/deblur', deblurUpload({ deblurrer: failing }));
    app.post('/ok', deblurUpload({ deblurrer: real }));
    app.use(sgenetErrorHandler({ onServerError: logged }));
    const res = await request(app).post('/deblur').attach('image', png, 'c.png');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('ERR_SGENET_INTERNAL');
    expect(res.body.error.message).not.toMatch(/secret/);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0]![0]).toBeInstanceOf(BackendError);
    const ok = await request(app).post('/ok').attach('image', png, 'c.png');
    expect(ok.status).toBe(200);
  });

  it('a throwing progress hook does not break the job', async () => {
    const app = appWith({
      onProgress: () => {
        throw new Error('hook bug');
      },
    });
    const res = await request(app).post('/deblur').attach('image', png, 'c.png');
    expect(res.status).toBe(200);
  });
});

describe('queue, progress and cancellation', () => {
  it('503 + Retry-After when the queue is full, then serves again', async () => {
    const held = controlledDeblurrer(real);
    const events: JobProgress[] = [];
    const app = express();
    const mw = deblurUpload({
      deblurrer: held.deblurrer,
      concurrency: 1,
      maxQueue: 1,
      maxHeld: 0, // refuse at once, without the bounded wait
      onProgress: (_req, p) => events.push(p),
    });
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());

    const started = held.started();
    const first = request(app).post('/deblur').set('X-Job-Id', 'job-first-1').attach('image', png, 'a.png').then((r) => r);
    await started; // running
    const second = request(app).post('/deblur').set('X-Job-Id', 'job-second-2').attach('image', png, 'b.png').then((r) => r);
    await vi.waitFor(() => expect(mw.queue.queued).toBe(1)); // waiting
    expect(events).toContainEqual(expect.objectContaining({ jobId: 'job-second-2', phase: 'queued', position: 1 }));

    const refused = await request(app).post('/deblur').attach('image', png, 'c.png');
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('ERR_SGENET_BUSY');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    held.release(); // the first job runs the model
    const a = await first;
    held.release(); // then the second
    const b = await second;
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const firstPhases = events.filter((e) => e.jobId === 'job-first-1').map((e) => e.phase);
    expect(firstPhases[0]).toBe('started');
    expect(firstPhases).toContain('deblurring');
    expect(firstPhases.slice(-2)).toEqual(['encoding', 'done']);
    const tiles = events.filter((e) => e.jobId === 'job-first-1' && e.phase === 'deblurring').at(-1)!;
    expect(tiles.done).toBe(tiles.total);

    held.release();
    const after = await request(app).post('/deblur').attach('image', png, 'd.png');
    expect(after.status).toBe(200);
    expect(mw.queue.running).toBe(0);
  });

  it('a client that disconnects aborts its job, and the next request is served', async () => {
    const held = controlledDeblurrer(real);
    const events: JobProgress[] = [];
    const app = express();
    const mw = deblurUpload({ deblurrer: held.deblurrer, onProgress: (_req, p) => events.push(p) });
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      const boundary = 'sgenetboundary42';
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        png,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const started = held.started();
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/deblur',
        headers: {
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          'Content-Length': body.length,
          'X-Job-Id': 'job-leaves-early',
        },
      });
      req.on('error', () => {}); // we hang up on purpose
      req.end(body);
      await started; // the job is running
      req.destroy(); // the client goes away
      await vi.waitFor(() => expect(held.signals[0]?.aborted).toBe(true));
      await vi.waitFor(() => expect(events.at(-1)).toMatchObject({ jobId: 'job-leaves-early', phase: 'aborted' }));
      await vi.waitFor(() => expect(mw.queue.running).toBe(0));

      held.release();
      const res = await request(server).post('/deblur').attach('image', png, 'b.png');
      expect(res.status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a client that disconnects while queued leaves the queue', async () => {
    const held = controlledDeblurrer(real);
    const events: JobProgress[] = [];
    const app = express();
    const mw = deblurUpload({ deblurrer: held.deblurrer, concurrency: 1, maxQueue: 2, onProgress: (_req, p) => events.push(p) });
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      const started = held.started();
      const running = request(server).post('/deblur').attach('image', png, 'a.png').then((r) => r);
      await started;
      const boundary = 'sgenetboundary43';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="b.png"\r\nContent-Type: image/png\r\n\r\n`),
        png,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/deblur',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length, 'X-Job-Id': 'job-queued-leaves' },
      });
      req.on('error', () => {});
      req.end(body);
      await vi.waitFor(() => expect(mw.queue.queued).toBe(1));
      req.destroy();
      await vi.waitFor(() => expect(mw.queue.queued).toBe(0));
      expect(events.filter((e) => e.jobId === 'job-queued-leaves').map((e) => e.phase)).toEqual(['queued', 'aborted']);
      held.release();
      expect((await running).status).toBe(200);
      expect(held.signals).toHaveLength(1); // the queued job never reached the model
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an upload that finds the queue full waits for a place in line, up to maxHeld of them; more get 503 at once', async () => {
    const held = controlledDeblurrer(real);
    const events: JobProgress[] = [];
    const app = express();
    const mw = deblurUpload({
      deblurrer: held.deblurrer,
      concurrency: 1,
      maxQueue: 1,
      maxHeld: 1,
      holdMs: 600_000,
      onProgress: (_req, p) => events.push(p),
    });
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());
    const started = held.started();
    const first = request(app).post('/deblur').attach('image', png, 'a.png').then((r) => r);
    await started;
    const second = request(app).post('/deblur').attach('image', png, 'b.png').then((r) => r);
    await vi.waitFor(() => expect(mw.queue.queued).toBe(1));
    const third = request(app).post('/deblur').set('X-Job-Id', 'job-held-third').attach('image', png, 'c.png').then((r) => r);
    await vi.waitFor(() => expect(mw.queue.held).toBe(1));
    expect(events).toContainEqual(expect.objectContaining({ jobId: 'job-held-third', phase: 'queued', position: 2 }));

    const refused = await request(app).post('/deblur').attach('image', png, 'd.png');
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('ERR_SGENET_BUSY');
    expect(refused.body.error.message).toMatch(/1 running, 1 waiting, 1 waiting for a place/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    for (let i = 0; i < 3; i++) held.release();
    expect([(await first).status, (await second).status, (await third).status]).toEqual([200, 200, 200]);
    expect(events).toContainEqual(expect.objectContaining({ jobId: 'job-held-third', phase: 'queued', position: 1 }));
    expect([mw.queue.running, mw.queue.queued, mw.queue.held]).toEqual([0, 0, 0]);
  });

  it('a held upload gets 503 + Retry-After when no place frees up within holdMs', async () => {
    const held = controlledDeblurrer(real);
    const app = express();
    const mw = deblurUpload({ deblurrer: held.deblurrer, concurrency: 1, maxQueue: 0, maxHeld: 1, holdMs: 1 });
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());
    const started = held.started();
    const first = request(app).post('/deblur').attach('image', png, 'a.png').then((r) => r);
    await started;
    const late = await request(app).post('/deblur').attach('image', png, 'b.png');
    expect(late.status).toBe(503);
    expect(late.body.error.code).toBe('ERR_SGENET_BUSY');
    expect(late.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(mw.queue.held).toBe(0);
    held.release();
    expect((await first).status).toBe(200);
  });

  it('shares one UploadLine between routes (a JobQueue, its former name, too)', async () => {
    const queue = new UploadLine({ concurrency: 1, maxQueue: 0 });
    const a = deblurUpload({ deblurrer: real, queue });
    const b = deblurUpload({ deblurrer: real, queue });
    expect(a.queue).toBe(b.queue);
    const former = new JobQueue({ concurrency: 1 });
    expect(deblurUpload({ deblurrer: real, queue: former }).queue).toBe(former);
  });
});

/** A raw HTTP POST to a listening app, so the body is exactly these bytes (no form library escaping). */
async function rawPost(app: Express, body: Buffer, contentType: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/deblur', headers: { 'Content-Type': contentType, 'Content-Length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A multipart body with one file part whose header lines are given as raw UTF-8 bytes. */
function multipart(boundary: string, partHeaders: string, content: Buffer, close = true): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\n${partHeaders}\r\n\r\n`, 'utf8'),
    content,
    Buffer.from(close ? `\r\n--${boundary}--\r\n` : '', 'utf8'),
  ]);
}

describe('malformed multipart forms get 400 ERR_SGENET_MALFORMED_FORM, not "no file"', () => {
  const boundary = 'sgenetboundary44';
  const type = `multipart/form-data; boundary=${boundary}`;
  it.each([
    ['an unescaped " in the file name', 'Content-Disposition: form-data; name="image"; filename="my "best" shot.png"\r\nContent-Type: image/png', /where a ";" should separate parameters/],
    ['a file name without its closing quote', 'Content-Disposition: form-data; name="image"; filename="shot.png\r\nContent-Type: image/png', /no closing quote/],
    ['a part without Content-Disposition', 'Content-Type: image/png', /no Content-Disposition header/],
    ['a part that is not form-data', 'Content-Disposition: attachment; name="image"; filename="a.png"', /"attachment", not form-data/],
  ])('%s', async (_name, headers, detail) => {
    const app = appWith();
    const res = await rawPost(app, multipart(boundary, headers, png), type);
    expect(res.status).toBe(400);
    const { error } = JSON.parse(res.body.toString('utf8')) as { error: { code: string; message: string } };
    expect(error.code).toBe('ERR_SGENET_MALFORMED_FORM');
    expect(error.message).toMatch(/^The multipart form is malformed \(part 1: /);
    expect(error.message).toMatch(detail);
    expect(error.message).toMatch(/send it again from a browser form/);
    await expectStillServing(app);
  });

  it('a body that ends before its closing boundary', async () => {
    const app = appWith();
    const res = await rawPost(app, multipart(boundary, 'Content-Disposition: form-data; name="image"; filename="a.png"', png, false), type);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ error: { code: 'ERR_SGENET_MALFORMED_FORM' } });
    await expectStillServing(app);
  });

  it('a well-formed form without the file is still ERR_SGENET_NO_FILE; a malformed extra part next to the file is ignored', async () => {
    const app = appWith();
    const noFile = await rawPost(app, multipart(boundary, 'Content-Disposition: form-data; name="note"', Buffer.from('hi')), type);
    expect(noFile.status).toBe(400);
    expect(JSON.parse(noFile.body.toString('utf8'))).toMatchObject({ error: { code: 'ERR_SGENET_NO_FILE' } });
    const both = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="no"te"\r\n\r\nhi\r\n`),
      multipart(boundary, 'Content-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png', png),
    ]);
    const ok = await rawPost(app, both, type);
    expect(ok.status).toBe(200);
  });
});

describe('download names keep their characters (RFC 6266 filename*)', () => {
  /** Decodes filename* by hand: UTF-8'' then percent-encoded bytes (RFC 8187). */
  function decodeExtValue(header: string): string {
    const m = /;\s*filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)\s*(?:;|$)/i.exec(header);
    expect(m).not.toBeNull();
    const bytes: number[] = [];
    for (let i = 0; i < m![1]!.length; i++) {
      const c = m![1]![i]!;
      if (c === '%') {
        bytes.push(parseInt(m![1]!.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(c.charCodeAt(0));
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  }
  function asciiFallback(header: string): string {
    const m = /^inline; filename="([^"]*)"/.exec(header);
    expect(m).not.toBeNull();
    return m![1]!;
  }

  it('a non-ASCII upload name comes back whole in filename*, with a safe ASCII filename', async () => {
    const boundary = 'sgenetboundary45';
    const name = 'ünï😀 cödé.png';
    // As a browser sends it: the name's UTF-8 bytes in the quoted filename.
    const res = await rawPost(
      appWith(),
      multipart(boundary, `Content-Disposition: form-data; name="image"; filename="${name}"\r\nContent-Type: image/png`, png),
      `multipart/form-data; boundary=${boundary}`,
    );
    expect(res.status).toBe(200);
    const header = res.headers['content-disposition']!;
    expect(decodeExtValue(header)).toBe('ünï😀 cödé-deblurred.png');
    const fallback = asciiFallback(header);
    expect(fallback).toBe('uni_code-deblurred.png');
    expect(fallback).toMatch(/^[\x20-\x7e]+$/);
    expect(fallback).not.toMatch(/["\\/]/);
  });

  it('names with quotes, backslashes, separators, controls and bidi overrides stay harmless', async () => {
    const { contentDisposition } = await import('../src/filename.js');
    for (const [upload, name] of [
      ['a"b.png', 'a_b-deblurred.png'],
      ['a"b\\c.png', 'c-deblurred.png'],
      ['../../etc/passwd.png', 'passwd-deblurred.png'],
      ['C:\\photos\\x.png', 'x-deblurred.png'],
      ['evil\u202Egnp.exe.png', 'evil_gnp.exe-deblurred.png'],
      ['tab\there\r\n.png', 'tab_here_-deblurred.png'],
      ['😀.png', '😀-deblurred.png'],
      ['', 'image-deblurred.png'],
      ['broken\uD800.png', 'broken\uFFFD-deblurred.png'],
    ] as const) {
      const header = contentDisposition(upload, 'png');
      const fallback = asciiFallback(header);
      expect(fallback).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(header.includes('filename*') ? decodeExtValue(header) : fallback).toBe(name);
    }
    expect(contentDisposition('😀.png', 'jpeg')).toBe(`inline; filename="image-deblurred.jpg"; filename*=UTF-8''%F0%9F%98%80-deblurred.jpg`);
    expect(contentDisposition("it's (1).png", 'webp')).toBe(`inline; filename="it_s_1_-deblurred.webp"; filename*=UTF-8''it%27s%20%281%29-deblurred.webp`);
  });
});

describe('options are validated when the middleware is made', () => {
  it('throws sharp-style messages', () => {
    expect(() => deblurUpload({ maxBytes: -1 })).toThrow(
      'Expected an integer between 1 and 2147483647 for maxBytes but received -1 of type number',
    );
    expect(() => deblurUpload({ mode: 'stream' as 'respond' })).toThrow(
      `Expected 'respond' or 'attach' for mode but received "stream" of type string`,
    );
    expect(() => deblurUpload({ concurrency: 0 })).toThrow(
      'Expected an integer between 1 and 64 for concurrency but received 0 of type number',
    );
    expect(() => deblurUpload({ quality: 101 })).toThrow(
      'Expected an integer between 1 and 100 for quality but received 101 of type number',
    );
    expect(() => deblurUpload({ formats: ['bmp'] as unknown as ['png'] })).toThrow(/for formats but received bmp/);
    expect(() => deblurUpload({ maxbytes: 5 } as unknown as DeblurUploadOptions)).toThrow(
      /for option name but received "maxbytes" of type string/,
    );
    expect(() => deblurUpload({ deblurrer: real, model: 'x.onnx' })).toThrow(/for model but received "x.onnx"/);
    expect(() => deblurUpload({ queue: new UploadLine(), maxQueue: 3 })).toThrow(/for maxQueue but received 3/);
    expect(() => deblurUpload({ maxHeld: 1.5 })).toThrow('Expected an integer between 0 and 10000 for maxHeld but received 1.5 of type number');
    expect(() => deblurUpload({ holdMs: -5 })).toThrow('Expected an integer between 1 and 600000 for holdMs but received -5 of type number');
    expect(() => deblurUpload({ queue: new UploadLine(), holdMs: 1000 })).toThrow(/for holdMs but received 1000/);
    expect(deblurUpload({ maxQueue: 3 }).queue).toMatchObject({ maxQueue: 3, maxHeld: 6, holdMs: 10_000 });
  });

  it('checks the pipeline options it passes to core: kernel, network, effort, estimation, deconvolution', () => {
    expect(() => deblurUpload({ effort: 'max' as never })).toThrow(/Expected one of 'standard', 'best' for effort but received "max"/);
    expect(() => deblurUpload({ kernel: 'blind' as never })).toThrow(/'auto', 'none', a kernel \{ width, height, data \} or a kernel grid/);
    expect(() => deblurUpload({ kernel: { width: 2, height: 1, data: [0, 0] } as never })).toThrow(
      expect.objectContaining({ code: 'ERR_SGENET_INVALID_KERNEL', message: expect.stringMatching(/all values are zero/) as unknown }),
    );
    expect(() => deblurUpload({ network: 'yes' as never })).toThrow(/a boolean for network/);
    expect(() => deblurUpload({ estimation: { maxSize: 4 } })).toThrow(/for maxSize but received 4/);
    expect(() => deblurUpload({ deconvolution: { method: 'lucy' as never } })).toThrow(/for method but received "lucy"/);
    expect(() => deblurUpload({ onKernel: 3 as never })).toThrow(/a function for onKernel/);
  });
});

describe('the deblurrer a route creates is checked when the route is built', () => {
  it('refuses a bad backend, model or threads at once (a bad threads value was a 500 on the first request)', async () => {
    const invalid = (message: string) => expect.objectContaining({ code: 'ERR_SGENET_INVALID_OPTION', message }) as Error;
    expect(() => deblurUpload({ threads: 0 })).toThrow(invalid('Expected an integer between 1 and 1024 for threads but received 0 of type number'));
    expect(() => deblurUpload({ threads: 2.5 })).toThrow(invalid('Expected an integer between 1 and 1024 for threads but received 2.5 of type number'));
    expect(() => deblurUpload({ backend: 'cuda' as never })).toThrow(
      invalid(`Expected a Backend object, 'ort', 'tfjs' or 'auto' for backend but received "cuda" of type string`),
    );
    expect(() => deblurUpload({ model: 42 as never })).toThrow(
      invalid("Expected a file path, a shipped model's name ('sgenet-s', 'sgenet-s-sigma') or a Uint8Array of an ONNX model for model but received 42 of type number"),
    );
    // Good ones still load the model on the first request, and close() disposes it.
    const mw = deblurUpload({ backend: 'ort', threads: 1 });
    const app = express();
    app.post('/deblur', mw);
    app.use(sgenetErrorHandler());
    const res = await request(app).post('/deblur').attach('image', png, 'chart.png');
    expect(res.status).toBe(200);
    expect((await mw.getDeblurrer()).backend).toBe('ort');
    await mw.close();
  });
});

describe('one set of checks: the sharp plugin and the middleware refuse the same bad value alike', () => {
  /** The error a call throws (or its promise rejects with), as code and message. */
  async function refusal(call: () => unknown): Promise<{ code: string; message: string }> {
    try {
      await call();
    } catch (err) {
      const { code, message } = err as { code: string; message: string };
      return { code, message };
    }
    throw new Error('expected a refusal');
  }

  it.each([
    { tileSize: 64, overlap: 32 },
    { tileSize: 32 },
    { overlap: 2000 },
    { threads: 0 },
    { backend: 'cuda' },
    { model: '' },
    { kernel: 'blind' },
    { network: 'yes' },
  ])('%j', async (bad) => {
    const fromMiddleware = await refusal(() => deblurUpload(bad as DeblurUploadOptions));
    const fromSharp = await refusal(() => deblur(sharp(png), bad as DeblurSharpOptions));
    expect(fromMiddleware.code).toMatch(/^ERR_SGENET_INVALID_/);
    expect(fromMiddleware).toEqual(fromSharp);
  });

  it('output format and quality: the route\'s defaultFormat and quality, encodeImage\'s format and quality', async () => {
    const image = sharp(png);
    const format = await refusal(() => deblurUpload({ defaultFormat: 'gif' as never }));
    expect(format.message.replace('defaultFormat', 'format')).toBe((await refusal(() => encodeImage(image, 'gif' as never))).message);
    expect(format.message).toBe(`Expected one of 'png', 'jpeg', 'webp' for defaultFormat but received "gif" of type string`);
    expect(await refusal(() => deblurUpload({ quality: 0 }))).toEqual(await refusal(() => encodeImage(image, 'png', { quality: 0 })));
  });
});
