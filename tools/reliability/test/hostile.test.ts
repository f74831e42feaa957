/**
 * The hostile-input corpus through every entry point: the core API, the sharp plugin, the CLI
 * and the Express middleware. Each gives the correct result or a typed error with a stable code
 * and a message that says what to do; nothing crashes, nothing is left behind.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createDeblurrer, estimateKernel, kernelFromGrey, parseKernelJson, SgenetError, validateKernel } from '@sgenet/core';
import type { Deblurrer, RawImage } from '@sgenet/core';
import { deblurUpload, sgenetErrorHandler } from '@sgenet/express';
import { createBackend } from '@sgenet/tfjs-backend';
import * as tf from '@tensorflow/tfjs-core';
import { deblur } from '@sgenet/sharp';
import express from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCorpus, KERNEL_PHOTO } from '../src/corpus.js';
import type { CorpusEntry, Expected } from '../src/corpus.js';
import { RAW_CASES } from '../src/raw-inputs.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../../apps/cli/bin/sgenet.js', import.meta.url));

// The corpus is made before the tests are listed: the list comes from its manifest.
const dir = await mkdtemp(join(tmpdir(), 'sgenet-corpus-'));
const corpus: CorpusEntry[] = await buildCorpus(dir);
let out: string;
let deblurrer: Deblurrer;
let app: express.Express;
const tempBefore = new Set<string>();

/** Files our code could leave in the temp folder (atomic writes, uploads). */
async function strayTempFiles(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((f) => /sgenet-tmp$|^\.sgenet|^multer/.test(f) && !tempBefore.has(f));
}

beforeAll(async () => {
  for (const f of await readdir(tmpdir())) tempBefore.add(f);
  out = await mkdtemp(join(tmpdir(), 'sgenet-corpus-out-'));
  deblurrer = await createDeblurrer({ backend: 'ort' });
  app = express();
  app.post('/deblur', deblurUpload({ deblurrer, maxPixels: 24_000_000, maxQueue: 64 }));
  app.use(sgenetErrorHandler({ onServerError: () => {} }));
});

afterAll(async () => {
  await deblurrer?.dispose();
  await rm(dir, { recursive: true, force: true });
  await rm(out, { recursive: true, force: true });
});

const entries = (kind: CorpusEntry['kind']) => corpus.filter((e) => e.kind === kind);

function expectTypedError(err: unknown, expected: Exclude<Expected, { ok: true }>, checkMessage = true): void {
  expect(err, 'a typed SGENet error').toBeInstanceOf(SgenetError);
  const e = err as SgenetError;
  expect(e.code).toBe(expected.code);
  if (checkMessage) expect(e.message).toMatch(expected.message);
  // Says what to do: an instruction after the diagnosis.
  expect(e.message).toMatch(/[:;] \S/);
}

async function decodedSize(bytes: Buffer): Promise<[number, number]> {
  const m = await sharp(bytes).metadata();
  return [m.width ?? 0, m.height ?? 0];
}

describe('images', () => {
  describe.each(entries('image').map((e) => [e.id, e] as const))('%s', (_id, entry) => {
    const file = () => join(dir, entry.file);

    it('sharp plugin: deblur(sharp(file))', async () => {
      const result = await deblur(sharp(file()), { deblurrer }).then((s) => s.toBuffer({ resolveWithObject: true }), (e: unknown) => e);
      if ('ok' in entry.expected) {
        const { info } = result as { info: sharp.OutputInfo };
        expect([info.width, info.height]).toEqual([entry.expected.width, entry.expected.height]);
      } else if (entry.id === 'svg-external') {
        // The caller's own sharp instance renders SVG (librsvg); the plugin deblurs the raster.
        // Servers go through openImage, which refuses SVG before decoding (the middleware row).
        expect((result as { info: sharp.OutputInfo }).info.width).toBe(96);
      } else {
        // sharp reads the file here: the code is the stable one, the wording sharp's.
        expectTypedError(result, entry.expected, false);
      }
    });

    it('CLI: sgenet deblur FILE -o OUT', async () => {
      const target = join(out, `${entry.id}.png`);
      const result = await run(process.execPath, [CLI, 'deblur', file(), '-o', target, '-q'])
        .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
      if ('ok' in entry.expected) {
        expect(result.code, result.stderr).toBe(0);
        expect(await decodedSize(await readFile(target))).toEqual([entry.expected.width, entry.expected.height]);
        const meta = await sharp(target).metadata();
        if (entry.id === 'png16') expect(meta.depth).toBe('ushort');
        if (entry.id === 'grey-alpha') expect([meta.channels, meta.hasAlpha]).toEqual([2, true]);
      } else {
        expect(result.code).toBe(1);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`[${entry.expected.code}]`);
        expect(lines[0]).toMatch(entry.expected.message);
        expect(await readdir(out)).not.toContain(`${entry.id}.png`);
      }
    });

    it('Express middleware: POST multipart', async () => {
      const res = await request(app).post('/deblur?format=png').attach('image', await readFile(file()), entry.file).buffer(true);
      if ('ok' in entry.expected) {
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(await decodedSize(res.body as Buffer)).toEqual([entry.expected.width, entry.expected.height]);
      } else {
        const http = entry.expected.http!;
        expect(res.status).toBe(http.status);
        expect(res.body.error.code).toBe(http.code);
        expect(res.body.error.message).toMatch(entry.expected.message);
      }
    });
  });
});

