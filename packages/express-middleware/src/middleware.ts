import { randomUUID } from 'node:crypto';

import { AbortError, checkPipelineOptions, createDeblurrer, describeKernelUsed, invalidOption } from '@sgenet/core';
import type { BackendChoice, DeblurOptions, Deblurrer, KernelChoice, KernelUsed, ModelSource } from '@sgenet/core';
import { IMAGE_FORMATS, deblur, encodeImage, openImage } from '@sgenet/sharp';
import type { ImageFormat } from '@sgenet/sharp';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';

import { DeblurHttpError, internalError, malformedForm, toHttpError } from './errors.js';
import { contentDisposition } from './filename.js';
import { isHandoff, JOB_ID, queueUnavailable } from './handoff.js';
import type { DeblurHandoff } from './handoff.js';
import { FormScanner } from './multipart.js';
import { CONTENT_TYPES, formatFromQuery, negotiateFormat } from './negotiate.js';
import type { OutputFormat } from './negotiate.js';
import { JobQueue } from './queue.js';
import type { JobQueueOptions } from './queue.js';
import type { DeblurResult, JobProgress } from './types.js';

/** Default upload limit: 25 MiB. */
export const DEFAULT_MAX_BYTES = 25 * 1024 * 1024;
/** Default pixel limit: 24 MP (a 6000 x 4000 camera frame). */
export const DEFAULT_MAX_PIXELS = 24_000_000;

