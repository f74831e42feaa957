import {
  EFFORTS,
  SgenetError,
  checkOptionNames,
  integerOption,
  invalidOption,
  isPlainObject,
  MAX_ESTIMATED_KERNEL_SIZE,
  oneOfOption,
  outputFormatOption,
  OVERLAP_RANGE,
  TILE_SIZE_RANGE,
  validateKernel,
} from '@sgenet/core';
import type { Effort, OutputFormat, SgenetErrorCode } from '@sgenet/core';
import { checkLocation } from './storage.js';

/**
 * What a deblur job asks for. It travels through Redis as JSON, so it holds locations in the
 * shared storage, never pixels; a kernel given inline is limited to 255 x 255.
 */
export interface DeblurJobData {
  /** Location of the photo in the storage. */
  input: string;
  /** Location to write the restored photo to (atomically). */
  output: string;
  /** Output format. Default: from the output's extension (.jpg/.jpeg, .webp, else png). */
  format?: OutputFormat;
  /** JPEG/WebP quality, 1 to 100. Default 90. */
  quality?: number;
  /**
   * `'auto'` (blind estimate, the default), `'none'` (the network alone) or a PSF, as JSON:
   * row-major numbers (a `Float32Array` is converted by `add`), normalised to sum 1.
   */
  kernel?: 'none' | 'auto' | JobKernel;
  /** Run the network after the deconvolution. */
  network?: boolean;
  /**
   * `'standard'` (the default) or `'best'`: with a noise-conditioned model (sgenet-s-sigma) and a
   * kernel, the 4-iteration plug-and-play loop, about 4x the time (see `DeblurOptions.effort`).
   */
  effort?: Effort;
  /**
   * Largest kernel side of the blind estimate, odd, 5 to 401: one ladder of sizes at it. Default:
   * the estimator's own (a tenth of the short side, at least 101 px, on photos of 1 MP or more;
   * tried only when the first kernel fills its support).
   */
  maxKernelSize?: number;
  /** Tile size, 64 to 8192. Default: the deblurrer's. */
  tileSize?: number;
  /** Tile overlap, 0 to 1024. Default: the deblurrer's. */
  overlap?: number;
  /** Replace an existing output. Default `false`: the job fails with `ERR_SGENET_OUTPUT_EXISTS`. */
  overwrite?: boolean;
  /** Remove the input once the output is written (uploads handed over by a web server). */
  removeInput?: boolean;
}

/** A PSF as it travels in a job: plain numbers, row-major. */
export interface JobKernel {
  width: number;
  height: number;
  data: number[];
}

/** What a finished job returns (its BullMQ return value). */
export interface DeblurJobResult {
  output: string;
  format: OutputFormat;
  width: number;
  height: number;
  /** Size of the written output in bytes. */
  bytes: number;
  /** The kernel used: `none`, or `<w>x<h>; confidence=<c>` as the Express header. */
  kernel: string;
  /** Milliseconds the worker spent on the job (read, deblur, encode, write). */
  durationMs: number;
  /** The worker that ran it: `<host>:<pid>`. */
  worker: string;
  /**
   * `true` when a retried job found its output already written by an earlier attempt (a worker
   * killed after the write) and did not write it again.
   */
  reused: boolean;
}

/** Progress a job reports (its BullMQ progress). */
export interface DeblurJobProgress {
  phase: 'reading' | 'deblurring' | 'encoding' | 'writing' | 'written';
  /** While deblurring: the restoration stage and its steps done/total. */
  stage?: 'kernel' | 'deconvolve' | 'network';
  done: number;
  total: number;
}

/** States a job can be in, as BullMQ names them (`unknown`: no such job, or removed). */
export type DeblurJobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'prioritized' | 'waiting-children' | 'unknown';

/** A failed job's error: a stable code and a message that says what to do. */
export interface DeblurJobFailure {
  code: SgenetErrorCode | 'ERR_SGENET_JOB_FAILED';
  message: string;
}

const KNOWN = ['input', 'output', 'format', 'quality', 'kernel', 'network', 'effort', 'maxKernelSize', 'tileSize', 'overlap', 'overwrite', 'removeInput'] as const;

