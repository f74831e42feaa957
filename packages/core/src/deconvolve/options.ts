/** Options of the non-blind deconvolution: one object, defaults and ranges, validated. */
import { functionOption, integerOption, invalidOption, isPlainObject, numberOption, signalOption } from '../validate.js';
import type { ProgressCallback } from '../types.js';

/** Default α of the hyper-Laplacian prior: 2/3 fits the heavy-tailed gradients of natural images. */
export const DEFAULT_ALPHA = 2 / 3;

/** Default scale of the data weight λ = weight / σ² (Krishnan & Fergus' λ = 2000 at σ = 1%). */
export const DEFAULT_WEIGHT = 0.2;

/**
 * Default of `noiseFloor`: 1.5/255. With `noise: 'auto'` a deconvolution regularises as if the
 * photo were at least this noisy, for the error of the blur model on real capture (blur in linear
 * light of a gamma-encoded photo, a slightly wrong kernel, JPEG), which a near-noiseless photo's
 * own σ leaves out: real photos read as 0.3-2.2/255. On 48 fresh project-made capture-like
 * pairs (Levin kernels on Kodak24 blurred in linear light, noise 0.25-1/255, JPEG 80-95),
 * `deblur()` gains +0.34 dB aligned with the true kernel (no pair lower), +0.40 with a perturbed
 * one, +0.36 as a user runs it (`kernel: 'auto'`); the hyper-Laplacian +0.83. The dev benchmark
 * (σ 1%, read as 1.48-3.0/255) is all but untouched. Training log, session 25.
 */
export const DEFAULT_NOISE_FLOOR = 1.5 / 255;

/**
 * The β continuation of the half-quadratic splitting (Krishnan & Fergus 2009): β from 1, times 2√2
 * per step, up to 256. Every hyper-Laplacian (and TV) deconvolution runs it: the tiles (tile.ts)
 * and the estimator's blind score (kernel/blind-score.ts), which deconvolves as the product does,
 * with {@link DEFAULT_ALPHA} and {@link DEFAULT_WEIGHT}.
 */
export const BETA_SCHEDULE = { betaStart: 1, betaRate: 2 * Math.SQRT2, betaMax: 256 } as const;

/**
 * `'hyper-laplacian'` (default, α = 2/3), `'tv'` (α = 1), `'wiener'` (fast, rings more), or
 * `'hqs'`: the first data step of plug-and-play HQS (DPIR), the kernel inverted where it passes a
 * frequency and the blurry photo kept where it does not. `'hqs'` is the input of the learned prior
 * (SGENet-σ runs after it in `deblur()`); alone it leaves noise and ringing for the prior to clean.
 */
export type DeconvolutionMethod = 'hyper-laplacian' | 'tv' | 'wiener' | 'hqs';

/**
 * Colour planes a colour photo is deconvolved in: `'ycbcr'` (default) deconvolves luma at full
 * resolution and the two chroma planes at half resolution; `'rgb'` deconvolves R, G and B at full
 * resolution each.
 */
export type DeconvolutionColor = 'ycbcr' | 'rgb';

