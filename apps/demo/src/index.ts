/**
 * The SGENet demo web app: upload a photo (or use the built-in sample), watch progress over
 * Server-Sent Events, compare before/after with a slider, download the result. Built only on the
 * public entry points of @sgenet/core, @sgenet/express and @sgenet/sharp.
 *
 * @packageDocumentation
 */
import { fileURLToPath } from 'node:url';

import {
  CONFIDENT_KERNEL,
  createDeblurrer,
  DEFAULT_NETWORK_AFTER_DECONVOLUTION,
  KERNEL_VERDICT_TEXT,
  kernelToGrey,
  kernelVerdict,
} from '@sgenet/core';
import type { Deblurrer, KernelGrid, KernelKeptBy, KernelUsed, KernelVerdict, RegionsChoice } from '@sgenet/core';
import { DeblurHttpError, deblurUpload, sgenetErrorHandler, toHttpError } from '@sgenet/express';
import type { DeblurMiddleware, JobProgress } from '@sgenet/express';
import { openImage } from '@sgenet/sharp';
import express from 'express';
import sharp from 'sharp';
import type { Express, NextFunction, Request, Response } from 'express';

import { ProgressHub } from './progress-hub.js';
import { renderSample } from './sample.js';

export { ProgressHub } from './progress-hub.js';
export { renderSample, renderSharpSample, sampleSvg } from './sample.js';
export type { SampleOptions } from './sample.js';

/** Options of {@link createDemoApp}. */
export interface DemoOptions {
  /** The deblurrer (or a promise of one). Default: `createDeblurrer()`, the shipped model. */
  deblurrer?: Deblurrer | Promise<Deblurrer>;
  /** Tile size for deblurring. Default 512 (keeps the model's full overlap). */
  tileSize?: number;
  /** Upload limit in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Pixel limit. Default 16 MP. */
  maxPixels?: number;
  /** Jobs at once (default 1) and waiting (default 3). */
  concurrency?: number;
  maxQueue?: number;
  /** Folder of the static page. Default: the package's `public/`. */
  publicDir?: string;
  /**
   * Per-region kernels (core's `EstimateKernelOptions.regions`): `'off'` (default, as the
   * library) or `'auto'`, 2, 3, 4; where one is found the page shows the grid of kernels.
   */
  regions?: RegionsChoice;
}

/** A demo app ready to `listen`. */
export interface Demo {
  app: Express;
  hub: ProgressHub;
  deblurrer: Promise<Deblurrer>;
  middleware: DeblurMiddleware;
  /** Ends progress streams and frees the model if the demo loaded it. */
  close(): Promise<void>;
}

/** The page folder shipped with the app. */
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** True while the shipped model is the untrained placeholder (its metadata reports < 1000 steps). */
function isPlaceholder(metadata: Readonly<Record<string, string>>): boolean {
  const m = /(\d+)\s*steps/.exec(metadata.training ?? '');
  return m !== null && Number(m[1]) < 1000;
}

/** Kernels of recent jobs, shown enlarged beside before/after. */
const KEPT_KERNELS = 32;

/**
 * What the page tells a user about a job's kernel (`GET /api/kernel/:jobId/verdict`): core's
 * verdict and its words, so the page and the CLI say the same thing, plus the figures behind it.
 */
export interface KernelReport {
  verdict: KernelVerdict;
  /** `KERNEL_VERDICT_TEXT[verdict]`, e.g. `blur found, uncertain`. */
  text: string;
  source: KernelUsed['source'];
  width: number;
  height: number;
  confidence: number;
  /** The confidence from which an estimate counts as confident (core's `CONFIDENT_KERNEL`). */
  confidentFrom: number;
  /** The estimate's spectral evidence (core's `spectralEvidence`); null for a given PSF. */
  spectralEvidence: number | null;
  /** Why an estimate was kept (core's `keptBy`); null for a given PSF or no blur. */
  keptBy: KernelKeptBy | null;
  /**
   * Per-region kernels when the shake varied over the photo: cells across and down, and per cell
   * (row-major) whether it has its own kernel; null for one kernel. The picture then shows the grid.
   */
  regions: { columns: number; rows: number; own: boolean[] } | null;
  /**
   * The stages the job runs, in order. Known once the kernel is: the page marks the others as not
   * needed, without waiting for progress events that can trail the result.
   */
  stages: NonNullable<JobProgress['stage']>[];
}

