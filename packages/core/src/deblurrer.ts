import { resolveBackend } from './backend/resolve.js';
import type { BackendChoice } from './backend/resolve.js';
import { DisposedError, InvalidKernelError, throwIfAborted } from './errors.js';
import { defaultModelPath, modelInfoFromBytes, readModelBytes, shippedModelPath } from './model/model-info.js';
import type { ModelInfo, ShippedModel } from './model/model-info.js';
import type { PixelLayout } from './pixels/image.js';
import { allocateLike, describeImage, readTensor, writeRows } from './pixels/image.js';
import { runTiles } from './tiling/run-tiles.js';
import { SessionSlot } from './session-slot.js';
import { retireSpareWorkers } from './parallel/pool.js';
import type { ModelSource, ProgressCallback, RawImage, Session, Stage } from './types.js';
import { booleanOption, functionOption, integerOption, invalidOption, isPlainObject, oneOfOption, signalOption } from './validate.js';
import { estimateKernel } from './kernel/estimate.js';
import { resolveEstimateOptions } from './kernel/options.js';
import type { EstimateKernelOptions } from './kernel/options.js';
import { validateKernel, validateKernelGrid } from './kernel/kernel-file.js';
import { isKernelGrid } from './kernel/regions.js';
import type { KernelGrid } from './kernel/regions.js';
import type { KernelKeptBy } from './kernel/guard.js';
import type { KernelField } from './deconvolve/passes.js';
import { deconvolveInto, regularisationNoise, resolveNoise } from './deconvolve/deconvolve.js';
import { hqsAlpha, pnpSigmas, PNP_WEIGHT } from './deconvolve/pnp.js';
import { resolveDeconvolveOptions } from './deconvolve/options.js';
import type { DeconvolveOptions, ResolvedDeconvolveOptions } from './deconvolve/options.js';
import type { BlurKernel } from './types.js';
import { planTiles } from './tiling/plan.js';
import type { TilePlan } from './tiling/plan.js';

/** sharp's default `limitInputPixels`: 0x3FFF squared. */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;
/**
 * Default network tile side (px) for every model: 896, unless the backend states its own
 * `preferredTileSize` (640 on tfjs); a caller's `tileSize` wins either way. Memory grows with its square and
 * the pipeline's photo-sized buffers share the process with it: a 12 MP `deblur()` through the
 * CLI peaked at 999 MiB with 1024 px tiles and 890 MiB with 896 after a deconvolution (training
 * log, session 18), and a sharp 12 MP photo, where v0.4.0 runs alone after the estimate, at
 * 1140 MiB with 1024 against 936 with 896 (a probe, session 20); the bar is 1 GB. At 896 SGENet-σ
 * takes 0.986x its time at 1024 and v0.4.0 1.08x (at 768 SGENet-σ took 1.27x).
 */
export const DEFAULT_TILE_SIZE = 896;

/**
 * @deprecated Every model now defaults to {@link DEFAULT_TILE_SIZE} (896), which this equals.
 */
export const PRIOR_TILE_SIZE = DEFAULT_TILE_SIZE;

/**
 * The network tile side `deblur()` uses when the caller gives none: the backend's
 * `preferredTileSize` (a backend that states one vouches for its memory), else
 * {@link DEFAULT_TILE_SIZE}. Front ends check a user's overlap against it (the CLI). The model
 * does not change it today; it is taken so that one may.
 *
 * @example
 * defaultTileSizeFor(undefined, modelInfoFromBytes(bytes)); // 896
 * defaultTileSizeFor(640, modelInfoFromBytes(bytes)); // 640 (tfjs)
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- public signature: a model may get its own default again
export function defaultTileSizeFor(preferredTileSize: number | undefined, _info: ModelInfo): number {
  return integerOption('backend.preferredTileSize', preferredTileSize, 64, 8192, DEFAULT_TILE_SIZE);
}

/**
 * Photos of this many pixels or more (3 MP) free what sits idle between photos: they start with
 * no idle session loaded, and the estimate's spare worker threads stop before a network that no
 * deconvolution precedes. A session kept warm holds ONNX Runtime's arena, the largest tile's
 * working set, through the kernel estimate and the data step of the next photo, and an idle
 * worker keeps its garbage; at 12 MP both sat under the photo-sized buffers of the next stage (a
 * blurred-then-sharp batch peaked 0.2 GB higher, a sharp photo alone up to 0.25 GB; training log,
 * session 20). Reloading a session costs 0.10-0.15 s, a fresh worker about a second of cold code:
 * small beside the pipeline at 3 MP and more; smaller photos keep both warm.
 */
export const FREE_IDLE_PIXELS = 3_000_000;

/**
 * Which blur kernel the restoration deconvolves with before the network: `'auto'` estimates it
 * blind ({@link estimateKernel}), `'none'` skips deconvolution (the network alone), a
 * {@link BlurKernel} is the non-blind mode (a measured PSF), and a {@link KernelGrid} (an
 * estimate's `grid`, made for this photo's size) deconvolves each region with its own kernel.
 */
