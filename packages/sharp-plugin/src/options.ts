import type { BackendChoice, DeblurOptions, Deblurrer, KernelChoice, ModelSource, ProgressCallback } from '@sgenet/core';

import { checkPipelineOptions, invalidOption, isPlainObject } from '@sgenet/core';

/** Options of {@link deblur}. Every one is optional. */
export interface DeblurSharpOptions {
  /**
   * An existing deblurrer from `createDeblurrer()` (of `@sgenet/core`). Pass one to reuse a
   * loaded model across images (servers, batches). Without it, a deblurrer is created for the
   * call from `backend`/`model`/`providers`/`threads` and disposed afterwards.
   */
  deblurrer?: Deblurrer;
  /** Backend for the per-call deblurrer: a Backend object, `'ort'`, `'tfjs'` or `'auto'` (default). */
  backend?: BackendChoice;
  /** ONNX model (path or bytes) for the per-call deblurrer. Default: the shipped SGENet model. */
  model?: ModelSource;
  /** Execution providers for the per-call deblurrer, e.g. `['cuda', 'cpu']`. */
  providers?: readonly string[];
  /** Backend threads for the per-call deblurrer. Default: all cores. */
  threads?: number;
  /**
   * The deconvolution kernel: `'auto'` (estimated blind, then deconvolved; the core default),
   * `'none'` (the network alone) or a measured PSF `{ width, height, data }`. Passed to `Deblurrer.deblur`.
   */
  kernel?: KernelChoice;
  /** Run the network after the deconvolution (see `DeblurOptions.network` of `@sgenet/core`). */
  network?: boolean;
  /** Options of the blind kernel estimation (see `EstimateKernelOptions` of `@sgenet/core`). */
  estimation?: DeblurOptions['estimation'];
  /** Options of the deconvolution (see `DeconvolveOptions` of `@sgenet/core`). */
  deconvolution?: DeblurOptions['deconvolution'];
  /** Receives the kernel the restoration used (see `DeblurOptions.onKernel` of `@sgenet/core`). */
  onKernel?: DeblurOptions['onKernel'];
  /** Largest tile side fed to the model, 64 to 8192 (default 1024). Memory grows with its square. */
  tileSize?: number;
  /** Context (px) each tile reads beyond what it writes, 0 to 1024. Default from the model. */
  overlap?: number;
  /** Tiles run at the same time, 1 to 16 (default 1). */
  concurrency?: number;
  /** Called after every tile with `{ done, total }`. */
  onProgress?: ProgressCallback;
  /** Cancels the work: the promise then rejects with an `AbortError` (`ERR_SGENET_ABORTED`). */
  signal?: AbortSignal;
  /**
   * Whether the returned instance writes the input's metadata (EXIF with Orientation reset to 1,
   * ICC profile, XMP, density) into its output, as `.keepMetadata()` does. Default `true`. With
   * `false`, EXIF, XMP and density are dropped and sharp's default applies to the rest: the ICC
   * profile is still attached to the result's input (`.metadata().icc`) so colours convert to
   * sRGB correctly, and `.keepIccProfile()` can still keep it.
   */
  keepMetadata?: boolean;
}

/** Validated options. */
export interface ResolvedSharpOptions {
  deblurrer: Deblurrer | undefined;
  create: { backend?: BackendChoice; model?: ModelSource; providers?: readonly string[]; threads?: number };
  run: DeblurOptions;
  signal: AbortSignal | undefined;
  keepMetadata: boolean;
}

const KNOWN = [
  'deblurrer', 'backend', 'model', 'providers', 'threads', 'tileSize', 'overlap', 'concurrency',
  'onProgress', 'signal', 'keepMetadata', 'kernel', 'network', 'estimation', 'deconvolution', 'onKernel',
] as const;

