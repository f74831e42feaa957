import http from 'node:http';

import {
  CONFIDENT_KERNEL, createDeblurrer, estimateKernel, KERNEL_VERDICT_TEXT,
} from '@sgenet/core';
import type { Deblurrer } from '@sgenet/core';
import type { JobProgress } from '@sgenet/express';
import { twoRegionShake } from '@sgenet/core/synthetic';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDemoApp, kernelPicture, renderSample, renderSharpSample } from '../src/index.js';
import type { Demo, KernelReport } from '../src/index.js';
import { closeServer, laplacianVariance, decodeRgb, listen } from './helpers.js';

let deblurrer: Deblurrer;
let demo: Demo;

beforeAll(async () => {
  deblurrer = await createDeblurrer({ backend: 'ort', threads: 1 });
  demo = createDemoApp({ deblurrer, tileSize: 128 });
});
afterAll(async () => {
  await demo?.close();
  await deblurrer?.dispose();
});

describe('demo API', () => {
  it('serves the page, its script and styles', async () => {
    const page = await request(demo.app).get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('id="sample"');
    const js = await request(demo.app).get('/app.js');
    expect(js.headers['content-type']).toMatch(/javascript/);
    const css = await request(demo.app).get('/style.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('describes the model and limits', async () => {
    const res = await request(demo.app).get('/api/info');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      model: {
        name: deblurrer.model.name, version: deblurrer.model.version,
        withoutKernel: { name: 'sgenet-s', version: '0.4.0' },
      },
      backend: 'ort',
      limits: { tileSize: 128 },
    });
  });

  it('renders its own sample: a chart blurred with camera shake', async () => {
    const res = await request(demo.app).get('/api/sample.png');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    const blurred = await decodeRgb(res.body as Buffer);
    expect([blurred.width, blurred.height]).toEqual([320, 224]);
    const crisp = await renderSharpSample(320, 224);
    expect(laplacianVariance(blurred)).toBeLessThan(0.5 * laplacianVariance(crisp));
    // Deterministic: same bytes every time.
    expect((await renderSample()).equals(res.body as Buffer)).toBe(true);
  });

  it('streams progress over Server-Sent Events for the job id the page chose', async () => {
    const server = demo.app.listen(0, '127.0.0.1');
    const base = await listen(server);
    try {
      const jobId = 'sse-test-job-0001';
      const events: JobProgress[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        http.get(`${base}/api/progress/${jobId}`, (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let cut: number;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              const data = block.split('\n').find((l) => l.startsWith('data: '));
              if (data) events.push(JSON.parse(data.slice(6)) as JobProgress);
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        }).on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 100)); // subscribed before the upload, like the page
      const sample = await renderSample();
      const res = await request(base).post('/api/deblur').set('X-Job-Id', jobId).attach('image', sample, 'sample.png');
      expect(res.status).toBe(200);
      await ended; // the hub ends the stream after 'done'
      const phases = events.map((e) => e.phase);
      expect(phases[0]).toBe('started');
      expect(phases.at(-1)).toBe('done');
      const tiles = events.filter((e) => e.phase === 'deblurring');
      expect(tiles.length).toBeGreaterThan(1); // 320x224 in 128-px tiles
      expect(tiles.at(-1)!.done).toBe(tiles.at(-1)!.total);
      // Each event names its stage (the page labels and places its bar by it), in core's order.
      const stages = tiles.map((e) => e.stage);
      expect(stages.every((s) => s === 'kernel' || s === 'deconvolve' || s === 'network')).toBe(true);
      const order = ['kernel', 'deconvolve', 'network'];
      expect(stages.map((s) => order.indexOf(s!))).toEqual([...stages.map((s) => order.indexOf(s!))].sort((a, b) => a - b));
      expect(stages[0]).toBe('kernel'); // kernel 'auto': the estimation always runs first
      expect(events.every((e) => e.jobId === jobId)).toBe(true);
    } finally {
      await closeServer(server);
    }
  });

  it('shows the kernel each job deconvolved with, enlarged, and names it in X-Blur-Kernel', async () => {
    const sample = await renderSample();
    const jobId = 'kernel-job-0001';
    const res = await request(demo.app).post('/api/deblur').set('X-Job-Id', jobId).attach('image', sample, 'sample.png');
    expect(res.status).toBe(200);
    const header = res.headers['x-blur-kernel'] as string;
    expect(header).toMatch(/^(none|\d+x\d+; confidence=\d\.\d\d(; regions=\d+x\d+)?)$/);
    const picture = await request(demo.app).get(`/api/kernel/${jobId}`).buffer(true).parse((r, cb) => {
      const parts: Buffer[] = [];
      r.on('data', (b: Buffer) => parts.push(b));
      r.on('end', () => cb(null, Buffer.concat(parts)));
    });
    expect(picture.status).toBe(200);
    expect(picture.headers['content-type']).toBe('image/png');
    const meta = await sharp(picture.body as Buffer).metadata();
    if (!header.includes('regions=')) {
      const side = header === 'none' ? 1 : Number(/^(\d+)x/.exec(header)![1]);
      // Enlarged by a whole factor to about 192 px.
      expect(meta.width! % side).toBe(0);
      expect(meta.width).toBeGreaterThanOrEqual(Math.min(192, side * Math.floor(192 / side)));
    }
    expect((await request(demo.app).get('/api/kernel/no-such-job-00')).status).toBe(404);

    // The verdict in core's words, for the page to show instead of a bare confidence.
    const verdict = await request(demo.app).get(`/api/kernel/${jobId}/verdict`);
    expect(verdict.status).toBe(200);
    const report = verdict.body as KernelReport;
    expect(report.text).toBe(KERNEL_VERDICT_TEXT[report.verdict]);
    expect(report.confidentFrom).toBe(CONFIDENT_KERNEL);
    // The estimate's own spectral evidence, why it was kept and its grid, as core computes them
    // for the same pixels.
    const estimate = await estimateKernel(await decodeRgb(sample));
    expect(report.spectralEvidence).toBeCloseTo(estimate.spectralEvidence, 10);
    expect(report.keptBy).toBe(estimate.keptBy);
    expect(report.regions).toEqual(estimate.grid ? { columns: estimate.grid.columns, rows: estimate.grid.rows, own: estimate.grid.own } : null);
    if (header === 'none') {
      expect(report.verdict).toBe('none');
      expect(report.stages).toEqual(['kernel', 'network']);
    } else {
      // The default model (SGENet-σ) runs after the deconvolution: the learned prior.
      expect(deblurrer.networkAfterDeconvolution).toBe(true);
      expect(report.stages).toEqual(['kernel', 'deconvolve', 'network']);
      expect(header).toBe(`${report.width}x${report.height}; confidence=${report.confidence.toFixed(2)}${report.regions ? `; regions=${report.regions.columns}x${report.regions.rows}` : ''}`);
      expect(report.verdict).toBe(report.confidence >= CONFIDENT_KERNEL ? 'confident' : 'uncertain');
    }
    expect((await request(demo.app).get('/api/kernel/no-such-job-00/verdict')).status).toBe(404);
  });

  it('reports a sharp photo as "no blur found: denoised only"', async () => {
    const chart = await renderSharpSample(320, 224);
    const png = await sharp(Buffer.from(chart.data), { raw: { width: 320, height: 224, channels: 3 } }).png().toBuffer();
    const jobId = 'sharp-job-0001';
    const res = await request(demo.app).post('/api/deblur').set('X-Job-Id', jobId).attach('image', png, 'sharp.png');
    expect(res.status).toBe(200);
    expect(res.headers['x-blur-kernel']).toBe('none');
    const verdict = await request(demo.app).get(`/api/kernel/${jobId}/verdict`);
    expect(verdict.body).toMatchObject({ verdict: 'none', text: 'no blur found: denoised only', stages: ['kernel', 'network'] });
  });

  it('previews what the browser cannot show, upright', async () => {
    const tiff = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#369' } })
      .withMetadata({ orientation: 6 })
      .tiff()
      .toBuffer();
    const res = await request(demo.app).post('/api/preview').set('Content-Type', 'application/octet-stream').send(tiff);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    const meta = await sharp(res.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([40, 60]);
    const bad = await request(demo.app).post('/api/preview').set('Content-Type', 'application/octet-stream').send(Buffer.from('nope'));
    expect(bad.status).toBe(415);
    expect(bad.body.error.code).toBe('ERR_SGENET_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers unknown API routes and bad uploads with JSON errors', async () => {
    const missing = await request(demo.app).get('/api/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ERR_DEMO_NOT_FOUND');
    const text = await request(demo.app).post('/api/deblur').attach('image', Buffer.from('hello'), 'a.txt');
    expect(text.status).toBe(415);
    const badId = await request(demo.app).get('/api/progress/x');
    expect(badId.status).toBe(400);
  });
});

describe('demo with per-region kernels (regions: auto)', () => {
  it('reports the grid and shows it as the kernel picture where the shake differs by region', async () => {
    // Left half one camera path, right half its mirror image (core's planted 2-region shake).
    const { blurry: shaken } = twoRegionShake();
    const png = await sharp(Buffer.from(shaken.data), { raw: { width: 768, height: 512, channels: 3 } }).png().toBuffer();
    const regional = createDemoApp({ deblurrer, tileSize: 256, regions: 'auto' });
    try {
      const jobId = 'regions-job-0001';
      const res = await request(regional.app).post('/api/deblur').set('X-Job-Id', jobId).attach('image', png, 'two-regions.png');
      expect(res.status).toBe(200);
      expect(res.headers['x-blur-kernel']).toMatch(/; regions=2x2$/);
      const report = (await request(regional.app).get(`/api/kernel/${jobId}/verdict`)).body as KernelReport;
      expect(report.regions).toMatchObject({ columns: 2, rows: 2 });
      expect(report.regions!.own.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      const picture = await request(regional.app).get(`/api/kernel/${jobId}`).buffer(true).parse((r, cb) => {
        const parts: Buffer[] = [];
        r.on('data', (b: Buffer) => parts.push(b));
        r.on('end', () => cb(null, Buffer.concat(parts)));
      });
      const meta = await sharp(picture.body as Buffer).metadata();
      // Two cells across and down, a 4 px line between: side 2 x cell + 4.
      expect((meta.width! - 4) % 2).toBe(0);
      expect(meta.width).toBe(meta.height);
    } finally {
      await regional.close();
    }
  }, 240_000);
});

describe('kernelPicture', () => {
  it('draws per-region kernels as a grid, each cell\'s kernel in its place (hand-computed size and pixels)', async () => {
    // 2 x 1 cells of 5 px kernels: scale floor(192 / (5 x 2)) = 19, cells 95 px, one 4 px line between.
    const dot = { width: 5, height: 5, data: Float32Array.from({ length: 25 }, (_, i) => (i === 12 ? 1 : 0)) };
    const bar = { width: 5, height: 5, data: Float32Array.from({ length: 25 }, (_, i) => (i >= 10 && i < 15 ? 0.2 : 0)) };
    const png = await kernelPicture({
      kernel: dot, source: 'estimated', confidence: 0.3, identity: false,
      grid: { columns: 2, rows: 1, width: 640, height: 480, kernels: [dot, bar], own: [false, true], agreement: [1, 0.4] },
    });
    const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([194, 95, 1]);
    const at = (x: number, y: number) => data[y * info.width + x];
    expect(at(2 * 19 + 9, 2 * 19 + 9)).toBe(255); // the dot's centre tap, left cell
    expect(at(0, 0)).toBe(0);
    expect(at(96, 40)).toBe(96); // the line between the cells
    expect(at(99, 2 * 19 + 9)).toBe(255); // the bar's row, right cell (starts at 95 + 4)
    expect(at(99, 0)).toBe(0);
  });
});