export type KernelChoice = 'auto' | 'none' | BlurKernel | KernelGrid;

/** What {@link DeblurOptions.onKernel} receives. */
export interface KernelUsed {
  kernel: BlurKernel;
  /** `'estimated'` (blind) or `'given'` (the PSF passed in). */
  source: 'estimated' | 'given';
  /** The estimator's confidence (1 for a given PSF). */
  confidence: number;
  /** True when the estimate fell back to the identity: no deconvolution, the network alone. */
  identity: boolean;
  /**
   * An estimate's `spectralEvidence` (0 to 1: how much of the photo's directional spectrum the
   * kernel explains); absent for a given PSF. A kernel kept with too low a confidence was kept on
   * it (`keptBy: 'spectral-evidence'`).
   */
  spectralEvidence?: number;
  /** An estimate's `keptBy` (why a kernel was kept; null for the identity); absent for a given PSF. */
  keptBy?: KernelKeptBy | null;
  /**
   * Per-region kernels, when the estimate found the shake varying over the photo
   * (`KernelEstimate.grid`): the restoration deconvolves each cell with its own kernel, and
   * `kernel` is the photo's; with a grid given as the `kernel` option, that grid, and `kernel` its
   * centre cell's. Absent for uniform shake and for a given PSF.
   */
  grid?: KernelGrid;
}

/**
 * What a kernel used means for the photo, in three words a user can act on:
 * - `'none'`: no blur found; the photo was left as it was apart from the network's denoising;
 * - `'confident'`: blur found, and the estimate explains the photo's sharpness loss clearly
 *   (confidence at least {@link CONFIDENT_KERNEL}); a given PSF is always confident;
 * - `'uncertain'`: blur found, but the evidence is weak; the result may be only slightly sharper,
 *   or ring where the estimate is off: compare with the original.
 */
export type KernelVerdict = 'none' | 'confident' | 'uncertain';

/**
 * Confidence (0 to 1) from which an estimated kernel is reported as `'confident'`: 0.2.
 *
 * The confidence is the share of the blurry photo's gradient density (the normalised sparsity of
 * the blind score) that deconvolving with the kernel removes, against leaving the photo as it is.
 * What it has meant on 160 real shaken photos (BENCHMARKS.md, "Real shaken photos"), where other
 * blind methods' published kernels allow a check (90 found): at 0.2 or more, 4 in 5 estimates
 * matched them (78% at NCC ≥ 0.7, median 0.90; 64 photos); from 0.1 to 0.2, 7 in 10 did (median
 * 0.78; 26 photos). So 0.3 tells a user that blur was found and its kernel is very likely right;
 * 0.12 that the photo looked blurred and the kernel is likely but worth comparing with the
 * original. Values above 0.5 are rare (none of the 153 found): a deconvolved photo keeps
 * some of its blur's gradient density (noise, saturated lights, spatially varying shake). A kernel
 * below `minConfidence` (0.09), even at 0, or a mildly peaked one below 0.15, is kept only when it
 * spreads along a path and the photo's spectrum carries it (`spectralEvidence`): where a published
 * kernel exists, those matched it at NCC 0.75-0.91 (6 photos); such a result is `'uncertain'`, and
 * worth the comparison.
 */
export const CONFIDENT_KERNEL = 0.2;

/** {@link KernelVerdict} of a kernel used. */
export function kernelVerdict(used: KernelUsed): KernelVerdict {
  if (used.identity) return 'none';
  return used.source === 'given' || used.confidence >= CONFIDENT_KERNEL ? 'confident' : 'uncertain';
}

/** The verdict in words, as the demo and the CLI print it. */
export const KERNEL_VERDICT_TEXT: Readonly<Record<KernelVerdict, string>> = {
  none: 'no blur found: denoised only',
  confident: 'blur found, confident',
  uncertain: 'blur found, uncertain',
};

/**
 * A kernel used, in brief: `none` for the identity, else `<width>x<height>; confidence=<c>`, and
 * `; regions=<columns>x<rows>` after it when per-region kernels were used (the Express
 * `X-Blur-Kernel` header and the queue's job results use this form).
 */
export function describeKernelUsed(used: KernelUsed): string {
  if (used.identity) return 'none';
  const regions = used.grid ? `; regions=${used.grid.columns}x${used.grid.rows}` : '';
  return `${used.kernel.width}x${used.kernel.height}; confidence=${used.confidence.toFixed(2)}${regions}`;
}

/**
 * The default kernel choice: `'auto'`, the blind estimate. It met the shipping rule written in the
 * training log before its run (better than the network alone on the dev benchmark, sharp photos
 * left as the network alone leaves them, within the cost budget); the figures are in the model
 * card and BENCHMARKS.md, not here, so they cannot go stale. `'none'` is the network alone.
 */
export const DEFAULT_KERNEL: 'auto' | 'none' = 'auto';
/**
 * Whether a network without a noise input (v0.4.0 and earlier) runs after a deconvolution by
 * default: no. It was trained on blurry, not deconvolved, input; the dev benchmark decided
 * (training log). A noise-conditioned model (SGENet-σ, {@link ModelInfo.sigmaInput}) is the deconvolution's
 * learned prior and runs after it by default: see {@link Deblurrer.networkAfterDeconvolution}.
 */