/**
 * The {@link KernelReport} of a kernel used; `network` tells whether the network runs after a
 * deconvolution (core's `network` option). Without a kernel it always runs.
 */
export function kernelReport(used: KernelUsed, network: boolean): KernelReport {
  const verdict = kernelVerdict(used);
  const stages: KernelReport['stages'] = used.source === 'estimated' ? ['kernel'] : [];
  if (!used.identity) stages.push('deconvolve');
  if (used.identity || network) stages.push('network');
  return {
    verdict,
    text: KERNEL_VERDICT_TEXT[verdict],
    source: used.source,
    width: used.kernel.width,
    height: used.kernel.height,
    confidence: used.confidence,
    confidentFrom: CONFIDENT_KERNEL,
    spectralEvidence: used.spectralEvidence ?? null,
    keptBy: used.keptBy ?? null,
    regions: used.grid ? { columns: used.grid.columns, rows: used.grid.rows, own: [...used.grid.own] } : null,
    stages,
  };
}

/**
 * The kernel as a PNG, enlarged with nearest-neighbour to about 192 px so its taps stay visible;
 * with per-region kernels, the grid: each cell's kernel in its place, 4 px grey lines between.
 */
export async function kernelPicture(used: KernelUsed): Promise<Buffer> {
  if (used.grid) return gridPicture(used.grid);
  const { kernel } = used;
  const scale = Math.max(1, Math.floor(192 / Math.max(kernel.width, kernel.height)));
  return sharp(Buffer.from(kernelToGrey(kernel)), { raw: { width: kernel.width, height: kernel.height, channels: 1 } })
    .resize(kernel.width * scale, kernel.height * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/** Width of the lines between a grid's cells in its picture, and their grey. */
const GRID_LINE = 4;
const GRID_GREY = 96;

async function gridPicture(grid: KernelGrid): Promise<Buffer> {
  const side = grid.kernels[0]!.width; // one common odd square (core pads them)
  const scale = Math.max(1, Math.floor(192 / (side * Math.max(grid.columns, grid.rows))));
  const cell = side * scale;
  const width = grid.columns * cell + (grid.columns - 1) * GRID_LINE;
  const height = grid.rows * cell + (grid.rows - 1) * GRID_LINE;
  const pixels = Buffer.alloc(width * height, GRID_GREY);
  grid.kernels.forEach((k, i) => {
    const grey = kernelToGrey(k);
    const x0 = (i % grid.columns) * (cell + GRID_LINE), y0 = Math.floor(i / grid.columns) * (cell + GRID_LINE);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) pixels[(y0 + y) * width + x0 + x] = grey[Math.floor(y / scale) * side + Math.floor(x / scale)]!;
    }
  });
  return sharp(pixels, { raw: { width, height, channels: 1 } }).png().toBuffer();
}