describe('the core API on hostile pixel buffers', () => {
  it.each(RAW_CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const result = await deblurrer.deblur(c.image() as RawImage).catch((e: unknown) => e);
    if ('ok' in c.expected) {
      const img = result as RawImage;
      const input = c.image() as RawImage;
      expect([img.width, img.height]).toEqual([c.expected.width, c.expected.height]);
      // Same layout out as in: channels and bit depth.
      expect(img.channels).toBe(input.channels);
      expect(img.data.constructor).toBe(input.data.constructor);
    } else {
      expect(result).toBeInstanceOf(SgenetError);
      expect((result as SgenetError).code).toBe(c.expected.code);
      expect((result as SgenetError).message).toMatch(c.expected.message);
    }
    // estimateKernel takes the same pixels and refuses the same way.
    if (!('ok' in c.expected)) {
      const k = await estimateKernel(c.image() as RawImage).catch((e: unknown) => e);
      expect((k as SgenetError).code).toBe(c.expected.code);
    }
  });
});

describe('models', () => {
  describe.each(entries('model').map((e) => [e.id, e] as const))('%s', (_id, entry) => {
    const expected = entry.expected as Exclude<Expected, { ok: true }>;
    const file = () => join(dir, entry.file);

    it('core: createDeblurrer({ model })', async () => {
      expectTypedError(await createDeblurrer({ model: file() }).catch((e: unknown) => e), expected);
    });

    it('sharp plugin: deblur(sharp(photo), { model })', async () => {
      expectTypedError(await deblur(sharp(join(dir, KERNEL_PHOTO)), { model: file() }).catch((e: unknown) => e), expected);
    });

    it('CLI: sgenet deblur --model FILE', async () => {
      const result = await run(process.execPath, [CLI, 'deblur', join(dir, KERNEL_PHOTO), '-o', join(out, `${entry.id}.png`), '--model', file()])
        .then((r) => ({ code: 0, ...r }), (e: { code: number; stderr: string }) => e);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`cannot load the model: .*${expected.message.source}.*\\[${expected.code}\\]`));
    });

    it('Express middleware: 500 without details, and the server keeps serving', async () => {
      const bad = express();
      bad.post('/deblur', deblurUpload({ model: file() }));
      bad.post('/ok', deblurUpload({ deblurrer }));
      const logged: unknown[] = [];
      bad.use(sgenetErrorHandler({ onServerError: (err) => logged.push(err) }));
      const photo = await readFile(join(dir, KERNEL_PHOTO));
      for (let i = 0; i < 2; i++) {
        const res = await request(bad).post('/deblur').attach('image', photo, 'p.png');
        expect(res.status).toBe(expected.http!.status);
        expect(res.body.error.code).toBe(expected.http!.code);
        expect(res.body.error.message).not.toMatch(/onnx|protobuf|metadata/i);
      }
      // The operator's log gets the typed cause.
      expect((logged[0] as SgenetError).code).toBe(expected.code);
      expect((await request(bad).post('/ok').attach('image', photo, 'p.png')).status).toBe(200);
    });
  });
});

describe('kernel files', () => {
  describe.each(entries('kernel').map((e) => [e.id, e] as const))('%s', (_id, entry) => {
    const expected = entry.expected as Exclude<Expected, { ok: true }>;
    const file = () => join(dir, entry.file);
    const photoSize = { width: 96, height: 72 };

    /** What a program gets from the file: a parsed object (JSON) or decoded grey samples (PNG). */
    async function asObject(): Promise<unknown> {
      const bytes = await readFile(file());
      if (entry.file.endsWith('.png')) {
        const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
        return { width: info.width, height: info.height, data: Array.from(data) };
      }
      return JSON.parse(bytes.toString('utf8'));
    }

    it('core: parseKernelJson / kernelFromGrey + validateKernel against the photo', async () => {
      const bytes = await readFile(file());
      const err = await (async () => {
        if (entry.file.endsWith('.png')) {
          const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
          return validateKernel(kernelFromGrey(data, info.width, info.height, entry.file), entry.file, photoSize);
        }
        return validateKernel(parseKernelJson(bytes.toString('utf8'), entry.file), entry.file, photoSize);
      })().catch((e: unknown) => e);
      expectTypedError(err, expected);
      expect((err as Error).message).toContain(entry.file);
    });

    it('sharp plugin: deblur(sharp(photo), { kernel })', async () => {
      const kernel = await asObject().catch(() => undefined);
      // Empty and NaN files are not JSON: no object reaches the plugin (the core row covers them).
      if (kernel === undefined) return expect(['kernel-empty', 'kernel-nan']).toContain(entry.id);
      expectTypedError(await deblur(sharp(join(dir, KERNEL_PHOTO)), { deblurrer, kernel: kernel as never }).catch((e: unknown) => e), expected);
    });

    it('CLI: sgenet deblur --kernel FILE', async () => {
      const result = await run(process.execPath, [CLI, 'deblur', join(dir, KERNEL_PHOTO), '-o', join(out, `${entry.id}.png`), '--kernel', file()])
        .then((r) => ({ code: 0, ...r }), (e: { code: number; stderr: string }) => e);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(file());
      expect(result.stderr).toMatch(expected.message);
      expect(result.stderr).toContain(`[${expected.code}]`);
    });

    it('Express middleware: deblurUpload({ kernel }) refuses it when the route is built, or per request', async () => {
      const kernel = await asObject().catch(() => undefined);
      if (kernel === undefined) return expect(['kernel-empty', 'kernel-nan']).toContain(entry.id);
      let built;
      try {
        built = deblurUpload({ deblurrer, kernel: kernel as never });
      } catch (err) {
        return expectTypedError(err, expected);
      }
      // Only the photo knows a kernel is too large for it: a 422 for that upload.
      const route = express().post('/deblur', built).use(sgenetErrorHandler({ onServerError: () => {} }));
      const res = await request(route).post('/deblur').attach('image', await readFile(join(dir, KERNEL_PHOTO)), 'p.png');
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('ERR_SGENET_IMAGE_TOO_SMALL');
      expect(res.body.error.message).toMatch(/smaller than/);
    });
  });
});

