/**
 * The options of {@link deblurUpload}, checked once, when the route is built, and stored as
 * {@link UploadSettings}: a bad value throws there (an `InvalidOptionError` with core's message),
 * never as a 500 on the first request.
 */
import {
  backendOption,
  booleanOption,
  checkOptionNames,
  checkPipelineOptions,
  deblurrerOption,
  functionOption,
  integerOption,
  invalidOption,
  isPlainObject,
  modelOption,
  outputFormatOption,
  threadsOption,
  tilingOptions,
} from '@sgenet/core';
import type {
  BackendChoice,
  DeblurOptions,
  Deblurrer,
  DeblurrerOptions,
  DeblurrerSource,
  KernelChoice,
  KernelUsed,
  ModelSource,
  OutputFormat,
} from '@sgenet/core';
import { IMAGE_FORMATS, imageFormatsOption } from '@sgenet/sharp';
import type { ImageFormat } from '@sgenet/sharp';
import type { Request } from 'express';

import { isHandoff } from './handoff.js';
import type { DeblurHandoff } from './handoff.js';
import type { JobProgress } from './types.js';
import { UploadLine } from './upload-line.js';

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
  /** Backend for the deblurrer this middleware creates: `'ort'`, `'tfjs'`, `'auto'` or an object. Checked when the route is built. */
  backend?: BackendChoice;
  /** ONNX model for the deblurrer this middleware creates. Default: the shipped model. */
  model?: ModelSource;
  /** Backend threads for the deblurrer this middleware creates, 1 to 1024. Checked when the route is built. */
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
  /** Jobs waiting beyond those. Default 4. Not with `queue` (set it on the UploadLine). */
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
  /**
   * An {@link UploadLine} shared with other routes (instead of `concurrency`/`maxQueue`/`maxHeld`/`holdMs`).
   * The in-process line of uploads, not `@sgenet/queue` (for that, see `handoff`).
   */
  queue?: UploadLine;
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
  /**
   * `'standard'` (the default) or `'best'`: with a noise-conditioned model (sgenet-s-sigma) and a
   * kernel, the 4-iteration plug-and-play loop at about 4x the time (see `DeblurOptions.effort` of
   * `@sgenet/core`). With `handoff`, it travels with each job.
   */
  effort?: DeblurOptions['effort'];
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

/** What {@link deblurUpload} keeps of its options: checked, defaults applied. */
export interface UploadSettings {
  /** The deblurrer given (used as it is), else `create`: the options of the one the route creates. */
  deblurrer: DeblurrerSource | undefined;
  create: Pick<DeblurrerOptions, 'backend' | 'model' | 'threads'>;
  mode: 'respond' | 'attach';
  field: string;
  maxBytes: number;
  maxPixels: number;
  formats: readonly ImageFormat[];
  line: UploadLine;
  tileSize: number | undefined;
  overlap: number | undefined;
  quality: number;
  defaultFormat: OutputFormat | undefined;
  keepMetadata: boolean;
  onProgress: ((req: Request, progress: JobProgress) => void) | undefined;
  jobId: ((req: Request) => string | undefined) | undefined;
  pipeline: Pick<DeblurOptions, 'kernel' | 'network' | 'effort' | 'estimation' | 'deconvolution'>;
  onKernel: ((req: Request, used: KernelUsed) => void) | undefined;
  handoff: DeblurHandoff | undefined;
}

const KNOWN = [
  'deblurrer', 'backend', 'model', 'threads', 'mode', 'field', 'maxBytes', 'maxPixels', 'formats',
  'concurrency', 'maxQueue', 'maxHeld', 'holdMs', 'queue', 'tileSize', 'overlap', 'quality', 'defaultFormat',
  'keepMetadata', 'onProgress', 'jobId', 'kernel', 'network', 'effort', 'estimation', 'deconvolution', 'onKernel', 'handoff',
] as const;

type Raw = Record<(typeof KNOWN)[number], unknown>;

const LINE_OPTIONS = ['concurrency', 'maxQueue', 'maxHeld', 'holdMs'] as const;

/**
 * Checks {@link DeblurUploadOptions} sharp-style (`Expected <what> for <name> but received <value>`),
 * unknown names included, and returns them as {@link UploadSettings}.
 */
export function resolveUploadOptions(options: unknown): UploadSettings {
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
  checkOptionNames(options, KNOWN);
  const o = options as Raw;
  const model = modelChoice(o);
  const upload = uploadLimits(o);
  checkSharedLine(o);
  const output = outputSettings(o);
  const pipeline = pipelineOptions(o);
  checkHandoff(o);
  return {
    ...model,
    ...upload,
    ...output,
    pipeline,
    line: (o.queue as UploadLine | undefined) ?? new UploadLine(lineOptions(o)),
    onKernel: o.onKernel as UploadSettings['onKernel'],
    handoff: o.handoff as DeblurHandoff | undefined,
  };
}