export const DEFAULT_NETWORK_AFTER_DECONVOLUTION = false;

/** Whether the network runs after a deconvolution by default, for this model. */
export function defaultNetworkAfterDeconvolution(info: ModelInfo): boolean {
  return info.sigmaInput || DEFAULT_NETWORK_AFTER_DECONVOLUTION;
}

/**
 * The shipped model a default {@link Deblurrer} (no `model` given) runs where no kernel is used:
 * `'sgenet-s'`, v0.4.0, trained for blind deblurring. Why not SGENet-σ there too: where the
 * estimator finds no blur in a shaken photo, v0.4.0 still sharpens mild shake (+0.5 to +0.9 dB on
 * 9 px paths over the project's chart) where SGENet-σ, a denoiser without a kernel, gains nothing.
 * The trade: on sharp noisy photos SGENet-σ alone denoises better (+2.8 against +2.0 dB on
 * Kodak24), but v0.4.0 keeps what the previous default did there, so the default never does less
 * than before on a photo without a kernel (training log, session 19). Loaded while a photo
 * needs it, freed after; SGENet-σ's idle session is freed meanwhile (one warm session at a time:
 * `SessionSlot`), and loaded again by the next photo with a kernel.
 */
export const NO_KERNEL_MODEL: ShippedModel = 'sgenet-s';

/**
 * How hard `deblur()` works with a noise-conditioned model (SGENet-σ) once it has a kernel:
 * - `'standard'` (default): one pass of plug-and-play HQS, the data step then the network;
 * - `'best'`: {@link BEST_ITERATIONS} passes, σ_k log-spaced from 49/255 down to the noise σ the
 *   deconvolution regularises with (the photo's, at least `noiseFloor`) (DPIR), each data step
 *   pulled towards the network's last estimate. About 4x the time of `'standard'` (a data step
 *   and a network pass per iteration). Measured with SGENet-σ 1.0.0-rc.2
 *   on 12 dev pairs: +0.65 dB over one pass with the exact kernel, but -0.43 dB with a perturbed
 *   one (it trusts the kernel more): for a measured PSF, not for a blind estimate.
 * Both are the same without a noise-conditioned model, without a kernel, with `network: false`,
 * or with a deconvolution the caller chose other than `'hqs'` per RGB plane (the loop's data
 * step; `color: 'ycbcr'` keeps one pass). Named `effort`, not `quality`: the adapters' `quality`
 * is the JPEG/WebP encoder's.
 */
export type Effort = 'standard' | 'best';
/** The {@link Effort} values (the option's validator). */
export const EFFORTS: readonly Effort[] = ['standard', 'best'];
/** Iterations of `effort: 'best'`: 4, the best of 1, 2, 4 and 8 with the exact kernel (training log). */
export const BEST_ITERATIONS = 4;