describe('nothing is left behind', () => {
  it('no TensorFlow.js tensor outlives a call, good input or bad (the tfjs backend, cpu platform)', async () => {
    const tfjs = await createDeblurrer({ backend: createBackend({ platform: 'cpu' }) });
    try {
      const small = entries('image').filter((e) => 'ok' in e.expected && ['one-pixel', 'grey-alpha', 'png16', 'cmyk', 'exif-rotated'].includes(e.id));
      // Warm-up: the model's weights are the tensors that stay.
      await deblur(sharp(join(dir, small[0]!.file)), { deblurrer: tfjs });
      const baseline = tf.memory().numTensors;
      for (const e of small) {
        const out = await deblur(sharp(join(dir, e.file)), { deblurrer: tfjs }).then((s) => s.toBuffer({ resolveWithObject: true }));
        expect([out.info.width, out.info.height]).toEqual([(e.expected as { width: number }).width, (e.expected as { height: number }).height]);
        expect(tf.memory().numTensors, e.id).toBe(baseline);
      }
      for (const c of RAW_CASES.filter((r) => !('ok' in r.expected))) {
        await tfjs.deblur(c.image() as RawImage).catch(() => {});
        expect(tf.memory().numTensors, c.id).toBe(baseline);
      }
      // An abort half-way through a tiled run frees its tensors too.
      const controller = new AbortController();
      const run = deblur(sharp(join(dir, small.find((e) => e.id === 'cmyk')!.file)), { deblurrer: tfjs, tileSize: 64, overlap: 16, signal: controller.signal, onProgress: () => controller.abort() });
      await expect(run).rejects.toMatchObject({ code: 'ERR_SGENET_ABORTED' });
      expect(tf.memory().numTensors).toBe(baseline);
    } finally {
      await tfjs.dispose();
    }
  });

  it('200 bad inputs through the plugin and the middleware: bounded heap and RSS, no temp files', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest runs this file with --expose-gc').toBeTypeOf('function');
    const bad = entries('image').filter((e) => !('ok' in e.expected));
    const bytes = await Promise.all(bad.map((e) => readFile(join(dir, e.file))));
    const round = async (i: number) => {
      const k = i % bad.length;
      // sharp's constructor itself throws on an empty Buffer, before the plugin is called.
      await Promise.resolve().then(() => deblur(sharp(bytes[k]!), { deblurrer })).catch(() => {});
      await request(app).post('/deblur').attach('image', bytes[k]!, bad[k]!.file);
    };
    for (let i = 0; i < 20; i++) await round(i); // warm-up: lazily loaded code, caches
    gc!();
    const before = process.memoryUsage();
    for (let i = 0; i < 200; i++) await round(i);
    gc!();
    const after = process.memoryUsage();
    const heapMiB = (after.heapUsed - before.heapUsed) / 2 ** 20;
    const rssMiB = (after.rss - before.rss) / 2 ** 20;
    console.log(`after 200 bad inputs: heap ${heapMiB >= 0 ? '+' : ''}${heapMiB.toFixed(1)} MiB, RSS ${rssMiB >= 0 ? '+' : ''}${rssMiB.toFixed(1)} MiB`);
    expect(heapMiB, `heap grew ${heapMiB.toFixed(1)} MiB`).toBeLessThan(16);
    expect(rssMiB, `RSS grew ${rssMiB.toFixed(1)} MiB`).toBeLessThan(96);
    expect(await strayTempFiles()).toEqual([]);
    expect((await readdir(out)).filter((f) => f.endsWith('.sgenet-tmp'))).toEqual([]);
  });
});
