import type { BackendChoice, DeblurOptions, Deblurrer, KernelChoice, ModelSource, ProgressCallback } from '@sgenet/core';

import {
  backendOption,
  booleanOption,
  checkOptionNames,
  checkPipelineOptions,
  checkTileOverlap,
  functionOption,
  integerOption,
  invalidOption,
  isPlainObject,
  modelOption,
  OVERLAP_RANGE,
  signalOption,
  threadsOption,
  TILE_SIZE_RANGE,
} from '@sgenet/core';

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
  /** `'standard'` or `'best'` (see `DeblurOptions.effort` of `@sgenet/core`). */
  effort?: DeblurOptions['effort'];
  /** Options of the blind kernel estimation (see `EstimateKernelOptions` of `@sgenet/core`). */
  estimation?: DeblurOptions['estimation'];
  /** Options of the deconvolution (see `DeconvolveOptions` of `@sgenet/core`). */
  deconvolution?: DeblurOptions['deconvolution'];
  /** Receives the kernel the restoration used (see `DeblurOptions.onKernel` of `@sgenet/core`). */
  onKernel?: DeblurOptions['onKernel'];
  /** Largest tile side fed to the model, 64 to 8192 (default 896, 640 on tfjs). Memory grows with its square. */
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
  'onProgress', 'signal', 'keepMetadata', 'kernel', 'network', 'effort', 'estimation', 'deconvolution', 'onKernel',
] as const;

function isDeblurrer(v: unknown): v is Deblurrer {
  return isPlainObject(v) && typeof v.deblur === 'function';
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
  checkOptionNames(options, KNOWN);
  const o = options as Raw;
  const create = creationOptions(o);
  const { run, keepMetadata } = runOptions(o);
  return { deblurrer: o.deblurrer as Deblurrer | undefined, create, run, signal: run.signal, keepMetadata };
}

type Raw = Record<(typeof KNOWN)[number], unknown>;

/** The deblurrer given, or the options of the one created for the call (never both). */
function creationOptions(o: Raw): ResolvedSharpOptions['create'] {
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
  const backend = backendOption(o.backend);
  const model = modelOption(o.model);
  if (
    o.providers !== undefined &&
    !(Array.isArray(o.providers) && o.providers.length > 0 && o.providers.every((p) => typeof p === 'string'))
  ) {
    throw invalidOption('providers', 'a non-empty array of strings', o.providers);
  }
  const threads = threadsOption(o.threads);
  const create: ResolvedSharpOptions['create'] = {};
  if (backend !== undefined) create.backend = backend;
  if (model !== undefined) create.model = model;
  if (o.providers !== undefined) create.providers = o.providers as string[];
  if (threads !== undefined) create.threads = threads;
  return create;
}

/** What `Deblurrer.deblur` gets (tiling, hooks, the pipeline options checked by core), and keepMetadata. */
function runOptions(o: Raw): { run: DeblurOptions; keepMetadata: boolean } {
  const tileSize = integerOption('tileSize', o.tileSize, ...TILE_SIZE_RANGE);
  const overlap = integerOption('overlap', o.overlap, ...OVERLAP_RANGE);
  const concurrency = integerOption('concurrency', o.concurrency, 1, 16);
  checkTileOverlap(tileSize, overlap);
  const onProgress = functionOption<ProgressCallback>('onProgress', o.onProgress);
  const signal = signalOption('signal', o.signal);
  const keepMetadata = booleanOption('keepMetadata', o.keepMetadata, true);

  // The pipeline options are checked by core's own validation (resolveDeblurOptions), once here
  // so that a bad value fails before the image is decoded.
  const run: DeblurOptions = {};
  if (o.kernel !== undefined) run.kernel = o.kernel as KernelChoice;
  if (o.network !== undefined) run.network = o.network as boolean;
  if (o.effort !== undefined) run.effort = o.effort as DeblurOptions['effort'];
  if (o.estimation !== undefined) run.estimation = o.estimation as DeblurOptions['estimation'];
  if (o.deconvolution !== undefined) run.deconvolution = o.deconvolution as DeblurOptions['deconvolution'];
  if (o.onKernel !== undefined) run.onKernel = o.onKernel as DeblurOptions['onKernel'];
  checkPipelineOptions(run);
  if (tileSize !== undefined) run.tileSize = tileSize;
  if (overlap !== undefined) run.overlap = overlap;
  if (concurrency !== undefined) run.concurrency = concurrency;
  if (onProgress !== undefined) run.onProgress = onProgress;
  if (signal !== undefined) run.signal = signal;
  return { run, keepMetadata };
}