export interface DeconvolveOptions {
  /** The prior. Default `'hyper-laplacian'`. */
  method?: DeconvolutionMethod;
  /**
   * Colour planes of a colour photo. Default `'ycbcr'`: luma (full resolution) plus chroma (half
   * resolution), about half the work of `'rgb'` and, measured on 16 dev-benchmark pairs, 0.2 dB
   * better (chroma regularised at half resolution rings less); see BENCHMARKS.md.
   */
  color?: DeconvolutionColor;
  /** α of the hyper-Laplacian prior, 0.5 to 1. Default 2/3. */
  alpha?: number;
  /**
   * Noise σ of the photo in [0, 1] units (0.0005 to 0.2), or `'auto'` (default) to estimate it
   * (on a photo showing JPEG's 8x8 grid, also at half resolution, where the JPEG has not erased
   * it), then regularise with at least `noiseFloor`. The data weight is λ = `weight` / σ² and the
   * Wiener NSR is `nsr` x σ².
   */
  noise?: number | 'auto';
  /**
   * With `noise: 'auto'`, the least σ the regularisation assumes, 0 to 0.05: the photo's own σ
   * when it is larger, else this floor, which stands for the blur model's error on real capture
   * (blur in linear light, a slightly wrong kernel, JPEG). Default {@link DEFAULT_NOISE_FLOOR}
   * (1.5/255): real photos read as 0.3-2.2/255, and regularised at that level a near-right kernel
   * ripples in flat regions. 0 trusts the estimate alone. Ignored when `noise` is a number.
   */
  noiseFloor?: number;
  /** Scale of the data weight λ = weight / σ², 1e-4 to 10. Default 0.2 (Krishnan & Fergus' λ = 2000 at σ = 1%). */
  weight?: number;
  /** Wiener noise-to-signal ratio per unit noise variance, 0.01 to 1e5. Default 50. */
  nsr?: number;
  /**
   * Side of a tile plus its FFT bridge, 256 to 4096. Default 2048 (1536 for the learned prior's
   * data step inside `deblur()`, `PRIOR_DECONVOLUTION_TILE_SIZE`): photos up to about 1.9k px a
   * side run as one field; memory grows with its square (about 220 MB per worker thread at 2048).
   * Larger tiles waste less work on the overlap: a 12 MP photo with a 65 px kernel took 53 s at
   * 2048 against 95 s at 1536 (BENCHMARKS.md).
   */
  tileSize?: number;
  /**
   * Context (px) each tile reads beyond what it writes, 0 to 1024. Default six kernel sides, at
   * least 48 and at most 966 (`MAX_DECONVOLUTION_OVERLAP`), so that a tile, not the photo, bounds
   * memory.
   */
  overlap?: number;
  /** Width (px) of the smooth periodic bridge around each tile's FFT field. Default kernel side + 8. */
  bridge?: number;
  /**
   * Clipped lights: a level in [0.5, 1] of the sample range at or above which a sample counts as
   * clipped (a light brighter than the sensor), or `false` (default) to trust every sample. With
   * `'hyper-laplacian'` and `'tv'`, a clipped pixel then counts only as a lower bound and its
   * neighbours not at all in the data term (Whyte et al. 2014), so lights ring less: +0.96 to
   * +1.06 dB with the true kernel on project-made night scenes. Off by default because bright
   * surfaces clip too (noise on white, a white background), where it costs up to 0.2 dB
   * (BENCHMARKS.md, "Clipped lights"). `DEFAULT_CLIP_LEVEL` (250/255) suits JPEGs. Tiles with a
   * clipped pixel take two solves and two refills per splitting step (about 3x the FFTs).
   */
  clipLevel?: number | false;
  /**
   * Worker threads for the tiles, 1 to 16. Default: up to the cores available (one tile each).
   * Inside `deblur()`, before a network, fewer may run: the pass's workers are capped at 512 MiB
   * together (deconvolve.ts, `PASS_WORKER_BYTES`).
   */
  workers?: number;
  /** Called after every tile with `{ done, total }`. */
  onProgress?: ProgressCallback;
  /** Cancels the call between tiles and planes: it then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

export interface ResolvedDeconvolveOptions {
  method: DeconvolutionMethod;
  color: DeconvolutionColor;
  alpha: number;
  noise: number | 'auto';
  noiseFloor: number;
  weight: number;
  nsr: number;
  tileSize: number;
  overlap: number | undefined;
  bridge: number | undefined;
  clipLevel: number | false;
  workers: number;
  onProgress: ProgressCallback | undefined;
  signal: AbortSignal | undefined;
  /**
   * Set by `deblur()` when a network follows in the same call (never by a caller): a pass's
   * workers are then capped by memory (deconvolve.ts, `workersWithinMemory`), and a pass with large
   * per-worker caches stops its workers when it ends (`retireWorkersAfter`).
   */
  retireWorkers?: boolean;
}

const METHODS: readonly DeconvolutionMethod[] = ['hyper-laplacian', 'tv', 'wiener', 'hqs'];
const COLORS: readonly DeconvolutionColor[] = ['ycbcr', 'rgb'];

/** `clipLevel`: `false` (or absent), or a number in [0.5, 1]. */
function clipLevelOption(value: unknown): number | false {
  if (value === undefined || value === false) return false;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.5 || value > 1) {
    throw invalidOption('clipLevel', 'false, or a number between 0.5 and 1 (DEFAULT_CLIP_LEVEL is 250/255)', value);
  }
  return value;
}

export function resolveDeconvolveOptions(raw: unknown): ResolvedDeconvolveOptions {
  if (raw === undefined) raw = {};
  if (!isPlainObject(raw)) throw invalidOption('deconvolve options', 'an object', raw);
  const method = raw.method ?? 'hyper-laplacian';
  if (!METHODS.includes(method as DeconvolutionMethod)) {
    throw invalidOption('method', `one of ${METHODS.map((m) => `'${m}'`).join(', ')}`, method);
  }
  const color = raw.color ?? 'ycbcr';
  if (!COLORS.includes(color as DeconvolutionColor)) {
    throw invalidOption('color', `one of ${COLORS.map((m) => `'${m}'`).join(', ')}`, color);
  }
  const noise = raw.noise === undefined || raw.noise === 'auto' ? 'auto' : numberOption('noise', raw.noise, 0.0005, 0.2, 0);
  const tileSize = integerOption('tileSize', raw.tileSize, 256, 4096, 2048);
  return {
    method: method as DeconvolutionMethod,
    color: color as DeconvolutionColor,
    alpha: numberOption('alpha', raw.alpha, 0.5, 1, DEFAULT_ALPHA),
    noise,
    noiseFloor: numberOption('noiseFloor', raw.noiseFloor, 0, 0.05, DEFAULT_NOISE_FLOOR),
    weight: numberOption('weight', raw.weight, 1e-4, 10, DEFAULT_WEIGHT),
    nsr: numberOption('nsr', raw.nsr, 0.01, 1e5, 50),
    tileSize,
    overlap: raw.overlap === undefined ? undefined : integerOption('overlap', raw.overlap, 0, 1024, 0),
    clipLevel: clipLevelOption(raw.clipLevel),
    workers: integerOption('workers', raw.workers, 1, 16, 16),
    bridge: raw.bridge === undefined ? undefined : integerOption('bridge', raw.bridge, 2, 1024, 0),
    onProgress: functionOption<ProgressCallback>('onProgress', raw.onProgress),
    signal: signalOption('signal', raw.signal),
  };
}