/** Options of {@link deblurUpload}. Every one is optional. */
export interface DeblurUploadOptions {
  /**
   * The deblurrer to use (or a promise of one, so the server can listen while the model loads).
   * Share one between routes. Without it, one is created on the first request from
   * `backend`/`model`/`threads` and disposed by `close()`.
   */
  deblurrer?: Deblurrer | Promise<Deblurrer>;
  /** Backend for the deblurrer this middleware creates: `'ort'`, `'tfjs'`, `'auto'` or an object. */
  backend?: BackendChoice;
  /** ONNX model for the deblurrer this middleware creates. Default: the shipped model. */
  model?: ModelSource;
  /** Backend threads for the deblurrer this middleware creates. */
  threads?: number;
  /** `'respond'` (default) sends the image; `'attach'` sets `req.sgenet` and calls `next()`. */
  mode?: 'respond' | 'attach';
  /** Multipart field holding the image. Default `'image'`. */
  field?: string;
  /** Largest upload in bytes (413 `ERR_SGENET_FILE_TOO_LARGE`). Default 25 MiB. */
  maxBytes?: number;
  /** Largest image in pixels, checked from the header (413 `ERR_SGENET_IMAGE_TOO_LARGE`). Default 24 MP. */
  maxPixels?: number;
  /** Input formats accepted (others get 415). Default: jpeg, png, webp, gif, tiff, avif, heif. */
  formats?: readonly ImageFormat[];
  /** Jobs deblurring at the same time. Default 1. Ignored when `queue` is given. */
  concurrency?: number;
  /** Jobs waiting beyond those. Default 4. Not with `queue` (set it on the JobQueue). */
  maxQueue?: number;
  /**
   * Uploads that may wait for a place in line when the queue is full: they take the queue's
   * places in arrival order, so clients that resubmit at once cannot starve the ones that honour
   * `Retry-After`. More, or any still waiting after `holdMs`, get 503 + `Retry-After` (when the
   * next place is expected to free up). Default: twice `maxQueue`; 0 refuses at once. Not with `queue`.
   */
  maxHeld?: number;
  /** How long a held upload waits for a place, 1 to 600 000 ms. Default 10 000. Not with `queue`. */
  holdMs?: number;
  /** A queue shared with other routes (instead of `concurrency`/`maxQueue`/`maxHeld`/`holdMs`). */
  queue?: JobQueue;
  /** Tile size passed to the deblurrer (64 to 8192). Default: the deblurrer's. */
  tileSize?: number;
  /** Tile overlap passed to the deblurrer (0 to 1024). Default: the deblurrer's. */
  overlap?: number;
  /**
   * Deconvolution kernel for every request: `'auto'` (estimated blind, then deconvolved; the core
   * default), `'none'` (the network alone) or a measured PSF `{ width, height, data }` (a fixed camera).
   */
  kernel?: KernelChoice;
  /** Run the network after the deconvolution (see `DeblurOptions.network` of `@sgenet/core`). */
  network?: boolean;
  /** Options of the blind kernel estimation (see `EstimateKernelOptions` of `@sgenet/core`). */
  estimation?: DeblurOptions['estimation'];
  /** Options of the deconvolution (see `DeconvolveOptions` of `@sgenet/core`). */
  deconvolution?: DeblurOptions['deconvolution'];
  /**
   * Receives the kernel each request's restoration used (estimated or given). The response also
   * carries it in brief: `X-Blur-Kernel: <width>x<height>; confidence=<c>` (or `none`).
   */
  onKernel?: (req: Request, used: KernelUsed) => void;
  /** JPEG/WebP quality, 1 to 100. Default 90. */
  quality?: number;
  /**
   * Response format when neither `?format=` nor `Accept` decides. Default: the upload's format
   * when it is png, jpeg or webp, else png.
   */
  defaultFormat?: OutputFormat;
  /** Keep EXIF (orientation reset), ICC profile and XMP in responses. Default `false` (privacy). */
  keepMetadata?: boolean;
  /**
   * Progress of every job: queued (with position), started, deblurring (tiles done/total),
   * encoding, done, failed or aborted. Exceptions thrown by the hook are ignored.
   */
  onProgress?: (req: Request, progress: JobProgress) => void;
  /**
   * Job id of a request, returned in the `X-Job-Id` response header and in progress events.
   * Default: the `X-Job-Id` request header or `?job=` when it is 8 to 128 characters of
   * `[A-Za-z0-9_-]` (so a page can subscribe to progress before uploading), else a random UUID.
   */
  jobId?: (req: Request) => string | undefined;
  /**
   * Hand the work to a job queue instead of running it in this process (for example
   * `queueHandoff()` of `@sgenet/queue`, on BullMQ). The upload is checked here as usual (bytes,
   * pixels, format), then queued; the response is `202` with `{ jobId, state, status, result }`
   * and a `Location` header. Serve the two URLs with {@link deblurJobStatus} and
   * {@link deblurJobResult}. Only with `mode: 'respond'`; `concurrency`/`maxQueue` then do not apply.
   */
  handoff?: DeblurHandoff;
}

/** The middleware, plus handles on its queue and model. */
export interface DeblurMiddleware extends RequestHandler {
  /** The queue the middleware runs its jobs in. */
  readonly queue: JobQueue;
  /** The deblurrer used (loading it when this middleware creates its own). */
  getDeblurrer(): Promise<Deblurrer>;
  /** Disposes the deblurrer if this middleware created it. */
  close(): Promise<void>;
}

const KNOWN = [
  'deblurrer', 'backend', 'model', 'threads', 'mode', 'field', 'maxBytes', 'maxPixels', 'formats',
  'concurrency', 'maxQueue', 'maxHeld', 'holdMs', 'queue', 'tileSize', 'overlap', 'quality', 'defaultFormat',
  'keepMetadata', 'onProgress', 'jobId', 'kernel', 'network', 'estimation', 'deconvolution', 'onKernel', 'handoff',
] as const;