function intOption(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

function isDeblurrer(v: unknown): v is Deblurrer {
  return isPlainObject(v) && typeof v.deblur === 'function';
}

function isBackendObject(v: unknown): boolean {
  return isPlainObject(v) && typeof v.load === 'function' && typeof v.name === 'string';
}

/**
 * Validates {@link DeblurSharpOptions} sharp-style: `Expected <what> for <name> but received <value>`.
 * Unknown keys are rejected too, since a misspelt `tilesize` would otherwise be silently ignored.
 */
export function validateSharpOptions(options: unknown): ResolvedSharpOptions {
  if (options === undefined) {
    return { deblurrer: undefined, create: {}, run: {}, signal: undefined, keepMetadata: true };
  }
  if (!isPlainObject(options)) throw invalidOption('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw invalidOption(`option name`, `one of ${KNOWN.join(', ')}`, key);
    }
  }
  const o = options as Record<(typeof KNOWN)[number], unknown>;

  if (o.deblurrer !== undefined && !isDeblurrer(o.deblurrer)) {
    throw invalidOption('deblurrer', 'a Deblurrer from createDeblurrer()', o.deblurrer);
  }
  if (o.deblurrer !== undefined) {
    const clash = (['backend', 'model', 'providers', 'threads'] as const).filter((k) => o[k] !== undefined);
    if (clash.length > 0) {
      throw invalidOption(
        clash[0]!,
        'nothing when a deblurrer is given (its model and backend are already loaded; pass these to createDeblurrer instead)',
        o[clash[0]!],
      );
    }
  }
  if (
    o.backend !== undefined && o.backend !== 'ort' && o.backend !== 'tfjs' && o.backend !== 'auto' &&
    !isBackendObject(o.backend)
  ) {
    throw invalidOption('backend', "a Backend object, 'ort', 'tfjs' or 'auto'", o.backend);
  }
  if (o.model !== undefined && !(o.model instanceof Uint8Array) && !(typeof o.model === 'string' && o.model.length > 0)) {
    throw invalidOption('model', 'a file path or a Uint8Array of an ONNX model', o.model);
  }
  if (
    o.providers !== undefined &&
    !(Array.isArray(o.providers) && o.providers.length > 0 && o.providers.every((p) => typeof p === 'string'))
  ) {
    throw invalidOption('providers', 'a non-empty array of strings', o.providers);
  }
  const threads = intOption('threads', o.threads, 1, 1024);
  const tileSize = intOption('tileSize', o.tileSize, 64, 8192);
  const overlap = intOption('overlap', o.overlap, 0, 1024);
  const concurrency = intOption('concurrency', o.concurrency, 1, 16);
  if (tileSize !== undefined && overlap !== undefined && tileSize < 3 * overlap) {
    throw invalidOption('tileSize', `an integer of at least 3 x overlap (${3 * overlap})`, tileSize);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidOption('onProgress', 'a function', o.onProgress);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidOption('signal', 'an AbortSignal', o.signal);
  }
  if (o.keepMetadata !== undefined && typeof o.keepMetadata !== 'boolean') {
    throw invalidOption('keepMetadata', 'a boolean', o.keepMetadata);
  }

  // The pipeline options are checked by core's own validation (resolveDeblurOptions), once here
  // so that a bad value fails before the image is decoded.
  const run: DeblurOptions = {};
  if (o.kernel !== undefined) run.kernel = o.kernel as KernelChoice;
  if (o.network !== undefined) run.network = o.network as boolean;
  if (o.estimation !== undefined) run.estimation = o.estimation as DeblurOptions['estimation'];
  if (o.deconvolution !== undefined) run.deconvolution = o.deconvolution as DeblurOptions['deconvolution'];
  if (o.onKernel !== undefined) run.onKernel = o.onKernel as DeblurOptions['onKernel'];
  checkPipelineOptions(run);
  if (tileSize !== undefined) run.tileSize = tileSize;
  if (overlap !== undefined) run.overlap = overlap;
  if (concurrency !== undefined) run.concurrency = concurrency;
  if (o.onProgress !== undefined) run.onProgress = o.onProgress as ProgressCallback;
  if (o.signal !== undefined) run.signal = o.signal as AbortSignal;

  const create: ResolvedSharpOptions['create'] = {};
  if (o.backend !== undefined) create.backend = o.backend as BackendChoice;
  if (o.model !== undefined) create.model = o.model as ModelSource;
  if (o.providers !== undefined) create.providers = o.providers as string[];
  if (threads !== undefined) create.threads = threads;

  return {
    deblurrer: o.deblurrer as Deblurrer | undefined,
    create,
    run,
    signal: o.signal as AbortSignal | undefined,
    keepMetadata: (o.keepMetadata as boolean | undefined) ?? true,
  };
}