/** The deblurrer given, or what the route creates its own from (checked now, not on the first request). */
function modelChoice(o: Raw): Pick<UploadSettings, 'deblurrer' | 'create'> {
  const deblurrer = deblurrerOption(o.deblurrer);
  if (deblurrer !== undefined) {
    for (const k of ['backend', 'model', 'threads'] as const) {
      if (o[k] !== undefined) {
        throw invalidOption(k, 'nothing when a deblurrer is given (pass it to createDeblurrer instead)', o[k]);
      }
    }
  }
  return { deblurrer, create: { backend: backendOption(o.backend), model: modelOption(o.model), threads: threadsOption(o.threads) } };
}

/** What the route accepts: mode, form field, bytes, pixels and input formats. */
function uploadLimits(o: Raw): Pick<UploadSettings, 'mode' | 'field' | 'maxBytes' | 'maxPixels' | 'formats'> {
  if (o.mode !== undefined && o.mode !== 'respond' && o.mode !== 'attach') {
    throw invalidOption('mode', "'respond' or 'attach'", o.mode);
  }
  if (o.field !== undefined && !(typeof o.field === 'string' && /^[\w.-]{1,100}$/.test(o.field))) {
    throw invalidOption('field', 'a form field name of letters, digits, _ . or -', o.field);
  }
  return {
    mode: (o.mode as 'respond' | 'attach' | undefined) ?? 'respond',
    field: (o.field as string | undefined) ?? 'image',
    maxBytes: integerOption('maxBytes', o.maxBytes, 1, 2 ** 31 - 1, DEFAULT_MAX_BYTES),
    maxPixels: integerOption('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_PIXELS),
    formats: imageFormatsOption(o.formats) ?? IMAGE_FORMATS,
  };
}

/** A shared line comes with its own settings: none of the route's may be given beside it. */
function checkSharedLine(o: Raw): void {
  if (o.queue === undefined) return;
  if (!(o.queue instanceof UploadLine)) throw invalidOption('queue', 'an UploadLine', o.queue);
  for (const k of LINE_OPTIONS) {
    if (o[k] !== undefined) throw invalidOption(k, 'nothing when a queue is given (set it on the UploadLine)', o[k]);
  }
}

/** Tiling, encoding and the hooks. */
function outputSettings(o: Raw): Pick<UploadSettings, 'tileSize' | 'overlap' | 'quality' | 'defaultFormat' | 'keepMetadata' | 'onProgress' | 'jobId'> {
  const { tileSize, overlap } = tilingOptions(o.tileSize, o.overlap);
  const quality = integerOption('quality', o.quality, 1, 100, 90);
  const defaultFormat = outputFormatOption('defaultFormat', o.defaultFormat);
  const keepMetadata = booleanOption('keepMetadata', o.keepMetadata, false);
  const onProgress = functionOption<NonNullable<UploadSettings['onProgress']>>('onProgress', o.onProgress);
  const jobId = functionOption<NonNullable<UploadSettings['jobId']>>('jobId', o.jobId);
  functionOption('onKernel', o.onKernel);
  return { tileSize, overlap, quality, defaultFormat, keepMetadata, onProgress, jobId };
}

/** The pipeline options passed to core, checked by core's own validation. */
function pipelineOptions(o: Raw): UploadSettings['pipeline'] {
  const pipeline: UploadSettings['pipeline'] = {};
  if (o.kernel !== undefined) pipeline.kernel = o.kernel as KernelChoice;
  if (o.network !== undefined) pipeline.network = o.network as boolean;
  if (o.effort !== undefined) pipeline.effort = o.effort as DeblurOptions['effort'];
  if (o.estimation !== undefined) pipeline.estimation = o.estimation as DeblurOptions['estimation'];
  if (o.deconvolution !== undefined) pipeline.deconvolution = o.deconvolution as DeblurOptions['deconvolution'];
  checkPipelineOptions(pipeline);
  return pipeline;
}

/** With a handoff the work runs on the queue's workers: respond mode only, their settings theirs. */
function checkHandoff(o: Raw): void {
  if (o.handoff === undefined) return;
  if (!isHandoff(o.handoff)) throw invalidOption('handoff', 'an object with submit, status and result (queueHandoff() of @sgenet/queue)', o.handoff);
  if (o.mode === 'attach') throw invalidOption('mode', "'respond' when handoff is given (the work runs elsewhere)", o.mode);
  if (o.estimation !== undefined || o.deconvolution !== undefined || o.onKernel !== undefined) {
    throw invalidOption('estimation/deconvolution/onKernel', 'nothing when handoff is given (set them on the workers)', 'given');
  }
}

/** The route's own line's options, checked by {@link UploadLine}. */
function lineOptions(o: Raw): Record<(typeof LINE_OPTIONS)[number], number | undefined> {
  return {
    concurrency: o.concurrency as number | undefined,
    maxQueue: o.maxQueue as number | undefined,
    maxHeld: o.maxHeld as number | undefined,
    holdMs: o.holdMs as number | undefined,
  };
}