/** The output format a location implies: its extension, else png. */
export function formatOfLocation(location: string): OutputFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(location)?.[1]?.toLowerCase();
  if (ext === 'jpg' || ext === 'jpeg') return 'jpeg';
  if (ext === 'webp') return 'webp';
  return 'png';
}

/**
 * Validates job data: on `add` (the producer's mistake is reported at once) and again in the
 * worker (anything with access to Redis can write a job). Returns a clean copy.
 */
export function checkJobData(data: unknown): DeblurJobData {
  if (!isPlainObject(data)) throw invalidOption('job data', 'an object { input, output, ... }', data);
  checkOptionNames(data, KNOWN, 'job field');
  const input = checkLocation(data.input, 'input');
  const output = checkLocation(data.output, 'output');
  if (input === output) throw invalidOption('output', 'a location other than the input', data.output);
  outputFormatOption('format', data.format);
  oneOfOption('effort', data.effort, EFFORTS);
  integerOption('quality', data.quality, 1, 100);
  integerOption('maxKernelSize', data.maxKernelSize, 5, MAX_ESTIMATED_KERNEL_SIZE);
  if (typeof data.maxKernelSize === 'number' && data.maxKernelSize % 2 === 0) {
    throw invalidOption('maxKernelSize', 'an odd integer', data.maxKernelSize);
  }
  integerOption('tileSize', data.tileSize, ...TILE_SIZE_RANGE);
  integerOption('overlap', data.overlap, ...OVERLAP_RANGE);
  for (const k of ['network', 'overwrite', 'removeInput'] as const) {
    if (data[k] !== undefined && typeof data[k] !== 'boolean') throw invalidOption(k, 'a boolean', data[k]);
  }
  let kernel: DeblurJobData['kernel'];
  if (data.kernel === 'none' || data.kernel === 'auto' || data.kernel === undefined) {
    kernel = data.kernel;
  } else {
    const k = validateKernel(data.kernel, 'the job\'s kernel');
    if (k.width > 255 || k.height > 255) throw invalidOption('kernel', 'a PSF of at most 255 x 255', `${k.width}x${k.height}`);
    kernel = { width: k.width, height: k.height, data: Array.from(k.data) };
  }
  const clean: DeblurJobData = { input, output };
  const optional = { ...data, kernel } as Record<string, unknown>;
  for (const key of KNOWN.slice(2)) {
    if (optional[key] !== undefined) (clean as unknown as Record<string, unknown>)[key] = optional[key];
  }
  return clean;
}

/** Error codes that retrying cannot fix: the job fails at once instead of using its attempts. */
export const PERMANENT_CODES: ReadonlySet<string> = new Set<SgenetErrorCode>([
  'ERR_SGENET_INVALID_OPTION',
  'ERR_SGENET_INVALID_IMAGE',
  'ERR_SGENET_INVALID_KERNEL',
  'ERR_SGENET_IMAGE_TOO_LARGE',
  'ERR_SGENET_OUTPUT_EXISTS',
  'ERR_SGENET_UNSUPPORTED_OP',
]);

const FAILURE = /^(ERR_SGENET_[A-Z_]+): ([\s\S]*)$/;

/** How a job's error is written into BullMQ's `failedReason`: `CODE: message`. */
export function encodeFailure(err: unknown): string {
  if (err instanceof SgenetError) return `${err.code}: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `ERR_SGENET_JOB_FAILED: ${message.split('\n')[0] ?? message}`;
}

/** Reads a `failedReason` back into a code and a message. */
export function decodeFailure(reason: string | undefined): DeblurJobFailure {
  const m = FAILURE.exec(reason ?? '');
  if (m) return { code: m[1] as DeblurJobFailure['code'], message: m[2]! };
  return { code: 'ERR_SGENET_JOB_FAILED', message: reason || 'the job failed without a reason' };
}

/** A job that failed (or vanished) while someone waited for it; `code` is the job's own. */
export class DeblurJobError extends SgenetError {
  readonly jobId: string;
  /** The job's own error code (`ERR_SGENET_INVALID_IMAGE`...). */
  readonly jobCode: DeblurJobFailure['code'];
  constructor(jobId: string, failure: DeblurJobFailure) {
    super('ERR_SGENET_JOB_FAILED', `Job ${jobId} failed: ${failure.message} [${failure.code}]`);
    this.jobId = jobId;
    this.jobCode = failure.code;
  }
}