function intOption(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

interface Resolved {
  mode: 'respond' | 'attach';
  field: string;
  maxBytes: number;
  maxPixels: number;
  formats: readonly ImageFormat[];
  queue: JobQueue;
  tileSize: number | undefined;
  overlap: number | undefined;
  quality: number;
  defaultFormat: OutputFormat | undefined;
  keepMetadata: boolean;
  onProgress: ((req: Request, progress: JobProgress) => void) | undefined;
  jobId: ((req: Request) => string | undefined) | undefined;
  pipeline: Pick<DeblurOptions, 'kernel' | 'network' | 'estimation' | 'deconvolution'>;
  onKernel: ((req: Request, used: KernelUsed) => void) | undefined;
  handoff: DeblurHandoff | undefined;
}

function validate(options: unknown): Resolved {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidOption('options', 'an object', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(key)) throw invalidOption('option name', `one of ${KNOWN.join(', ')}`, key);
  }
  if (o.deblurrer !== undefined) {
    const d = o.deblurrer as Partial<Deblurrer> | null;
    const ok = o.deblurrer instanceof Promise || (typeof d === 'object' && d !== null && typeof d.deblur === 'function');
    if (!ok) throw invalidOption('deblurrer', 'a Deblurrer or a Promise of one', o.deblurrer);
    for (const k of ['backend', 'model', 'threads'] as const) {
      if (o[k] !== undefined) {
        throw invalidOption(k, 'nothing when a deblurrer is given (pass it to createDeblurrer instead)', o[k]);
      }
    }
  }
  if (o.mode !== undefined && o.mode !== 'respond' && o.mode !== 'attach') {
    throw invalidOption('mode', "'respond' or 'attach'", o.mode);
  }
  if (o.field !== undefined && !(typeof o.field === 'string' && /^[\w.-]{1,100}$/.test(o.field))) {
    throw invalidOption('field', 'a form field name of letters, digits, _ . or -', o.field);
  }
  const maxBytes = intOption('maxBytes', o.maxBytes, 1, 2 ** 31 - 1);
  const maxPixels = intOption('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER);
  if (
    o.formats !== undefined &&
    !(Array.isArray(o.formats) && o.formats.length > 0 && o.formats.every((f) => (IMAGE_FORMATS as readonly unknown[]).includes(f)))
  ) {
    throw invalidOption('formats', `a non-empty array of ${IMAGE_FORMATS.map((f) => `'${f}'`).join(', ')}`, o.formats);
  }
  if (o.queue !== undefined) {
    if (!(o.queue instanceof JobQueue)) throw invalidOption('queue', 'a JobQueue', o.queue);
    for (const k of ['concurrency', 'maxQueue', 'maxHeld', 'holdMs'] as const) {
      if (o[k] !== undefined) throw invalidOption(k, 'nothing when a queue is given (set it on the JobQueue)', o[k]);
    }
  }
  const tileSize = intOption('tileSize', o.tileSize, 64, 8192);
  const overlap = intOption('overlap', o.overlap, 0, 1024);
  if (tileSize !== undefined && overlap !== undefined && tileSize < 3 * overlap) {
    throw invalidOption('tileSize', `an integer of at least 3 x overlap (${3 * overlap})`, tileSize);
  }
  const quality = intOption('quality', o.quality, 1, 100);
  if (o.defaultFormat !== undefined && !['png', 'jpeg', 'webp'].includes(o.defaultFormat as string)) {
    throw invalidOption('defaultFormat', "'png', 'jpeg' or 'webp'", o.defaultFormat);
  }
  if (o.keepMetadata !== undefined && typeof o.keepMetadata !== 'boolean') {
    throw invalidOption('keepMetadata', 'a boolean', o.keepMetadata);
  }
  for (const k of ['onProgress', 'jobId', 'onKernel'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw invalidOption(k, 'a function', o[k]);
  }
  const pipeline: Resolved['pipeline'] = {};
  if (o.kernel !== undefined) pipeline.kernel = o.kernel as KernelChoice;
  if (o.network !== undefined) pipeline.network = o.network as boolean;
  if (o.estimation !== undefined) pipeline.estimation = o.estimation as DeblurOptions['estimation'];
  if (o.deconvolution !== undefined) pipeline.deconvolution = o.deconvolution as DeblurOptions['deconvolution'];
  checkPipelineOptions(pipeline);
  if (o.handoff !== undefined) {
    if (!isHandoff(o.handoff)) throw invalidOption('handoff', 'an object with submit, status and result (queueHandoff() of @sgenet/queue)', o.handoff);
    if (o.mode === 'attach') throw invalidOption('mode', "'respond' when handoff is given (the work runs elsewhere)", o.mode);
    if (o.estimation !== undefined || o.deconvolution !== undefined || o.onKernel !== undefined) {
      throw invalidOption('estimation/deconvolution/onKernel', 'nothing when handoff is given (set them on the workers)', 'given');
    }
  }
  const queueOptions: JobQueueOptions = {};
  for (const k of ['concurrency', 'maxQueue', 'maxHeld', 'holdMs'] as const) {
    if (o[k] !== undefined) queueOptions[k] = o[k] as number;
  }
  const queue = (o.queue as JobQueue | undefined) ?? new JobQueue(queueOptions);
  return {
    mode: (o.mode as 'respond' | 'attach' | undefined) ?? 'respond',
    field: (o.field as string | undefined) ?? 'image',
    maxBytes: maxBytes ?? DEFAULT_MAX_BYTES,
    maxPixels: maxPixels ?? DEFAULT_MAX_PIXELS,
    formats: (o.formats as ImageFormat[] | undefined) ?? IMAGE_FORMATS,
    queue,
    tileSize,
    overlap,
    quality: quality ?? 90,
    defaultFormat: o.defaultFormat as OutputFormat | undefined,
    keepMetadata: (o.keepMetadata as boolean | undefined) ?? false,
    onProgress: o.onProgress as Resolved['onProgress'],
    jobId: o.jobId as Resolved['jobId'],
    pipeline,
    onKernel: o.onKernel as Resolved['onKernel'],
    handoff: o.handoff as DeblurHandoff | undefined,
  };
}

function fallbackFormat(input: ImageFormat, configured: OutputFormat | undefined): OutputFormat {
  if (configured) return configured;
  return input === 'jpeg' || input === 'png' || input === 'webp' ? input : 'png';
}

/**
 * Express middleware that accepts one uploaded image (multipart/form-data, multer memory
 * storage), deblurs it with SGENet and either responds with the image or attaches the result
 * to `req.sgenet` for the next handler. Failures go to `next(err)` as {@link DeblurHttpError}s
 * with stable codes; install {@link sgenetErrorHandler} to render them as JSON.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { deblurUpload, sgenetErrorHandler } from '@sgenet/express';
 *
 * const app = express();
 * app.post('/deblur', deblurUpload({ maxBytes: 10 << 20, maxPixels: 12e6 }));
 * app.use(sgenetErrorHandler());
 * app.listen(3000);
 * ```
 */
export function deblurUpload(options: DeblurUploadOptions = {}): DeblurMiddleware {
  const cfg = validate(options);
  const raw = options as DeblurUploadOptions;
  const ownsDeblurrer = raw.deblurrer === undefined;
  let deblurrerPromise: Promise<Deblurrer> | undefined;
  if (raw.deblurrer !== undefined) {
    deblurrerPromise = Promise.resolve(raw.deblurrer);
    deblurrerPromise.catch(() => {}); // surfaced per request, never as an unhandled rejection
  }
  const getDeblurrer = (): Promise<Deblurrer> => {
    if (!deblurrerPromise) {
      const created = createDeblurrer({
        ...(raw.backend !== undefined ? { backend: raw.backend } : {}),
        ...(raw.model !== undefined ? { model: raw.model } : {}),
        ...(raw.threads !== undefined ? { threads: raw.threads } : {}),
      });
      deblurrerPromise = created;
      // A failed load is retried by the next request instead of failing forever.
      created.catch(() => {
        if (deblurrerPromise === created) deblurrerPromise = undefined;
      });
    }
    return deblurrerPromise;
  };

  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: cfg.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
    // Browsers send file names as raw UTF-8 (busboy's default reads them as latin1).
    defParamCharset: 'utf8',
  }).single(cfg.field);

  const context = { maxBytes: cfg.maxBytes, field: cfg.field };
  const fail = (err: unknown): DeblurHttpError => toHttpError(err, context) ?? internalError(err);

  const pickJobId = (req: Request): string => {
    let id: string | undefined;
    try {
      id = cfg.jobId?.(req);
    } catch {
      id = undefined;
    }
    if (id === undefined && !cfg.jobId) {
      const header = req.get('x-job-id');
      const query: unknown = (req.query as Record<string, unknown> | undefined)?.job;
      id = header ?? (typeof query === 'string' ? query : undefined);
    }
    return id !== undefined && JOB_ID.test(id) ? id : randomUUID();
  };

  async function handle(req: Request, res: Response, next: NextFunction, jobId: string, form: FormScanner | undefined): Promise<void> {
    const emit = (progress: Omit<JobProgress, 'jobId'>): void => {
      if (!cfg.onProgress) return;
      try {
        cfg.onProgress(req, { jobId, ...progress });
      } catch {
        // A progress hook must never break a job.
      }
    };
    let kernelHeader: string | undefined;
    const controller = new AbortController();
    const onClose = (): void => {
      // 'close' after a finished response is normal; before it, the client went away.
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    try {
      const file = req.file;
      // busboy skips a part it cannot parse: say so rather than "no file".
      if (!file && form?.problem) throw malformedForm(form.problem, cfg.field);
      if (!file) {
        throw new DeblurHttpError(
          400,
          'ERR_SGENET_NO_FILE',
          req.is('multipart/form-data')
            ? `No file in the "${cfg.field}" field: attach the image as "${cfg.field}"`
            : `Expected a multipart/form-data upload with the image in the "${cfg.field}" field`,
        );
      }
      const queryFormat = cfg.mode === 'respond' ? formatFromQuery(req) : undefined;
      const opened = await openImage(file.buffer, { limitInputPixels: cfg.maxPixels, formats: cfg.formats });
      const format = cfg.mode === 'respond'
        ? queryFormat ?? negotiateFormat(req, fallbackFormat(opened.format, cfg.defaultFormat))
        : undefined;
      if (cfg.handoff && format) {
        await handOff(cfg.handoff, req, res, { bytes: file.buffer, inputFormat: opened.format, format, originalName: file.originalname });
        res.off('close', onClose);
        emit({ phase: 'queued', done: 0, total: 0 });
        return;
      }
      if (res.destroyed || req.socket?.destroyed) controller.abort();
      const signal = controller.signal;
      const started = Date.now();
      const result = await cfg.queue.run(
        async () => {
          if (signal.aborted) throw new AbortError();
          emit({ phase: 'started', done: 0, total: 0 });
          const deblurrer = await getDeblurrer();
          const image = await deblur(opened.image, {
            deblurrer,
            signal,
            keepMetadata: cfg.keepMetadata,
            ...(cfg.tileSize !== undefined ? { tileSize: cfg.tileSize } : {}),
            ...(cfg.overlap !== undefined ? { overlap: cfg.overlap } : {}),
            ...cfg.pipeline,
            onKernel: (used) => {
              kernelHeader = describeKernelUsed(used);
              try {
                cfg.onKernel?.(req, used);
              } catch {
                // A reporting hook must never break a job.
              }
            },
            onProgress: (p) => emit({ phase: 'deblurring', done: p.done, total: p.total, ...(p.stage ? { stage: p.stage } : {}) }),
          });
          if (!format) return { image, body: undefined };
          emit({ phase: 'encoding', done: 0, total: 0 });
          const body = await encodeImage(image, format, { metadata: opened.metadata, quality: cfg.quality });
          if (signal.aborted) throw new AbortError();
          return { image, body };
        },
        { signal, onQueued: (position) => emit({ phase: 'queued', done: 0, total: 0, position }) },
      );
      const durationMs = Date.now() - started;
      if (format && result.body) {
        res.status(200);
        res.setHeader('Content-Type', CONTENT_TYPES[format]);
        res.setHeader('Content-Disposition', contentDisposition(file.originalname, format));
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Vary', 'Accept');
        res.setHeader('X-Processing-Time-Ms', String(durationMs));
        if (kernelHeader !== undefined) res.setHeader('X-Blur-Kernel', kernelHeader);
        res.end(result.body);
        emit({ phase: 'done', done: 1, total: 1 });
        return;
      }
      const meta = await result.image.metadata();
      const attached: DeblurResult = {
        jobId,
        image: result.image,
        width: meta.width ?? opened.width,
        height: meta.height ?? opened.height,
        channels: (meta.channels ?? 3) as 1 | 2 | 3 | 4,
        bitDepth: meta.depth === 'ushort' ? 16 : 8,
        inputFormat: opened.format,
        file: { originalName: file.originalname, mimeType: file.mimetype, size: file.size },
        durationMs,
        ...(kernelHeader !== undefined ? { kernel: kernelHeader } : {}),
      };
      req.sgenet = attached;
      emit({ phase: 'done', done: 1, total: 1 });
      res.off('close', onClose);
      next();
    } catch (err) {
      res.off('close', onClose);
      const httpError = fail(err);
      if (httpError.code === 'ERR_SGENET_ABORTED' || controller.signal.aborted) {
        emit({ phase: 'aborted', done: 0, total: 0 });
        // The client is gone: nothing to send, nothing to render.
        return;
      }
      emit({ phase: 'failed', done: 0, total: 0, error: { code: httpError.code, message: httpError.message } });
      next(httpError);
    }
  }

  async function handOff(
    handoff: DeblurHandoff,
    req: Request,
    res: Response,
    upload: { bytes: Buffer; inputFormat: ImageFormat; format: OutputFormat; originalName: string },
  ): Promise<void> {
    // Never the client's id: another client could guess it and read the result.
    const jobId = randomUUID();
    try {
      await handoff.submit({
        jobId,
        ...upload,
        quality: cfg.quality,
        ...(cfg.pipeline.kernel !== undefined ? { kernel: cfg.pipeline.kernel } : {}),
        ...(cfg.pipeline.network !== undefined ? { network: cfg.pipeline.network } : {}),
      });
    } catch (err) {
      throw queueUnavailable(err);
    }
    const status = `${req.originalUrl.split('?')[0]!.replace(/\/+$/, '')}/jobs/${jobId}`;
    res.setHeader('X-Job-Id', jobId);
    res.setHeader('Location', status);
    res.setHeader('Cache-Control', 'no-store');
    res.status(202).json({ jobId, state: 'queued', status, result: `${status}/result` });
  }

  /** Reads the multipart body alongside multer, to name a part busboy could not parse. */
  const scanForm = (req: Request): FormScanner | undefined => {
    const boundary = req.is('multipart/form-data') ? FormScanner.boundaryOf(req.get('content-type')) : undefined;
    if (boundary === undefined) return undefined;
    const scanner = new FormScanner(boundary);
    // Attached in the same tick as multer's pipe: both see every chunk.
    req.on('data', (chunk: Buffer) => scanner.push(chunk));
    return scanner;
  };

  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    const jobId = pickJobId(req);
    res.setHeader('X-Job-Id', jobId);
    const form = scanForm(req);
    upload(req, res, (err?: unknown) => {
      if (err) {
        next(fail(err));
        return;
      }
      handle(req, res, next, jobId, form).catch((e: unknown) => next(fail(e)));
    });
  }) as DeblurMiddleware;

  Object.defineProperties(middleware, {
    queue: { value: cfg.queue, enumerable: true },
    getDeblurrer: { value: getDeblurrer },
    close: {
      value: async (): Promise<void> => {
        if (!ownsDeblurrer || !deblurrerPromise) return;
        const pending = deblurrerPromise;
        deblurrerPromise = undefined;
        try {
          await (await pending).dispose();
        } catch {
          // Never loaded: nothing to free.
        }
      },
    },
  });
  return middleware;
}