/** Per-call options of {@link Deblurrer.deblur}; they override the deblurrer's defaults. */
export interface DeblurOptions {
  /** Kernel for the deconvolution stage. Default {@link DEFAULT_KERNEL} (`'auto'`). */
  kernel?: KernelChoice;
  /**
   * Run the network after a deconvolution (with `kernel: 'none'` it always runs). Default
   * {@link Deblurrer.networkAfterDeconvolution}: true for a noise-conditioned model (SGENet-σ, the
   * shipped one), which then takes the deconvolution's place as its learned prior (one pass of
   * plug-and-play HQS: the data step, `deconvolution.method: 'hqs'`, then the network at the
   * step's noise level); false for older models.
   */
  network?: boolean;
  /** `'standard'` (default) or `'best'`: see {@link Effort}. */
  effort?: Effort;
  /** Options of the blind kernel estimation (`kernel: 'auto'`). */
  estimation?: Omit<EstimateKernelOptions, 'onProgress' | 'signal'>;
  /** Options of the deconvolution stage. */
  deconvolution?: Omit<DeconvolveOptions, 'onProgress' | 'signal'>;
  /**
   * Called once per call with the kernel the restoration uses, before deconvolving: the estimate
   * (with `kernel: 'auto'`; the identity when it fell back), or the PSF given. Not called with
   * `kernel: 'none'`. Exceptions thrown by the hook are ignored.
   */
  onKernel?: (used: KernelUsed) => void;
  /**
   * Largest tile side fed to the model, 64 to 8192. Memory grows with its square. Default
   * {@link DEFAULT_TILE_SIZE} (896), or the backend's own `preferredTileSize` (640 on tfjs, whose
   * WebAssembly heap never shrinks).
   */
  tileSize?: number;
  /** Context (px) each tile reads beyond the part it writes. Default from the model metadata. */
  overlap?: number;
  /** Tiles run at the same time (1 to 16). Default 1: backends already use every core per tile. */
  concurrency?: number;
  /** Called after every tile with `{ done, total }`. */
  onProgress?: ProgressCallback;
  /** Cancels the call between tiles: it then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** Options of {@link createDeblurrer}. */
export interface DeblurrerOptions extends DeblurOptions {
  /** A backend object, `'ort'`, `'tfjs'` or `'auto'` (default: ort if installed, else tfjs). */
  backend?: BackendChoice;
  /**
   * An ONNX file (path or bytes) following the SGENet export contract, or a shipped model's name;
   * that one model then runs everywhere. Default: the shipped pair, SGENet-σ as the learned prior
   * after a deconvolution and v0.4.0 where no kernel is used ({@link NO_KERNEL_MODEL}).
   */
  model?: ModelSource;
  /** Execution providers to try, in order (backend specific, e.g. `['cuda', 'cpu']`). */
  providers?: readonly string[];
  /** Threads for the backend. Default: all available cores. */
  threads?: number;
  /** Largest image accepted, in pixels. Default 268 402 689 (sharp's default). */
  maxPixels?: number;
}

/** A loaded model ready to deblur images. Create with {@link createDeblurrer}. */
export interface Deblurrer {
  /**
   * The model's metadata: the `model` given, else SGENet-σ, the network that runs after a
   * deconvolution in the default pair.
   */
  readonly model: ModelInfo;
  /**
   * The network that runs where no kernel is used (no blur found, or `kernel: 'none'`): with the
   * default model, v0.4.0 ({@link NO_KERNEL_MODEL}); with a `model` given, that model itself.
   */
  readonly modelWithoutKernel: ModelInfo;
  /**
   * Whether `deblur` runs the network after a deconvolution when `network` is not given: the
   * `network` option of {@link createDeblurrer}, else {@link defaultNetworkAfterDeconvolution}.
   */
  readonly networkAfterDeconvolution: boolean;
  /** The backend's name (`ort`, `tfjs`) and the provider the session runs on (`cpu`, `cuda`...). */
  readonly backend: string;
  readonly provider: string;
  /** Deblurs one image. Resolves with a new image of the same size, channels and bit depth. */
  deblur(image: RawImage, options?: DeblurOptions): Promise<RawImage>;
  /** Frees the backend sessions (both models' with the default pair), even those a photo is using. */
  dispose(): Promise<void>;
}

interface ResolvedRunOptions {
  kernel: KernelChoice;
  network: boolean;
  effort: Effort;
  estimation: Omit<EstimateKernelOptions, 'onProgress' | 'signal'>;
  deconvolution: ResolvedDeconvolveOptions;
  /** Whether the caller chose the deconvolution's `method` / `color` / `tileSize` (else the pipeline does). */
  deconvolutionChosen: { method: boolean; color: boolean; tileSize: boolean };
  onKernel: ((used: KernelUsed) => void) | undefined;
  tileSize: number;
  overlap: number;
  concurrency: number;
  onProgress: ProgressCallback | undefined;
  signal: AbortSignal | undefined;
}

function resolveRunOptions(
  raw: unknown,
  defaults: ResolvedRunOptions,
  info: ModelInfo,
  where: string,
): ResolvedRunOptions {
  if (raw === undefined) return defaults;
  if (!isPlainObject(raw)) throw invalidOption(where, 'an object', raw);
  const tileSize = integerOption('tileSize', raw.tileSize, 64, 8192, defaults.tileSize);
  // A smaller tile shrinks the default overlap with it; an explicit overlap is never changed.
  const overlap = integerOption('overlap', raw.overlap, 0, 1024, raw.tileSize !== undefined && raw.overlap === undefined
    ? Math.min(defaults.overlap, maxOverlapFor(tileSize, info))
    : defaults.overlap);
  if (tileSize < minTileSizeFor(overlap, info.multiple)) {
    throw invalidOption(
      'tileSize',
      `an integer of at least 3 x overlap + ${2 * info.multiple} (${minTileSizeFor(overlap, info.multiple)}) for overlap ${overlap}` +
        (raw.tileSize === undefined ? ` (the default tile is too small for that overlap: pass tileSize too)` : ''),
      tileSize,
    );
  }
  return {
    ...resolvePipeline(raw, defaults),
    tileSize,
    overlap,
    concurrency: integerOption('concurrency', raw.concurrency, 1, 16, defaults.concurrency),
    onProgress: functionOption<ProgressCallback>('onProgress', raw.onProgress) ?? defaults.onProgress,
    signal: signalOption('signal', raw.signal) ?? defaults.signal,
  };
}

/**
 * A kernel grid given as `kernel`, checked once for everything but the photo it must fit (its
 * `width` x `height`, checked against each photo by `validateKernelGrid` when it is used).
 */
function checkGridShape(grid: KernelGrid): KernelGrid {
  const side = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= DEFAULT_MAX_PIXELS;
  if (!side(grid.width) || !side(grid.height)) {
    throw new InvalidKernelError(`options.kernel: a kernel grid needs the width and height of the photo it was made for, got ${String(grid.width)} x ${String(grid.height)}`);
  }
  return validateKernelGrid(grid, 'options.kernel', { width: grid.width, height: grid.height });
}

type PipelineOptions = Pick<ResolvedRunOptions, 'kernel' | 'network' | 'effort' | 'estimation' | 'deconvolution' | 'deconvolutionChosen' | 'onKernel'>;

const PIPELINE_DEFAULTS: PipelineOptions = {
  kernel: DEFAULT_KERNEL,
  network: DEFAULT_NETWORK_AFTER_DECONVOLUTION,
  effort: 'standard',
  estimation: {},
  deconvolution: resolveDeconvolveOptions(undefined),
  deconvolutionChosen: { method: false, color: false, tileSize: false },
  onKernel: undefined,
};

function resolvePipeline(raw: Record<string, unknown>, defaults: PipelineOptions): PipelineOptions {
  let kernel = defaults.kernel;
  if (raw.kernel !== undefined) {
    if (raw.kernel === 'auto' || raw.kernel === 'none') kernel = raw.kernel;
    else if (isPlainObject(raw.kernel) && isKernelGrid(raw.kernel)) kernel = checkGridShape(raw.kernel);
    else if (isPlainObject(raw.kernel)) kernel = validateKernel(raw.kernel, 'options.kernel');
    else throw invalidOption('kernel', "'auto', 'none', a kernel { width, height, data } or a kernel grid", raw.kernel);
  }
  if (raw.estimation !== undefined) {
    if (!isPlainObject(raw.estimation)) throw invalidOption('estimation', 'an object', raw.estimation);
    // Checked here, against a nominal photo, so that a bad option fails before any work.
    resolveEstimateOptions(raw.estimation, 1024, 1024);
  }
  if (raw.deconvolution !== undefined && !isPlainObject(raw.deconvolution)) {
    throw invalidOption('deconvolution', 'an object', raw.deconvolution);
  }
  return {
    kernel,
    network: booleanOption('network', raw.network, defaults.network),
    effort: oneOfOption('effort', raw.effort, EFFORTS) ?? defaults.effort,
    estimation: (raw.estimation as DeblurOptions['estimation']) ?? defaults.estimation,
    deconvolution: raw.deconvolution === undefined ? defaults.deconvolution : resolveDeconvolveOptions(raw.deconvolution),
    deconvolutionChosen: raw.deconvolution === undefined ? defaults.deconvolutionChosen : {
      method: (raw.deconvolution as Record<string, unknown>).method !== undefined,
      color: (raw.deconvolution as Record<string, unknown>).color !== undefined,
      tileSize: (raw.deconvolution as Record<string, unknown>).tileSize !== undefined,
    },
    onKernel: functionOption<(used: KernelUsed) => void>('onKernel', raw.onKernel) ?? defaults.onKernel,
  };
}

function notify(hook: ((used: KernelUsed) => void) | undefined, used: KernelUsed): void {
  try {
    hook?.(used);
  } catch {
    // A reporting hook must never break a restoration.
  }
}

/**
 * Deconvolution tile side (px, FFT bridge included) before a learned prior: 1536. Why not smaller:
 * each tile reads 6 kernel sides of context, so at 768 a 61 px kernel forces 1,169 px fields that
 * write 368 px cores, about 10 FFT samples per written pixel; at 1536 the core is 735 px and a
 * 12 MP data step took 7.9 s instead of 15.1 s. Why not larger: the data step's memory grows with
 * the square of the side, and at 1536 its peak (630 MiB for the process) stays under the
 * network's that follows, where 2048 raised the whole call's peak by 160 MiB (training log,
 * session 18).
 */
export const PRIOR_DECONVOLUTION_TILE_SIZE = 1536;

/**
 * The deconvolution a network runs after. A noise-conditioned network (SGENet-σ) is the learned
 * prior of plug-and-play HQS and was trained on its data step: `'hqs'`, per RGB plane, in
 * {@link PRIOR_DECONVOLUTION_TILE_SIZE} tiles, each unless the caller chose it. An older network
 * keeps the caller's deconvolution.
 */
function priorDeconvolution<T extends ResolvedDeconvolveOptions>(opts: T, run: ResolvedRunOptions, info: ModelInfo): T {
  if (!info.sigmaInput) return opts;
  return {
    ...opts,
    ...(run.deconvolutionChosen.method ? {} : { method: 'hqs' as const }),
    ...(run.deconvolutionChosen.color ? {} : { color: 'rgb' as const }),
    ...(run.deconvolutionChosen.tileSize ? {} : { tileSize: PRIOR_DECONVOLUTION_TILE_SIZE }),
  };
}

/**
 * Validates the pipeline options of {@link DeblurOptions} (`kernel`, `network`, `effort`,
 * `estimation`, `deconvolution`, `onKernel`) the way `deblur` does, for adapters that want to fail before decoding a photo.
 */
export function checkPipelineOptions(options: Pick<DeblurOptions, 'kernel' | 'network' | 'effort' | 'estimation' | 'deconvolution' | 'onKernel'>): void {
  if (!isPlainObject(options as unknown)) throw invalidOption('options', 'an object', options);
  resolvePipeline(options as Record<string, unknown>, PIPELINE_DEFAULTS);
}

/**
 * Smallest tile size (px) that a given overlap allows: `3 x overlap + 2 x multiple`. A tile's core
 * (the part it writes) must stay at least one overlap wide, so that at most two feather ramps
 * meet, plus `multiple` on either side for aligning tiles to the model's grid. `deblur` refuses a
 * smaller `tileSize` with an `InvalidOptionError`; front ends (the CLI) check it up front with the
 * model's {@link ModelInfo.multiple}.
 *
 * @param overlap - Context (px) each tile reads beyond the part it writes, 0 or more.
 * @param multiple - The model's input multiple ({@link ModelInfo.multiple}), 1 or more.
 * @returns The least valid `tileSize` for that overlap.
 *
 * @example
 * ```ts
 * minTileSizeFor(100, 8); // 316: tileSize 300 with overlap 100 is refused
 * ```
 */
export function minTileSizeFor(overlap: number, multiple: number): number {
  return 3 * overlap + 2 * multiple;
}

/**
 * Largest overlap a tile size allows: the inverse of {@link minTileSizeFor} (the largest overlap
 * for which `minTileSizeFor(overlap, multiple) <= tileSize`).
 */
function maxOverlapFor(tileSize: number, info: ModelInfo): number {
  return Math.floor((tileSize - 2 * info.multiple) / 3);
}

/** Default overlap: the receptive field plus the feather ramp (a quarter of the overlap). */
export function defaultOverlap(info: ModelInfo): number {
  return Math.ceil((info.receptiveField * 4) / 3 / info.multiple) * info.multiple;
}

/**
 * Loads a model on a backend and returns a {@link Deblurrer}.
 *
 * @example
 * ```ts
 * import { createDeblurrer } from '@sgenet/core';
 * const deblurrer = await createDeblurrer();          // the shipped pair, ort (or tfjs) backend
 * const sharp = await deblurrer.deblur({ data, width, height, channels: 3 });
 * await deblurrer.dispose();
 * ```
 */
export async function createDeblurrer(options: DeblurrerOptions = {}): Promise<Deblurrer> {
  if (!isPlainObject(options as unknown)) throw invalidOption('options', 'an object', options);
  const maxPixels = integerOption('maxPixels', options.maxPixels, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_PIXELS);
  const threads = integerOption('threads', options.threads, 1, 1024, 0) || undefined;
  if (options.providers !== undefined && !(Array.isArray(options.providers) && options.providers.every((p) => typeof p === 'string'))) {
    throw invalidOption('providers', 'an array of strings', options.providers);
  }
  const backend = await resolveBackend(options.backend ?? 'auto');
  const bytes = await readModelBytes(options.model ?? defaultModelPath());
  const info = modelInfoFromBytes(bytes);
  const runOptions = {
    kernel: options.kernel,
    network: options.network,
    effort: options.effort,
    onKernel: options.onKernel,
    estimation: options.estimation,
    deconvolution: options.deconvolution,
    tileSize: options.tileSize,
    overlap: options.overlap,
    concurrency: options.concurrency,
    onProgress: options.onProgress,
    signal: options.signal,
  };
  /** The run defaults for one model: its default tile and overlap, then the caller's options. */
  const defaultsFor = (model: ModelInfo): ResolvedRunOptions => {
    const backendTileSize = defaultTileSizeFor(backend.preferredTileSize, model);
    const baseDefaults: ResolvedRunOptions = {
      ...PIPELINE_DEFAULTS,
      network: defaultNetworkAfterDeconvolution(model),
      tileSize: backendTileSize,
      overlap: Math.min(defaultOverlap(model), maxOverlapFor(backendTileSize, model)),
      concurrency: 1,
      onProgress: undefined,
      signal: undefined,
    };
    return resolveRunOptions(runOptions, baseDefaults, model, 'options');
  };
  const defaults = defaultsFor(info);
  const sessionOptions = {
    ...(options.providers ? { providers: options.providers } : {}),
    ...(threads ? { threads } : {}),
  };
  // The default pair (NO_KERNEL_MODEL): the no-kernel network's bytes and options are checked now,
  // its session is loaded while a photo without a kernel needs it.
  const noKernelModel = async () => {
    const pairBytes = await readModelBytes(shippedModelPath(NO_KERNEL_MODEL));
    const pairInfo = modelInfoFromBytes(pairBytes);
    return { info: pairInfo, defaults: defaultsFor(pairInfo), slot: new SessionSlot(() => backend.load(pairBytes, sessionOptions)) };
  };
  const pair = options.model === undefined ? await noKernelModel() : undefined;
  throwIfAborted(defaults.signal);
  const session: Session = await backend.load(bytes, sessionOptions);
  let disposed = false;
  // Every model's session lives in a slot. With the pair, one warm session at a time: a photo
  // without a kernel frees SGENet-σ's idle session before v0.4.0 runs and v0.4.0's after it, so
  // a process serving both kinds of photo one at a time never holds both arenas (concurrent
  // photos may: a session in use is never freed). With FREE_IDLE_PIXELS and 896 px tiles, a 12 MP
  // blurred-then-sharp batch went from 1487 to 902 MiB through the CLI (training log, session 20).
  const main = new SessionSlot(() => backend.load(bytes, sessionOptions), session);
  /** Runs `use` on a slot's session, acquired for the call and released after, even on failure. */
  const withSession = async <T>(slot: SessionSlot, use: (s: Session) => Promise<T>): Promise<T> => {
    // Checked before the acquire: a slot never loads after dispose() (it would be left loaded).
    if (disposed) throw new DisposedError('Deblurrer');
    try {
      const acquired = await slot.acquire();
      if (disposed) throw new DisposedError('Deblurrer');
      return await use(acquired);
    } finally {
      slot.release();
    }
  };

  return {
    model: info,
    modelWithoutKernel: pair?.info ?? info,
    networkAfterDeconvolution: defaults.network,
    backend: backend.name,
    provider: session.provider,
    async deblur(image: RawImage, callOptions?: DeblurOptions): Promise<RawImage> {
      if (disposed) throw new DisposedError('Deblurrer');
      // With the pair, `kernel: 'none'` runs v0.4.0 only: the call is checked against its defaults
      // (its own overlap), not against SGENet-σ's.
      const noneWithPair = pair !== undefined
        && ((isPlainObject(callOptions) ? callOptions.kernel : undefined) ?? defaults.kernel) === 'none';
      const run = noneWithPair
        ? resolveRunOptions(callOptions, pair.defaults, pair.info, 'deblur options')
        : resolveRunOptions(callOptions, defaults, info, 'deblur options');
      const layout = describeImage(image, maxPixels);
      throwIfAborted(run.signal);
      const large = layout.width * layout.height >= FREE_IDLE_PIXELS;
      // (v0.4.0's session is already freed after each photo that used it.)
      if (large) await main.freeIfIdle();
      const stageProgress = (stage: Stage): ProgressCallback | undefined =>
        run.onProgress && ((p) => run.onProgress!({ done: p.done, total: p.total, stage }));
      let kernel: KernelField | undefined;
      if (run.kernel === 'auto') {
        const estimate = await estimateKernel(image, {
          ...run.estimation,
          ...(run.signal ? { signal: run.signal } : {}),
          ...(run.onProgress ? { onProgress: stageProgress('kernel')! } : {}),
        });
        // Per-region kernels when the estimate found the shake varying (its grid), else one.
        if (!estimate.identity) kernel = estimate.grid ?? estimate.kernel;
        // The estimate's spare workers hold its garbage (an idle worker does not collect it): on a
        // large photo they stop here, so that a deconvolution leases fresh ones rather than add its
        // FFT caches to that garbage (12 MP, a 189 px kernel: 965 MiB through the CLI with them).
        if (large) await retireSpareWorkers();
        notify(run.onKernel, {
          kernel: estimate.kernel, source: 'estimated', confidence: estimate.confidence, identity: estimate.identity,
          spectralEvidence: estimate.spectralEvidence, keptBy: estimate.keptBy, ...(estimate.grid ? { grid: estimate.grid } : {}),
        });
      } else if (run.kernel !== 'none') {
        if (isKernelGrid(run.kernel)) {
          const grid = validateKernelGrid(run.kernel, 'options.kernel', layout);
          kernel = grid;
          // The grid's centre cell stands for it where one kernel is reported.
          const centre = Math.floor(grid.rows / 2) * grid.columns + Math.floor(grid.columns / 2);
          notify(run.onKernel, { kernel: grid.kernels[centre]!, source: 'given', confidence: 1, identity: false, grid });
        } else {
          kernel = validateKernel(run.kernel, 'options.kernel', layout);
          notify(run.onKernel, { kernel, source: 'given', confidence: 1, identity: false });
        }
      }
      const output = allocateLike(image, layout);
      const deconvolution = { ...run.deconvolution, signal: run.signal, onProgress: stageProgress('deconvolve') };
      if (kernel && !run.network) {
        await deconvolveInto(image, layout, kernel, deconvolution, output);
        return output;
      }
      /** A network, its session and its tile plan for this photo. */
      interface Network { info: ModelInfo; session: Session; plan: TilePlan }
      const networkFor = (model: ModelInfo, modelSession: Session, options: ResolvedRunOptions): Network => ({
        info: model,
        session: modelSession,
        plan: planTiles(layout.width, layout.height, { tileSize: options.tileSize, overlap: options.overlap, multiple: model.multiple }),
      });
      const runNetwork = (
        net: Network, input: RawImage, inLayout: PixelLayout, sigma: number | undefined, into: RawImage, intoLayout: PixelLayout,
        onProgress = stageProgress('network'),
      ) =>
        runTiles(net.plan, {
          concurrency: run.concurrency,
          signal: run.signal,
          onProgress,
          read: (tile) =>
            readTensor(input, inLayout, tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength),
          infer: (tensor, tile) => net.session.run(tensor, [1, 3, tile.y.readLength, tile.x.readLength], {
            ...(net.info.sigmaInput ? { sigma } : {}),
            // A guided model sees the photo under the same tile: what it was trained with (the
            // blurry photo beside its deconvolution; the photo itself when there is no kernel).
            // Without a kernel the input is the photo: its tile is read once and serves as both.
            ...(net.info.guideInput
              ? { guide: input === image ? tensor : readTensor(image, layout, tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength) }
              : {}),
          }),
          write: (acc, accRows, fromRow, rowCount, accFirstRow) =>
            writeRows(acc, accRows, fromRow, rowCount, accFirstRow, image, into, intoLayout),
        });
      // Without a kernel: the default pair's no-kernel network (NO_KERNEL_MODEL), else the model;
      // a noise-conditioned one denoises at the photo's own noise level.
      if (!kernel) {
        if (disposed) throw new DisposedError('Deblurrer');
        // With `kernel: 'none'`, spare workers of an earlier call hold their garbage and no
        // deconvolution will lease them now (after an estimate they are already stopped).
        if (large && run.kernel === 'none') await retireSpareWorkers();
        if (!pair) {
          await withSession(main, (s) =>
            runNetwork(networkFor(info, s, run), image, layout, info.sigmaInput ? resolveNoise(run.deconvolution.noise, image, layout) : undefined, output, layout));
          return output;
        }
        // The pair's options are checked before its model is loaded (an identity estimate reaches
        // here with options checked against SGENet-σ's defaults).
        const pairRun = noneWithPair ? run : resolveRunOptions(callOptions, pair.defaults, pair.info, 'deblur options');
        // One warm session: SGENet-σ's goes first if no photo is using it, v0.4.0's after this photo.
        await main.freeIfIdle();
        try {
          await withSession(pair.slot, async (s) => {
            throwIfAborted(run.signal);
            await runNetwork(networkFor(pair.info, s, pairRun), image, layout, undefined, output, layout);
          });
        } finally {
          await pair.slot.freeIfIdle();
        }
        return output;
      }
      // The network reads each deconvolution at 16 bits, whatever the input depth, so its detail
      // is not quantised away before the last stage.
      const wideLayout: PixelLayout = { ...layout, maxValue: 65535 };
      const wide = (): RawImage => ({ data: new Uint16Array(layout.width * layout.height * layout.channels), width: layout.width, height: layout.height, channels: layout.channels });
      const networkInput = wide();
      // The network follows: a large pass's workers stop rather than hold its caches through it.
      const stepOptions = { ...priorDeconvolution(deconvolution, run, info), retireWorkers: true };
      const loop = info.sigmaInput && run.effort === 'best' && stepOptions.method === 'hqs'
        && (layout.colorChannels !== 3 || stepOptions.color === 'rgb');
      if (!loop) {
        // One pass: the data step, then the network at σ_1 of one-pass plug-and-play HQS (pnp.ts).
        const noise = await deconvolveInto(image, layout, kernel, stepOptions, networkInput, wideLayout);
        await withSession(main, (s) =>
          runNetwork(networkFor(info, s, run), networkInput, wideLayout, info.sigmaInput ? pnpSigmas(noise, 1)[0]! : undefined, output, layout));
        return output;
      }
      // effort 'best': plug-and-play HQS (DPIR, Algorithm 1) over BEST_ITERATIONS noise levels σ_k,
      // log-spaced from 49/255 to the noise σ_n it regularises with, with z_0 = y; for k = 1 … N:
      //   1. x_k = data step (y, kernel, α_k = λσ_n²/σ_k², z_{k-1})
      //   2. z_k = SGENet-σ(x_k, σ_k)
      // Work done once: the noise level (every step uses the same), the two 16-bit buffers.
      const noise = regularisationNoise(stepOptions, image, layout);
      const step = { ...stepOptions, noise };
      const sigmas = pnpSigmas(noise, BEST_ITERATIONS);
      const estimate = wide();
      // Progress counts every iteration's tiles: done runs from 0 to N x a pass's tiles per stage.
      const iteration = (stage: Stage, k: number): ProgressCallback | undefined =>
        run.onProgress && ((p) => run.onProgress!({ done: k * p.total + p.done, total: sigmas.length * p.total, stage }));
      await withSession(main, async (s) => {
        const prior = networkFor(info, s, run);
        for (let k = 0; k < sigmas.length; k++) {
          const alpha = hqsAlpha(noise, sigmas[k]!, PNP_WEIGHT);
          await deconvolveInto(image, layout, kernel, { ...step, onProgress: iteration('deconvolve', k) }, networkInput, wideLayout,
            k === 0 ? { alpha } : { alpha, prior: { image: estimate, layout: wideLayout } });
          const last = k === sigmas.length - 1;
          await runNetwork(prior, networkInput, wideLayout, sigmas[k]!, last ? output : estimate, last ? layout : wideLayout, iteration('network', k));
        }
      });
      return output;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      // Both slots, whatever photo is using them, even if the first fails to free.
      try {
        await main.dispose();
      } finally {
        await pair?.slot.dispose();
      }
    },
  };
}