/** Builds the Express app. */
export function createDemoApp(options: DemoOptions = {}): Demo {
  const ownsDeblurrer = options.deblurrer === undefined;
  const deblurrer = Promise.resolve(options.deblurrer ?? createDeblurrer());
  deblurrer.catch((err: unknown) => console.error('[demo] the model failed to load:', err));
  const maxBytes = options.maxBytes ?? 20 * 1024 * 1024;
  const maxPixels = options.maxPixels ?? 16_000_000;
  const tileSize = options.tileSize ?? 512;
  const hub = new ProgressHub();
  const kernels = new Map<string, { report: KernelReport; picture: Promise<Buffer> }>();
  // Whether the network runs after a deconvolution is the model's default (a noise-conditioned
  // model, SGENet-σ, is the deconvolution's learned prior): the report says which stages ran.
  let networkAfter = DEFAULT_NETWORK_AFTER_DECONVOLUTION;
  deblurrer.then((d) => { networkAfter = d.networkAfterDeconvolution; }, () => {});
  const middleware = deblurUpload({
    deblurrer,
    tileSize,
    maxBytes,
    maxPixels,
    concurrency: options.concurrency ?? 1,
    maxQueue: options.maxQueue ?? 3,
    // The library's default, spelled out: the demo is about the kernel stage, and its report says
    // which stages ran. `network` stays the model's own default.
    kernel: 'auto',
    ...(options.regions !== undefined ? { estimation: { regions: options.regions } } : {}),
    onProgress: hub.publish,
    onKernel: (req, used) => {
      const jobId = req.get('x-job-id');
      if (!jobId || !/^[A-Za-z0-9_-]{8,128}$/.test(jobId)) return;
      const picture = kernelPicture(used);
      picture.catch(() => kernels.delete(jobId));
      kernels.set(jobId, { report: kernelReport(used, networkAfter), picture });
      while (kernels.size > KEPT_KERNELS) kernels.delete(kernels.keys().next().value!);
    },
  });

  const app = express();
  app.disable('x-powered-by');

  app.get('/api/info', async (_req, res, next) => {
    try {
      const d = await deblurrer;
      res.json({
        model: {
          name: d.model.name,
          version: d.model.version,
          training: d.model.metadata.training ?? null,
          placeholder: isPlaceholder(d.model.metadata),
          // The network that runs where no kernel is used (with the default pair, v0.4.0).
          withoutKernel: { name: d.modelWithoutKernel.name, version: d.modelWithoutKernel.version },
        },
        backend: d.backend,
        provider: d.provider,
        limits: { maxBytes, maxPixels, tileSize },
      });
    } catch (err) {
      next(err);
    }
  });

  let sample: Promise<Buffer> | undefined;
  app.get('/api/sample.png', async (_req, res, next) => {
    try {
      sample ??= renderSample();
      const png = await sample;
      res.setHeader('Content-Type', 'image/png');
      res.setHeader('Content-Disposition', 'inline; filename="sgenet-sample-blurred.png"');
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.end(png);
    } catch (err) {
      sample = undefined;
      next(err);
    }
  });

  // An upright, browser-friendly view of an upload the browser cannot show itself (TIFF, 16-bit...).
  app.post(
    '/api/preview',
    express.raw({ type: () => true, limit: maxBytes }),
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const { image } = await openImage(body, { limitInputPixels: maxPixels });
        const png = await image.autoOrient().resize({ width: 2048, height: 2048, fit: 'inside', withoutEnlargement: true })
          .png()
          .toBuffer();
        res.setHeader('Content-Type', 'image/png');
        res.setHeader('Cache-Control', 'no-store');
        res.end(png);
      } catch (err) {
        next(err);
      }
    },
  );

  app.get('/api/progress/:jobId', hub.subscribe);
  const noKernel = (res: Response): void => {
    res.status(404).json({ error: { code: 'ERR_DEMO_NO_KERNEL', message: 'No kernel for this job: it used the network alone, or it is too old' } });
  };
  app.get('/api/kernel/:jobId', async (req, res, next) => {
    try {
      const kept = kernels.get(req.params.jobId ?? '');
      if (!kept) {
        noKernel(res);
        return;
      }
      res.setHeader('Content-Type', 'image/png');
      res.setHeader('Cache-Control', 'no-store');
      res.end(await kept.picture);
    } catch (err) {
      next(err);
    }
  });
  app.get('/api/kernel/:jobId/verdict', (req, res) => {
    const kept = kernels.get(req.params.jobId ?? '');
    if (!kept) {
      noKernel(res);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.json(kept.report);
  });
  app.post('/api/deblur', middleware);
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: { code: 'ERR_DEMO_NOT_FOUND', message: 'No such API route: see GET /api/info' } });
  });
  app.use(express.static(options.publicDir ?? PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));

  // body-parser's size error carries type 'entity.too.large': same JSON as the upload route.
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    if ((err as { type?: string } | null)?.type === 'entity.too.large') {
      next(new DeblurHttpError(413, 'ERR_SGENET_FILE_TOO_LARGE', `The file is larger than the ${maxBytes}-byte limit: send a smaller image`));
      return;
    }
    next(toHttpError(err) ?? err);
  });
  app.use(sgenetErrorHandler({ renderUnknown: true }));

  return {
    app,
    hub,
    deblurrer,
    middleware,
    async close() {
      hub.close();
      if (ownsDeblurrer) {
        try {
          await (await deblurrer).dispose();
        } catch {
          // never loaded
        }
      }
    },
  };
}
