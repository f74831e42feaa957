/**
 * Options of the blind kernel estimator: one object, every field with its default and range, each
 * validated in the sharp style (`Expected ... for ... but received ...`).
 */
import { booleanOption, functionOption, integerOption, invalidOption, isPlainObject, numberOption, signalOption } from '../validate.js';
import type { ProgressCallback } from '../types.js';
import type { RegionsChoice } from './regions.js';

/** The values `regions` takes: the table is the validator. */
export const REGIONS_CHOICES: readonly RegionsChoice[] = ['auto', 'off', 2, 3, 4];

export interface EstimateKernelOptions {
  /**
   * Largest kernel side the estimator tries, in px of the input photo, odd, 5 to
   * {@link MAX_ESTIMATED_KERNEL_SIZE} (401). Default ({@link defaultMaxSize}): on photos of 1 MP
   * or more a tenth of the short side, at least 101 (301 on a 4000x3000 photo); below 1 MP a
   * fifth of the short side between the default `startSize` and 101 (73 on a 360x480 photo, 101
   * on a 768x512 one). Sizes above `startSize` are estimated only when the start kernel fills
   * its support. An explicit `maxSize` without `startSize` estimates one ladder of sizes at it.
   */
  maxSize?: number;
  /**
   * Kernel sizes to try, as shares of `startSize` (each 0.2 to 1); the blind score picks one. The
   * larger ladder, when it runs, tries {@link LARGE_SIZE_SHARES} x `maxSize` instead.
   * Default `[0.8, 1]`: a too-large support is the classic failure on short blur and a too-small
   * one on long blur; with the residual in the score, 0.8 measured better than 0.6 as the second
   * size on the training bank (+1.73 against +1.69 dB) and on dev pairs.
   */
  sizeShares?: readonly number[];
  /**
   * Side of the estimation window plus its FFT bridge, 128 to 1024 (1 MP). Default 512, and 1024
   * on a photo whose long side exceeds 1210 px (its default `startSize` is then estimated
   * downscaled): its kernel may be long, and the window must then hold more of the scene.
   */
  windowSize?: number;
  /**
   * Largest field side a pyramid level works on, 128 to `windowSize`: a level whose scaled window
   * is larger works on its most textured part of this size, so coarse levels see the whole window
   * and fine ones, which cost the most, a part of it. Also sizes the refinement's windows above
   * the working scale. Default 512 (or `windowSize`, if smaller). Per-region cells (`regions`)
   * use at most 256.
   */
  levelWindowSize?: number;
  /**
   * Largest kernel side estimated at full resolution, 15 to 101. A larger `maxSize` is estimated
   * on a downscaled photo, then refined level by level (×√2) up to full scale. Default 55: photos up to about 1200 px
   * (`startSize` ≤ 55) are estimated at full resolution, their larger ladder downscaled. Against 41, on project scenes, that was
   * better on 6 of 6 kernels at 1 MP (+0.2 to +1.6 dB) and faster (no refinement pass), and at
   * 12 MP better or equal on 3 of 3 at about the same time (BENCHMARKS.md, "Cost of the kernel stages").
   */
  maxWorkingSize?: number;
  /**
   * Kernel side the estimator starts from, odd, 5 to `maxSize`. Default: {@link defaultStartSize}
   * (the long side / 22, 31 to 101) under a defaulted `maxSize`, else `maxSize` (one ladder). The
   * sizes `sizeShares` x this are estimated first, and only when the kernel picked fills its
   * support (perhaps truncated: its side within 2 px of the candidate's, at the working scale) the
   * sizes {@link LARGE_SIZE_SHARES} x `maxSize` (not `sizeShares`) are estimated too
   * (`KernelEstimate.largerLadder` then says so), twice: at `maxIterations` alternations per
   * level and at {@link LARGE_LADDER_MAX_ITERATIONS} while the kernel still moves; above a
   * `maxSize` of {@link REFUSED_START_MAX_SIZE} (101), only when the guard also accepted that
   * kernel. The start's kernel and those two are scored under one blind score on the start
   * ladder's window at its scale (`largerLadder.selection`), and the two are judged in turn, the
   * better scoring first: one is returned when it scores below the start's or its confidence is at
   * most {@link LARGE_LADDER_CONFIDENCE_MARGIN} below the start's, the guard accepts it, it is a
   * path rather than a cloud ({@link LARGE_LADDER_MAX_PATH_WIDTH}), and it is longer than the
   * start's kernel or the start's filled the start size itself (no room left); else the start's
   * kernel is guarded as it would be alone. It costs nothing more where the start kernel does not
   * fill its support. On the harder set's 51-101 px group it lifts the aligned gain over blurry
   * from about 0 to about +2 dB (+2.05 on the 12 photos held out of its rule), and on real
   * photos it finds long kernels that agree better with the published ones and read better
   * (postcards, menu boards, signs), with a few real photos still unusable either way
   * (BENCHMARKS.md, "Long shake on small photos"). Above a defaulted `maxSize` (a small photo) it
   * is lowered to it: one ladder.
   */
  startSize?: number;
  /** λ of the L0 gradient prior at the start of each level, 1e-4 to 0.1. Default 2e-3. */
  lambda?: number;
  /** Kernel/latent alternations per pyramid level, 1 to 20. Default 5. */
  iterations?: number;
  /**
   * Alternations a level may go on to while its kernel still moves (a relative change of 2% or
   * more per alternation, `ALTERNATION_TOLERANCE`) after `iterations`: `iterations` to 40.
   * Default `iterations`, a fixed count. Large kernels settle more slowly than small ones: with
   * 10 (twice the default), ten planted 39-55 px kernels on 1200x800 scenes went from NCC 0.65 to
   * 0.81 and from +2.8 to +5.0 dB, and ten 7-21 px ones from 0.986 to 0.998, for about 1.5x the
   * estimation's time at 1 MP (BENCHMARKS.md, "Alternations until the kernel settles").
   */
  maxIterations?: number;
  /** κ: growth of β per splitting step of the L0 latent, 1.5 to 8. Default 2√2 (Pan et al.: 2, measured no better). */
  kappa?: number;
  /**
   * β_max of the L0 latent, relative to λ (β runs from 2λ to this x λ), 10 to 1e8. Default 2.5e5:
   * past it, the threshold √(λ/β) is below the 8-bit step and the latent no longer changes.
   */
  betaMax?: number;
  /** Relative Tikhonov weight γ of the kernel update, 0 to 10. Default 0.2. */
  gamma?: number;
  /** Peak share below which no kernel component starts, 0 to 1. Default 0.05. */
  seedThreshold?: number;
  /**
   * Peak share down to which a faint tail connected to the kernel is kept by the final cleanup,
   * 0 to 1 (≤ seedThreshold). Default: seedThreshold (no tails: 0.025 measured 0.2 dB lower on
   * 16 dev pairs; see the training log).
   */
  tailThreshold?: number;
  /**
   * μ of the optional dark-channel prior (Pan et al. 2016), 0 to 0.1. Default 0 (off; the paper
   * uses 4e-3). It helps where strong dark structures dominate; it slows estimation down.
   */
  darkChannel?: number;
  /** Patch side of the dark channel in px of the estimation plane, odd, 3 to 101. Default 35 (the paper's). */
  darkChannelPatch?: number;
  /** Estimate on linear-light luminance (sRGB decoded). Default false: see the training log. */
  linearLight?: boolean;
  /** Luminance (in [0, 1]) from which a pixel counts as saturated and is masked. Default 0.98. */
  saturation?: number;
  /**
   * Below this confidence (0 to 1) the identity kernel is returned instead, unless the kernel is a
   * quiet camera path (see `minSpectralEvidence`). Default 0.09. Sharp,
   * noisy photos whose estimate is neither near a dot nor a peaked kernel without evidence (the
   * two other guards) scored under 0.077 (85 photos: Kodak24, CUrban100, CBSD432 with σ 0.01);
   * mild real shake scores 0.09 to 0.15, and the kernels found there agree with other blind
   * methods' published estimates (NCC 0.7 to 0.96; BENCHMARKS.md, "Real shaken photos"), so the
   * photos are deconvolved rather than left as they were.
   */
  minConfidence?: number;
  /**
   * Spectral evidence (0 to 1, the result's `spectralEvidence`) that keeps a kernel whose
   * confidence is too low as a quiet camera path, when it also spreads over 10 or more effective
   * taps and is unpeaked, or mildly peaked (up to 1.4 x `maxPeakDominance`) and agreed on by every
   * kernel size. Default 0.35 (`QUIET_MIN_SPECTRAL_EVIDENCE`); 1 turns the rule off.
   */
  minSpectralEvidence?: number;
  /**
   * Peak dominance (brightest tap x side / mass, 0.1 to 255) above which a kernel must also show
   * the evidence of a camera path, not of a dot with a faint streak (what the estimator finds on
   * sharp photos with strong straight edges; deconvolving with it adds ghosts): its mass spread
   * over at least {@link SPREAD_TAPS} effective taps (1 / Σk² of the unit-sum kernel), the same
   * path found by every kernel size tried (agreement {@link PEAKED_MIN_AGREEMENT}), and a
   * confidence of at least {@link PEAKED_MIN_CONFIDENCE} (or `minConfidence` if higher) or, up to
   * {@link SPECTRAL_PEAK_ALLOWANCE} x this, spectral evidence of at least `minSpectralEvidence`;
   * otherwise the identity is returned. Default 2.5: estimates on the 192 dev pairs stayed at 2.2 or below but
   * one. Real shake often has a brighter tap where the camera paused: 10 of the 34 real photos
   * the dominance alone refused had a confidence above `minConfidence` (BENCHMARKS.md,
   * "Sharp-photo guard").
   */
  maxPeakDominance?: number;
  /**
   * Where the returned kernel is centred, which fixes where the restored photo sits: `'support'`,
   * the midpoint of the kernel's support (the faintest 5% of its mass at either end ignored), the
   * convention recorded PSFs are stored in (Levin et al.'s and the project's own camera paths);
   * `'mass'`, its centre of mass, the camera's mean position over the exposure. Blind estimation
   * cannot know the true translation; the two differ by up to a few px on a curved path. Default
   * `'support'`.
   */
  centre?: KernelCentre;
  /**
   * Per-region kernels for shake that is not uniform (a camera rotation): after the photo's
   * kernel is found, each cell of a grid runs its own estimate and keeps its own kernel where
   * the evidence says the shake differs there (see `KernelEstimate.grid` and regions.ts).
   * `'off'` (default): one kernel for the photo. `'auto'`: a 3x3 or 2x2 grid where the cells are
   * large enough to estimate from (at least 256 px and 4 kernel sides on the estimation plane),
   * none on smaller photos; 2, 3 or 4: that grid, whenever its cells are 2 kernel sides or more.
   * 1.3-2.9x the estimation time (measured at 800x800 and 12 MP; the four corner cells run
   * first, and on a 3x3 or 4x4 grid the others only where a corner disagrees with the photo's
   * kernel, so shake that differs only away from the corners is not looked for); off by default
   * because on the real recorded shake measured (BENCHMARKS.md) a cell kept its own kernel on 2
   * photos of 48, with no visible change. Sharp photos (the identity) never get a grid.
   */
  regions?: RegionsChoice;
  /** Worker threads for the kernel sizes, 1 to 16. Default: one per size, up to the cores available. */
  workers?: number;
  /**
   * Called as the estimator advances. The total counts the larger ladder's steps from the start;
   * where it does not run (the start kernel does not fill its support), progress jumps from the
   * start ladder's share to the total at the end.
   */
  onProgress?: ProgressCallback;
  /** Cancels the estimation between steps: it then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** Where an estimated kernel is centred: see {@link EstimateKernelOptions.centre}. */
export type KernelCentre = 'support' | 'mass';

export interface ResolvedEstimateOptions {
  maxSize: number;
  sizeShares: number[];
  windowSize: number;
  levelWindowSize: number;
  maxWorkingSize: number;
  startSize: number;
  lambda: number;
  iterations: number;
  maxIterations: number;
  kappa: number;
  betaMax: number;
  gamma: number;
  seedThreshold: number;
  tailThreshold: number;
  darkChannel: number;
  darkChannelPatch: number;
  linearLight: boolean;
  saturation: number;
  minConfidence: number;
  minSpectralEvidence: number;
  regions: RegionsChoice;
  maxPeakDominance: number;
  centre: KernelCentre;
  workers: number;
  onProgress: ProgressCallback | undefined;
  signal: AbortSignal | undefined;
}


/**
 * Effective taps (1 / Σk² of a unit-sum kernel: the number of equal taps with the same energy) a
 * kernel above `maxPeakDominance` needs to count as a camera path: 10. Measured before the rule
 * (BENCHMARKS.md, "Sharp-photo guard"): of the spurious kernels of 85 sharp noisy photos
 * (Kodak24, 40 of CUrban100, 21 of CBSD432), 31 were above the dominance limit, 25 of them on 2.3
 * to 9.3 effective taps, and of the 6 more spread only one had a confidence of 0.15 or more; the
 * kernels of 10 real shaken photos above the limit held 5.6 to 40 (9 of them 10 or more).
 */
export const SPREAD_TAPS = 10;

/**
 * Confidence a kernel above `maxPeakDominance` needs (or `minConfidence`, if higher): 0.15. The
 * spurious kernels of sharp photos spread over 10 or more effective taps scored 0 to 0.145 but
 * one (CUrban100: img_016 0.118, img_042 0.145; img_026 0.36, refused by the agreement).
 */
export const PEAKED_MIN_CONFIDENCE = 0.15;

/**
 * Agreement (mean-removed kernel NCC at the best shift of ±4 taps, `kernelAgreement`) that a kernel above `maxPeakDominance`
 * needs with the estimate of every other size tried: 0.87. Measured before the rule: 0.91-0.99 on
 * 6 real photos whose peaked kernels restored them visibly (0.32 on one whose kernel had a
 * detached speck); 0.83 on the one dev pair whose peaked estimate was wrong (kodim01 with Levin's
 * kernel 6: 1.7 dB below the blurry photo when kept) and 0.29 on the one sharp photo whose spurious
 * kernel was spread and confident (a facade's repeated pattern).
 */
export const PEAKED_MIN_AGREEMENT = 0.87;

/**
 * How far above `maxPeakDominance` a kernel may peak and still be kept on spectral evidence
 * (step 3 of `guardVerdict`), as a factor: 1.4 (3.5 at the default 2.5). Read before it was used
 * (training log, session 14) from the estimator's kernels on 71 sharp noisy photos and the 160
 * real ones: real misses with a spread, agreed-on, mildly peaked kernel at 2.52-3.20 (face,
 * night6, petrol_station1; spectral evidence 0.42-0.64); the sharp photos' spread spurious
 * kernels peaked at 3.90 and 3.97 (one with spectral evidence 0.54).
 */
export const SPECTRAL_PEAK_ALLOWANCE = 1.4;

/** Default `minConfidence`: 0.09 (its TSDoc says how it was set). */
export const DEFAULT_MIN_CONFIDENCE = 0.09;

/**
 * Default `minSpectralEvidence`: the spectral evidence (`spectralEvidence`) that keeps a spread
 * kernel whose confidence is too low, unpeaked or mildly peaked (`guardVerdict`, step 3): 0.35. Read before it was used (training log, session 11) from
 * the estimator's kernels without the guard: the real photos it missed whose kernels spread over
 * 10 or more taps unpeaked scored 0.40-0.66 (6 photos, their kernels at NCC 0.75-0.91 to the
 * published ones); of 49 sharp noisy photos (Kodak24, every 4th of CUrban100) none had such a
 * kernel below `minConfidence`.
 */
export const QUIET_MIN_SPECTRAL_EVIDENCE = 0.35;

/** Odd number nearest to `v` from above. */
export const oddCeil = (v: number): number => {
  const c = Math.ceil(v);
  return c % 2 === 0 ? c + 1 : c;
};

/**
 * A `regions` choice from text (a command-line flag, an environment variable): `'auto'`,
 * `'off'`, or a grid side written as a digit; undefined when the text is none of
 * {@link REGIONS_CHOICES}, for the caller to say so in its own words.
 */
export function regionsFromText(text: string): RegionsChoice | undefined {
  const value = /^\d$/.test(text) ? Number(text) : text;
  return (REGIONS_CHOICES as readonly unknown[]).includes(value) ? (value as RegionsChoice) : undefined;
}

/** `regions`, checked against {@link REGIONS_CHOICES}; default `'off'`. */
function regionsOption(value: unknown): RegionsChoice {
  if (value === undefined) return 'off';
  if (!(REGIONS_CHOICES as readonly unknown[]).includes(value)) throw invalidOption('regions', "one of 'auto', 'off', 2, 3, 4", value);
  return value as RegionsChoice;
}

/**
 * The kernel sizes tried up to `maxSize` when the start size's kernel fills its support, as
 * shares of `maxSize`: a third, smaller size lets the blind score pick a 53-65 px kernel where
 * the two large ones are wrong (training log, session 20: the harder set's medium group +4.72 dB
 * aligned with it, +3.94 without).
 */
export const LARGE_SIZE_SHARES: readonly number[] = [0.5, 0.8, 1];

/**
 * How much lower than the start ladder's confidence the larger ladder's may be and still have its
 * kernel returned (or it wins the contest of one blind score on the start's window): 0.065, read
 * from 22 photos before it was used. On the 13 dev pairs whose 23-31 px kernels fill a 25 or 31 px
 * candidate without being truncated, the larger ladder's confidence was 0.07 to 0.17 lower (8 of
 * them lost, up to 5.9 dB); on 8 of the 9 harder-set photos it improved (long paths), −0.06 to
 * +0.05 from the start's (the ninth −0.14; training log, session 21).
 */
export const LARGE_LADDER_CONFIDENCE_MARGIN = 0.065;

/**
 * Alternations a level of the larger ladder may go on to while its kernel still moves (as
 * `maxIterations` does; the larger of the two applies): 15. A long path settles slowly, and five
 * alternations leave it half found: on the harder set's long paths that the start ladder's
 * confidence kept out, the larger ladder alone went from NCC 0.13-0.49 to the true kernel to
 * 0.81-0.97 on 5 of 7 photos with 15, and turned some right kernels of five alternations into
 * wrong ones (training log, session 29): so the larger ladder runs at both budgets and the blind
 * score on the start's window picks. It costs time only where the larger ladder runs.
 */
export const LARGE_LADDER_MAX_ITERATIONS = 15;

/**
 * The widest path the larger ladder may return, in px: its kernel's effective taps (1 / Σp²) over
 * its side, the mean width of a path as long as the kernel is wide (a 1 px line across it: 1; a
 * disc of diameter d: about 0.79 d). A camera path is a thin curve: 1.6 to 5.9 on 43 of the 46 photos whose larger-ladder kernel was probed (real/wall 4.6,
 * real/0015_blur65 5.9, the harder set's 95 px path 3.0). The other three are clouds, failed
 * estimates that ring: real-kohler/Blurry1_8 11.9, Blurry1_10 13.1, the harder set's large #0
 * 13.9 (−1.84 dB). Read from those 46 photos before it was used (training log, session 22).
 */
export const LARGE_LADDER_MAX_PATH_WIDTH = 8;

/**
 * The largest `maxSize` up to which the larger ladder also runs where the guard refused the start
 * ladder's kernel (and may replace it): 101. Above it (photos with a short side over 1010 px) the
 * larger ladder only extends a kernel the guard accepted, and a refused start stays refused. On
 * 2400x1600 project photos every gain of the sizes above 101 came from an accepted start (street
 * gains of +4.4 to +12.5 dB aligned), while on the test chart four refused starts were replaced
 * by 157-161 px kernels of confidence 0.12-0.16 that lost 1.9-2.4 dB; and a search up to 161 px
 * costs 13-20 s more at 2400x1600 (training log, session 27).
 */
export const REFUSED_START_MAX_SIZE = 101;

/** `maxWorkingSize`'s default: kernels up to 55 px are estimated at full scale. */
export const DEFAULT_MAX_WORKING_SIZE = 55;

/** The estimation window's field side, and each pyramid level's at most (`levelWindowSize`). */
export const DEFAULT_WINDOW = 512;

/**
 * The window of a large photo (long side above 1210 px: its default `startSize` exceeds the default
 * `maxWorkingSize`, so it is estimated downscaled), whose levels stay at {@link DEFAULT_WINDOW}.
 * A 512 px window at the working scale holds too little of such a scene for a long path: on 16
 * held-out 2400x1600 project photos under camera paths of 57-123 px, the mean aligned gain went
 * from +0.08 to +2.06 dB with this window, at about 1.5x the estimation time at 12 MP
 * (BENCHMARKS.md, "Large photos: the wide window").
 */
export const WIDE_WINDOW = 1024;

/**
 * The default `startSize` for a photo of this size: the long side / 22, between 31 and 101 (35 for
 * a 768 px photo, 101 from about 2200 px). The sizes up to it are always estimated; it was the
 * default `maxSize` until the larger ladder became the default.
 */
export function defaultStartSize(width: number, height: number): number {
  return Math.min(101, Math.max(31, oddCeil(Math.max(width, height) / 22)));
}

/** Photos of at least this many pixels get a default `maxSize` of at least 101. */
const LARGE_KERNEL_PIXELS = 1_000_000;

/**
 * The largest `maxSize`, and the largest default (a tenth of a 4000 px short side). Defaults of
 * 161 and 301 px were measured (2400x1600 and 12 MP, training log, session 27); larger ones not.
 */
export const MAX_ESTIMATED_KERNEL_SIZE = 401;

/**
 * The default `maxSize` for a photo of this size. On photos of 1 MP or more, a tenth of the short
 * side (odd), at least 101 and at most {@link MAX_ESTIMATED_KERNEL_SIZE}: 101 up to a 1010 px
 * short side, 161 on a 2400x1600 photo, 301 on a 4000x3000 one (12 MP). Below 1 MP, a fifth of the short side, between the default start size
 * ({@link defaultStartSize}) and 101 (73 on a 360x480 photo, 101 from a 496 px short side). The
 * sizes above the start size are estimated only when the start kernel fills its support: through
 * `sgenet deblur`, a 12 MP photo under a 155 px camera path went from 13.28 dB aligned (99 px
 * found; blurry 14.63) to 21.52 dB (269 px) (BENCHMARKS.md, "Long shake on large photos"); a kernel
 * above 161 px is deconvolved in bounded tiles (`MAX_DECONVOLUTION_OVERLAP`).
 */
export function defaultMaxSize(width: number, height: number): number {
  if (width * height >= LARGE_KERNEL_PIXELS) return Math.min(MAX_ESTIMATED_KERNEL_SIZE, Math.max(101, oddCeil(Math.min(width, height) / 10)));
  return Math.min(101, Math.max(defaultStartSize(width, height), oddCeil(Math.min(width, height) / 5)));
}

export function resolveEstimateOptions(raw: unknown, width: number, height: number): ResolvedEstimateOptions {
  if (raw === undefined) raw = {};
  if (!isPlainObject(raw)) throw invalidOption('estimateKernel options', 'an object', raw);
  const maxSize = integerOption('maxSize', raw.maxSize, 5, MAX_ESTIMATED_KERNEL_SIZE, defaultMaxSize(width, height));
  if (maxSize % 2 === 0) throw invalidOption('maxSize', `an odd integer between 5 and ${MAX_ESTIMATED_KERNEL_SIZE}`, maxSize);
  let sizeShares = [0.8, 1];
  if (raw.sizeShares !== undefined) {
    const s = raw.sizeShares;
    if (!Array.isArray(s) || s.length < 1 || s.length > 6 || !s.every((v) => typeof v === 'number' && v >= 0.2 && v <= 1)) {
      throw invalidOption('sizeShares', 'an array of 1 to 6 numbers between 0.2 and 1', s);
    }
    sizeShares = [...(s as number[])];
  }
  const maxWorkingSize = integerOption('maxWorkingSize', raw.maxWorkingSize, 15, 101, DEFAULT_MAX_WORKING_SIZE);
  // Above a maxSize the photo's size chose, startSize is lowered to it; above an explicit one,
  // refused. Its default: the photo's start size under a defaulted maxSize (two ladders), the
  // maxSize itself under an explicit one (one ladder at the size asked for).
  const lowered = raw.maxSize === undefined && Number.isInteger(raw.startSize) && (raw.startSize as number) % 2 === 1 && (raw.startSize as number) > maxSize;
  const startDefault = raw.maxSize === undefined ? defaultStartSize(width, height) : maxSize;
  const startSize = integerOption('startSize', lowered ? maxSize : raw.startSize, 5, maxSize, startDefault);
  if (startSize % 2 === 0) throw invalidOption('startSize', `an odd integer between 5 and ${maxSize}`, startSize);
  // A large photo gets the wide window: its coarse levels see the whole working plane (up to
  // 1024 px), its finer ones their most textured 512 (`WIDE_WINDOW`).
  const large = defaultStartSize(width, height) > DEFAULT_MAX_WORKING_SIZE;
  const windowSize = integerOption('windowSize', raw.windowSize, 128, 1024, large ? WIDE_WINDOW : DEFAULT_WINDOW);
  const iterations = integerOption('iterations', raw.iterations, 1, 20, 5);
  const darkChannelPatch = integerOption('darkChannelPatch', raw.darkChannelPatch, 3, 101, 35);
  if (darkChannelPatch % 2 === 0) throw invalidOption('darkChannelPatch', 'an odd integer between 3 and 101', darkChannelPatch);
  const seedThreshold = numberOption('seedThreshold', raw.seedThreshold, 0, 1, 0.05);
  const tailThreshold = numberOption('tailThreshold', raw.tailThreshold, 0, seedThreshold, seedThreshold);
  const centre = raw.centre ?? 'support';
  if (centre !== 'support' && centre !== 'mass') throw invalidOption('centre', "one of 'support', 'mass'", centre);
  return {
    maxSize,
    sizeShares,
    windowSize,
    levelWindowSize: integerOption('levelWindowSize', raw.levelWindowSize, 128, windowSize, Math.min(windowSize, DEFAULT_WINDOW)),
    maxWorkingSize,
    startSize,
    lambda: numberOption('lambda', raw.lambda, 1e-4, 0.1, 2e-3),
    iterations,
    maxIterations: integerOption('maxIterations', raw.maxIterations, iterations, 40, iterations),
    kappa: numberOption('kappa', raw.kappa, 1.5, 8, 2 * Math.SQRT2),
    betaMax: numberOption('betaMax', raw.betaMax, 10, 1e8, 2.5e5),
    gamma: numberOption('gamma', raw.gamma, 0, 10, 0.2),
    seedThreshold,
    tailThreshold,
    darkChannel: numberOption('darkChannel', raw.darkChannel, 0, 0.1, 0),
    darkChannelPatch,
    linearLight: booleanOption('linearLight', raw.linearLight, false),
    saturation: numberOption('saturation', raw.saturation, 0.5, 1, 0.98),
    minConfidence: numberOption('minConfidence', raw.minConfidence, 0, 1, DEFAULT_MIN_CONFIDENCE),
    minSpectralEvidence: numberOption('minSpectralEvidence', raw.minSpectralEvidence, 0, 1, QUIET_MIN_SPECTRAL_EVIDENCE),
    regions: regionsOption(raw.regions),
    maxPeakDominance: numberOption('maxPeakDominance', raw.maxPeakDominance, 0.1, 255, 2.5),
    centre,
    workers: integerOption('workers', raw.workers, 1, 16, 16),
    onProgress: functionOption<ProgressCallback>('onProgress', raw.onProgress),
    signal: signalOption('signal', raw.signal),
  };
}
