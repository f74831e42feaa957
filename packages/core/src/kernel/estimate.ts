/**
 * Blind estimation of a uniform camera-shake kernel, coarse to fine on luminance, after Pan et al.
 * (2014, "Deblurring text images via L0-regularized intensity and gradient prior", code
 * `blind_deconv_main`), Xu, Zheng & Jia (2013) and the parameter study of Anger, Facciolo &
 * Delbracio (IPOL 2019):
 *
 *   for each pyramid level, coarse to fine (kernel side × 1/√2 per level, down to 5 px):
 *     repeat `iterations` times:
 *       S ← L0 latent of B under k          (latent.ts)
 *       k ← gradient least squares of S→B   (kernel-update.ts)
 *       k ← cleanup(k); λ ← max(λ / 1.1, 1e-4)   (cleanup.ts)
 *     k ← centred on its centre of mass, magnified to the next level
 *
 * It runs once per kernel size in `sizeShares` x `startSize` (on parallel worker threads; by
 * default a second ladder of sizes up to `maxSize` only when the first one's kernel fills its
 * support) and keeps the kernel
 * with the lowest blind score: the normalised sparsity ||∇x||₁/||∇x||₂ of the window deconvolved
 * with it times its re-blur residual (see blindScore, selectionScore). The identity kernel is
 * scored the same way; the confidence is the share of the identity's sparsity the kernel removes,
 * and below `minConfidence` (a sharp photo, or a failed estimate) the identity is returned unless
 * the photo's spectrum signs the kernel as a quiet camera path; the identity is also returned for
 * a dot with a faint streak (see guardVerdict). The result is centred on the midpoint of its support (option `centre`).
 */
import { throwIfAborted } from '../errors.js';
import { describeImage } from '../pixels/image.js';
import type { PixelLayout } from '../pixels/image.js';
import { luminancePlane, luminanceResized, resizePlane, srgbToLinear } from '../pixels/planes.js';
import type { Plane } from '../pixels/planes.js';
import type { BlurKernel, RawImage } from '../types.js';
import { centreKernel, identityKernel, resizeKernel, supportMidpoint } from './cleanup.js';
import { blindScore, blindScoreNoise, selectionScore } from './blind-score.js';
import type { CandidateScore, ScoredCandidate } from './blind-score.js';
import { buildLevel } from './coarse-to-fine.js';
import { candidateSteps, runCandidates, runCellPyramids, runCellTests, runRefinements, settingsOf } from './candidates.js';
import { refineThroughLevels } from './refine-task.js';
import type { Refined, RefineJob, RefineLevel } from './refine-task.js';
import { kernelAgreement } from './agreement.js';
import { effectiveTaps, guardVerdict, isNearIdentity, peakDominance } from './guard.js';
import type { KernelKeptBy } from './guard.js';
import type { Evidence } from './guard.js';
import { LARGE_LADDER_CONFIDENCE_MARGIN, LARGE_LADDER_MAX_ITERATIONS, LARGE_LADDER_MAX_PATH_WIDTH, LARGE_SIZE_SHARES, oddCeil, REFUSED_START_MAX_SIZE, resolveEstimateOptions } from './options.js';
import type { EstimateKernelOptions, ResolvedEstimateOptions } from './options.js';
import {
  gridCell, padToCommonSide, REGION_LEVEL_WINDOW, REGION_MAX_AGREEMENT, REGION_MIN_CORROBORATION, regionGridSide, widenedCell,
} from './regions.js';
import type { KernelGrid } from './regions.js';
import { spectralEvidence } from './spectral-evidence.js';
import { cropPlane as crop, fittedWindowSide, TextureMap } from './window.js';
import type { Window } from './window.js';

export type { CandidateScore };

/** What {@link estimateKernel} found. */
export interface KernelEstimate {
  /**
   * The blur kernel, odd square, non-negative, sum 1, centred as `centre` asks (default: the
   * midpoint of its support).
   */
  kernel: BlurKernel;
  width: number;
  height: number;
  /** 0 to 1: the share of the identity's blind score (normalised sparsity) the kernel removes. */
  confidence: number;
  /**
   * True when the identity was returned: confidence below `minConfidence` (for a kernel that is
   * not a quiet camera path: spread, at most mildly peaked, `spectralEvidence` ≥
   * `minSpectralEvidence`), a kernel within one tap of a dot, or a peak dominance above
   * `maxPeakDominance` without the spread, the agreement and the confidence or spectral evidence
   * of a camera path (a sharp photo, or a failed estimate; see `effectiveTaps`).
   */
  identity: boolean;
  /**
   * The kernel's brightest tap as a share of its mass, times its side: about 1 to 2 for camera
   * shake spread along a path, 3 or more for a dot with a faint streak (what the estimator finds
   * on a sharp photo with strong straight edges). Measured on the kernel before the fallback,
   * centred on its centre of mass and trimmed symmetrically (the returned `centre: 'mass'` kernel),
   * so it does not depend on `centre`.
   */
  peakDominance: number;
  /**
   * 1 / Σk² of the unit-sum kernel before the fallback (measured as `peakDominance` is): how many
   * equal taps would hold its energy. A dot with a faint streak has a few; a camera path, even
   * with a bright tap where the camera paused, has `SPREAD_TAPS` (10) or more.
   */
  effectiveTaps: number;
  /**
   * The least agreement (`kernelAgreement`: mean-removed NCC at the best shift of ±4 taps)
   * between the chosen size's estimate at the working scale (before any full-scale refinement)
   * and every other size's, each estimated from its own coarsest level; 0 when only one size was
   * tried (then a kernel above `maxPeakDominance` is always refused). Two sizes that find the same
   * path corroborate it.
   */
  sizeAgreement: number;
  /**
   * 0 to 1: how much of the direction-dependence of the photo's power spectrum the kernel (at the
   * working scale) explains, with 0 for none or worse: camera shake removes high frequencies along
   * its path, not across it. Independent of the blind score. On real shaken photos it is about
   * 0.2 to 0.7 (median 0.35 to 0.54 by benchmark folder); on sharp photos 0 for a dot, but up to
   * about 0.5 for a spurious streak, so alone it proves nothing. A spread kernel, unpeaked or
   * mildly peaked (see `maxPeakDominance`), whose `confidence` is too low is kept when this is
   * `minSpectralEvidence` (default 0.35) or more.
   */
  spectralEvidence: number;
  /**
   * Why the kernel was kept: `'confidence'` (at least `minConfidence`, and for a peaked kernel the
   * evidence of a camera path with a pause), `'spectral-evidence'` (a confidence too low, kept as
   * a quiet camera path on its `spectralEvidence`); null when the identity was returned.
   */
  keptBy: KernelKeptBy | null;
  /**
   * Present only when the larger ladder ran (`startSize` below `maxSize`, the default, and the
   * start kernel filled its support; above a `maxSize` of 101, also accepted by the guard). It
   * runs twice, at `maxIterations` and at {@link LARGE_LADDER_MAX_ITERATIONS} alternations per
   * level; `selection` holds the selection scores (sparsity x residual, lower is better) of the
   * start's kernel (`start`) and of those two (`larger`, `longer`), all on the start ladder's
   * window at its scale, one blind score for the three. The two are judged in turn, the lower
   * scoring first, and the first kept is the one reported (where neither is, the lower scoring):
   * its `iterations` and `confidence`; when it scored lower than the start's or its confidence is
   * at most {@link LARGE_LADDER_CONFIDENCE_MARGIN} below the start's, and the guard accepted it,
   * its `pathWidth` (effective taps / side, at most {@link LARGE_LADDER_MAX_PATH_WIDTH} to be
   * kept); and whether it was returned (not when it was a cloud, or no longer than the start's
   * where the start had room). `confidence`,
   * `sizeAgreement`, `spectralEvidence` and `scores` are those of the ladder whose kernel was
   * returned.
   */
  largerLadder?: {
    confidence: number; iterations: number; selection: { start: number; larger: number; longer: number }; pathWidth?: number; kept: boolean;
  };
  /**
   * The blind scores behind the choice: each kernel size tried, and the identity (when the
   * larger ladder ran, those of the ladder whose kernel was returned).
   */
  scores: { identity: CandidateScore; candidates: CandidateScore[] };
  /**
   * Per-region kernels, present only when the shake is found to vary over the photo (option
   * `regions`): a grid of cells, each with the photo's `kernel` or its own. `deconvolve`, and
   * `deblur` as its `kernel` option, take it in place of `kernel`.
   */
  grid?: KernelGrid;
}

/** Largest photo the estimator accepts, in pixels (sharp's default limit). */
const MAX_PIXELS = 0x3fff * 0x3fff;

/** Cuts zero margins symmetrically, keeping the centre tap in the centre. */
function trimKernel(k: Float64Array, size: number): { data: Float64Array; size: number } {
  const c = (size - 1) / 2;
  let r = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (k[y * size + x]! > 0) r = Math.max(r, Math.abs(x - c), Math.abs(y - c));
    }
  }
  const side = 2 * r + 1;
  const out = new Float64Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] = k[(y + c - r) * size + (x + c - r)]!;
  return { data: out, size: side };
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Estimates the camera-shake blur kernel of a photo, blind.
 *
 * Deterministic: the same pixels and options give the same kernel. Runs on luminance in a window
 * of at most `windowSize`² px chosen by texture; a ladder whose largest size exceeds
 * `maxWorkingSize` is estimated downscaled, then refined level by level up to full scale.
 *
 * @example
 * ```ts
 * import { estimateKernel } from '@sgenet/core';
 * const { kernel, confidence } = await estimateKernel({ data, width, height, channels: 3 });
 * console.log(`${kernel.width}x${kernel.height} kernel, confidence ${confidence.toFixed(2)}`);
 * ```
 */
export async function estimateKernel(image: RawImage, options?: EstimateKernelOptions): Promise<KernelEstimate> {
  const layout = describeImage(image, MAX_PIXELS);
  const opts = resolveEstimateOptions(options, layout.width, layout.height);
  throwIfAborted(opts.signal);
  // The driver, step by step (each a function below; steps 3 to 5 report progress):
  //   1. plan     the working scale, the kernel sizes to try, whether a refinement follows;
  //               the progress total is counted from it
  //   2. window   the working plane (luminance, downscaled for a large kernel), its most
  //               textured window and the σ its blind scores use (at least 0.005)
  //   3. score    every size coarse to fine (on worker threads) and scored; the identity scored
  //   4. select   the lowest selection score, and the confidence against the identity
  //   5. refine   up to full scale, ×√2 per level, when step 1 planned it (the photo was
  //               estimated downscaled)
  //   5b. larger  with `startSize` below `maxSize`, steps 1 to 5 ran for the start sizes; when
  //               that kernel fills its support (and above 101 px the guard accepted it: step 6
  //               is asked of the start first), they run again for LARGE_SIZE_SHARES x maxSize,
  //               twice: at maxIterations and at LARGE_LADDER_MAX_ITERATIONS alternations
  //               (progress: the three ladders are counted, and what did not run is reported at
  //               the end)
  //   5c. compare the three kernels under one blind score on the start's window at its scale;
  //               the larger ladder's two judged in turn, the better scoring first: one goes on
  //               when it scores below the start's or its confidence is within the margin, and
  //               is kept on the guard's verdict, its path width (a camera path, not a cloud)
  //               and its length (longer than the start's, unless the start had no room); where
  //               neither is kept, the start's is guarded
  //   6. guard    the identity for an unconvincing kernel (confidence, peak, spread, the other
  //               sizes' agreement, the photo's spectrum), else the kernel centred and trimmed
  //   7. regions  per-region kernels where the photo's kernel is found and the plan has a grid:
  //               each cell runs its own pyramid in its own window (the corners first; the
  //               others only when a corner disagrees), and keeps its own kernel where four
  //               tests say the shake differs there (regions.ts; progress: a pyramid's steps
  //               per cell, and one per cell for a refinement, padded for cells not run)
  const saturation = opts.linearLight ? srgbToLinear(opts.saturation) : opts.saturation;
  const startOpts = opts.startSize < opts.maxSize ? { ...opts, maxSize: opts.startSize } : opts;
  const largeOpts = startOpts === opts ? undefined : { ...opts, sizeShares: [...LARGE_SIZE_SHARES] };
  // The larger ladder twice: at the call's alternations and at LARGE_LADDER_MAX_ITERATIONS.
  const longerOpts = largeOpts && { ...largeOpts, maxIterations: Math.max(opts.maxIterations, LARGE_LADDER_MAX_ITERATIONS) };
  const startPlan = planEstimation(startOpts, layout);
  const largePlan = largeOpts && planEstimation(largeOpts, layout);
  const progress = progressStep(opts, progressTotal(startPlan) + (largePlan ? progressTotal(largePlan) + ladderSteps(largePlan) : 0));
  const start = await estimateLadder({ image, layout, opts: startOpts, plan: startPlan, saturation, step: progress.step });
  throwIfAborted(opts.signal);
  const startGuarded = guardLadder(start, opts);
  const runsLarger = largeOpts && longerOpts && largePlan && largerLadderRuns(start, startGuarded.guarded.identity, opts.maxSize);
  const first = runsLarger ? await estimateLadder({ image, layout, opts: largeOpts, plan: largePlan, saturation, step: progress.step }) : undefined;
  // Where the call already asks for as many alternations, the second run would be the first again.
  const larger = first && longerOpts && largePlan
    ? [first, longerOpts.maxIterations === largeOpts.maxIterations
      ? first
      : await estimateLadder({ image, layout, opts: longerOpts, plan: largePlan, saturation, step: progress.step })] as const
    : undefined;
  const contest = larger && startAgainstLarger(start, larger);
  // The larger ladder's two kernels in turn, the better explanation of the start's window first:
  // the first that step 5c keeps is returned; where neither is, the first is reported.
  const order = larger && contest
    ? [{ ladder: larger[0], selection: contest.larger }, { ladder: larger[1], selection: contest.longer }]
      .filter(({ ladder }, i) => i === 0 || ladder !== larger[0])
      .sort((a, b) => a.selection - b.selection)
    : [];
  let judged: { ladder: Ladder; kept?: ReturnType<typeof guardLadder>; width?: number } | undefined;
  for (const { ladder, selection } of order) {
    const outcome = { ladder, ...judgeLarger(ladder, selection, start, contest!.start, startGuarded.guarded.identity, opts) };
    judged ??= outcome;
    if (outcome.kept) {
      judged = outcome;
      break;
    }
  }
  const large = judged?.ladder;
  const width = judged?.width;
  const { ladder: chosen, agreement, spectral, guarded } = judged?.kept ?? startGuarded;
  const { window, best, confidence } = chosen;
  const grid = await estimateRegions(chosen.run, window, best.kernel, best.score.size, guarded);
  // The ladder not run planned steps that never came: the progress still reaches its total.
  progress.finish();
  return {
    kernel: guarded.kernel,
    width: guarded.kernel.width,
    height: guarded.kernel.height,
    confidence,
    identity: guarded.identity,
    peakDominance: guarded.peakDominance,
    effectiveTaps: guarded.effectiveTaps,
    sizeAgreement: agreement,
    spectralEvidence: spectral,
    keptBy: guarded.keptBy,
    scores: { identity: chosen.scored.identity, candidates: chosen.scored.candidates.map((c) => c.score) },
    ...(large && contest ? {
      largerLadder: {
        confidence: large.confidence, iterations: large.run.opts.maxIterations, selection: contest,
        ...(width !== undefined ? { pathWidth: width } : {}), kept: chosen === large,
      },
    } : {}),
    ...(grid ? { grid } : {}),
  };
}

/** What one estimation does (step 1), fixed before any work: the driver walks it. */
interface EstimationPlan {
  /** Working scale: 1, or less when `maxSize` exceeds `maxWorkingSize` (then a refinement follows). */
  scale: number;
  /** The kernel side at the working scale: every candidate comes back centred in this square. */
  workMax: number;
  /** The candidate kernel sides at the working scale, ascending, each once. */
  sizes: number[];
  /** Step 5 runs: the photo is estimated downscaled. */
  refine: boolean;
  /** Step 7's grid side (cells across and down; 0: no grid). */
  regions: number;
}

function planEstimation(opts: ResolvedEstimateOptions, layout: PixelLayout): EstimationPlan {
  const scale = Math.min(1, opts.maxWorkingSize / opts.maxSize);
  const workMax = scale < 1 ? opts.maxWorkingSize : opts.maxSize;
  const sizes = [...new Set(opts.sizeShares.map((s) => Math.max(5, oddCeil(workMax * s))))].sort((a, b) => a - b);
  const [workWidth, workHeight] = workingPlaneSize(layout, scale);
  return { scale, workMax, sizes, refine: scale < 1, regions: regionGridSide(opts.regions, workWidth, workHeight, workMax) };
}

/** The working plane's size: the photo's at `scale`. */
function workingPlaneSize(layout: PixelLayout, scale: number): [number, number] {
  return scale < 1
    ? [Math.max(1, Math.round(layout.width * scale)), Math.max(1, Math.round(layout.height * scale))]
    : [layout.width, layout.height];
}

/**
 * The progress steps of a plan, as the steps that walk it report them: step 3's (`candidateSteps`:
 * per size, its start and one per pyramid level), step 4's one, and step 5's one when planned.
 */
function progressTotal(plan: EstimationPlan): number {
  const regions = regionSteps(plan);
  return ladderSteps(plan) + regions.pyramids + regions.refinements;
}

/** Steps 3 to 5's progress steps for one ladder of a plan (step 7's are counted once per call). */
function ladderSteps(plan: EstimationPlan): number {
  return candidateSteps(plan.sizes) + 1 + (plan.refine ? 1 : 0);
}

/**
 * Step 7's progress steps: a pyramid per cell at the largest size tried (the size chosen may be
 * smaller, and where the corners agree with the photo's kernel the other cells do not run; step 7
 * then reports the rest at once), and with a refinement planned one per cell for its refinement
 * up to full scale (reported for every cell, refined or not), so the total is reached.
 */
function regionSteps(plan: EstimationPlan): { pyramids: number; refinements: number } {
  const cells = plan.regions * plan.regions;
  return {
    pyramids: cells === 0 ? 0 : candidateSteps(new Array<number>(cells).fill(plan.sizes[plan.sizes.length - 1]!)),
    refinements: plan.refine ? cells : 0,
  };
}

/** One ladder's state (two per call when the larger ladder runs), shared by its steps. */
interface Run {
  image: RawImage;
  layout: PixelLayout;
  opts: ResolvedEstimateOptions;
  plan: EstimationPlan;
  /** `opts.saturation` on the working plane's scale (linear light or not). */
  saturation: number;
  /** Reports one progress step, yields to the event loop, then throws if the call was aborted. */
  step: () => Promise<void>;
}

/**
 * Reports one progress step per `step()`, then yields and honours an abort; `finish()` reports
 * what is left of `total` at once (the estimate is done: an abort no longer rejects it).
 */
function progressStep(opts: ResolvedEstimateOptions, total: number): { step: () => Promise<void>; finish: () => void } {
  let done = 0;
  const step = async () => {
    done++;
    opts.onProgress?.({ done, total });
    await nextTick();
    throwIfAborted(opts.signal);
  };
  // `done` counts apart from the call: `onProgress?.(…)` skips its arguments without a listener.
  return { step, finish: () => { while (done < total) { done++; opts.onProgress?.({ done, total }); } } };
}

/** Steps 2 to 5 for one ladder of kernel sizes: what the later steps choose from and read. */
interface Ladder {
  run: Run;
  window: WorkingWindow;
  scored: { identity: CandidateScore; candidates: ScoredCandidate[] };
  best: ScoredCandidate;
  confidence: number;
  /** The chosen kernel at full scale, centred in a `size` square. */
  refined: { kernel: Float64Array; size: number };
}

async function estimateLadder(run: Run): Promise<Ladder> {
  const window = workingWindow(run);
  const scored = await scoreCandidates(run, window);
  const { best, confidence } = await selectCandidate(run, scored);
  const refined = run.plan.refine
    ? await refineUpToFullScale(run, window.texture, best.kernel)
    : { kernel: best.kernel, size: run.plan.workMax };
  if (run.plan.refine) await run.step();
  return { run, window, scored, best, confidence, refined };
}

/**
 * Step 6 for one ladder: the other sizes' agreement, the spectral evidence and the guard's
 * verdict on its kernel.
 */
function guardLadder(ladder: Ladder, opts: ResolvedEstimateOptions): { ladder: Ladder; agreement: number; spectral: number; guarded: ReturnType<typeof guardAndCentre> } {
  const { window, scored, best, confidence, refined, run: { plan } } = ladder;
  const agreement = sizeAgreement(best, scored.candidates, plan.workMax);
  // Measured on the working plane with the working-scale kernel (the refined kernel differs by
  // its finer detail, which the spectrum's bands do not resolve): work done once, on what exists.
  const spectral = spectralEvidence(window.work, best.kernel, plan.workMax);
  const guarded = guardAndCentre(refined.kernel, refined.size, { confidence, agreement, spectral }, opts);
  return { ladder, agreement, spectral, guarded };
}

/**
 * Step 5b: whether the larger ladder runs (exported for its unit test; not part of the package's
 * entry point). The start ladder's kernel fills its support
 * ({@link fillsSupport}), and above a `maxSize` of {@link REFUSED_START_MAX_SIZE} the guard
 * accepted it: there a refused start stays refused, as a 101-300 px search on a photo without
 * convincing shake within 101 px costs 13-20 s at 2400x1600 and its false kernels ring across
 * the photo (the test chart: four 157-161 px kernels that lost 1.9-2.4 dB).
 */
export function largerLadderRuns(start: Ladder, startRefused: boolean, maxSize: number): boolean {
  return fillsSupport(start) && (maxSize <= REFUSED_START_MAX_SIZE || !startRefused);
}

/**
 * Whether the start ladder's kernel fills its support, its side (trimmed around its
 * support's midpoint) within 2 px of the candidate's: a kernel perhaps cut off by its support, so
 * the camera path may be longer. Not proof: a 23-29 px kernel fills a 25 or 31 px candidate
 * without being truncated (13 of the dev benchmark's 192 pairs), where the start's kernel stands
 * unless one of the larger ladder's passes step 5c ({@link judgeLarger}).
 */
function fillsSupport({ best, run: { plan } }: Ladder): boolean {
  // Measured at the working scale, where the candidate's side is known, centred on the support's
  // midpoint (whatever `centre` asks: the support's extent is what may be cut off).
  return supportCentred(best.kernel, plan.workMax).size >= best.score.size - 2;
}

/**
 * Step 5c: whether the larger ladder's kernel may replace the start's. A longer kernel (or any,
 * where the guard refused the start's) is what the larger ladder looks for: the path the start's
 * support cut off. A kernel no longer than the start's is a second opinion on the same path, made
 * at a coarser scale; it stands only where the start ladder had no room, its kernel filling the
 * start size itself (its largest candidate). Where the start picked a smaller candidate, the
 * larger one beside it had room and lost the blind score, so the start's kernel stands: a
 * portrait (real/real_img2, real-lai/face2) got ghost contours across the face from such a second
 * opinion, and on the harder set the no-longer kernels won where the start had no room (+5.75,
 * +4.94 dB; training log, session 26). Lengths are the full-scale kernels' extents around their
 * support's midpoint (what `centre: 'support'` returns), whatever `centre` asks. No tolerance: a
 * second opinion one odd step (2 px) longer counts as longer, as it did in the runs that set this.
 */
export function secondOpinionAllowed(larger: Ladder, start: Ladder, startRefused: boolean): boolean {
  const extent = ({ refined }: Ladder): number => supportCentred(refined.kernel, refined.size).size;
  if (startRefused || extent(larger) > extent(start)) return true;
  return start.best.score.size === Math.max(...start.run.plan.sizes);
}

/**
 * Step 5c: one of the larger ladder's kernels judged. It goes on to the guard when it explains the
 * start's window better than the start's kernel ({@link startAgainstLarger}) or its confidence is
 * at most {@link LARGE_LADDER_CONFIDENCE_MARGIN} below the start's; it is kept when the guard
 * accepts it, it is a path rather than a cloud ({@link LARGE_LADDER_MAX_PATH_WIDTH}) and
 * {@link secondOpinionAllowed} lets it replace the start's. `width` is its path width where the
 * guard accepted it.
 */
function judgeLarger(
  large: Ladder, selection: number, start: Ladder, startSelection: number, startRefused: boolean, opts: ResolvedEstimateOptions,
): { kept?: ReturnType<typeof guardLadder>; width?: number } {
  if (!(selection < startSelection || large.confidence >= start.confidence - LARGE_LADDER_CONFIDENCE_MARGIN)) return {};
  const candidate = guardLadder(large, opts);
  if (candidate.guarded.identity) return {};
  // The path width from the guard's own count of effective taps (trimming moves no mass).
  const width = candidate.guarded.effectiveTaps / candidate.guarded.kernel.width;
  // A larger ladder whose kernel the guard refuses gives way to the start's kernel, which is what
  // the estimator returned before it looked further (real/toy and the harder set's low light
  // #11 lost their kernel so; training log, session 21); so does one whose kernel is a cloud, not
  // a path, and one no longer than the start's where the start had room.
  const kept = width <= LARGE_LADDER_MAX_PATH_WIDTH && secondOpinionAllowed(large, start, startRefused) ? candidate : undefined;
  return { ...(kept ? { kept } : {}), width };
}

/**
 * Step 5c, first: the three kernels under one blind score. Each ladder's confidence is measured
 * against the identity at its own scale, and a coarser scale leaves less blur to remove, so the
 * larger ladder's confidence reads lower whether its kernel is right or not (0.10-0.15 below a
 * wrong start's on the harder set's test chart). Here the full-scale kernels of the start ladder
 * and of the larger ladder at both alternation budgets are brought to the start ladder's scale
 * (the finer one) and scored on its window at its σ, in one field wide enough for the larger: the
 * lower selection score ({@link selectionScore}) is the better explanation of the same pixels.
 * Exported for its unit test; not part of the package's entry point.
 */
export function startAgainstLarger(start: Ladder, [larger, longer]: readonly [Ladder, Ladder]): { start: number; larger: number; longer: number } {
  const { plan: { scale }, saturation } = start.run;
  const side = Math.max(start.run.plan.workMax, oddCeil(Math.max(larger.refined.size, longer.refined.size) * scale));
  const level = buildLevel(start.window.plane, side, saturation);
  const score = ({ refined }: Ladder): number =>
    selectionScore(blindScore(level, resizeKernel(refined.kernel, refined.size, side, scale), side, start.window.sigma));
  const largerScore = score(larger);
  // One ladder twice where the call already asked for as many alternations: scored once.
  return { start: score(start), larger: largerScore, longer: longer === larger ? largerScore : score(longer) };
}

/**
 * Step 2: the working plane (the photo's luminance, downscaled when the kernel would be too
 * large), its most textured window and the noise σ its blind scores use (blindScoreNoise: the
 * window's own, at least BLIND_SCORE_MIN_NOISE).
 */
function workingWindow({ image, layout, opts, plan, saturation }: Run): WorkingWindow {
  const { scale, workMax } = plan;
  const [workWidth, workHeight] = workingPlaneSize(layout, scale);
  const work = scale < 1
    ? luminanceResized(image, layout, workWidth, workHeight, opts.linearLight)
    : luminancePlane(image, layout, undefined, opts.linearLight);
  const side = fittedWindowSide(opts.windowSize, workMax);
  const texture = new TextureMap(work, saturation);
  const plane = crop(work, texture.mostTextured(side, side));
  return { work, texture, plane, sigma: blindScoreNoise(plane) };
}

/** Step 2's result: the working plane, its texture map, the window estimated on and the σ it is scored at. */
interface WorkingWindow {
  work: Plane;
  /** The working plane's texture, summed once: steps 5 and 7 search their windows in it. */
  texture: TextureMap;
  plane: Plane;
  sigma: number;
}

/**
 * Step 3 (progress: `candidateSteps`): every candidate size estimated and scored (runCandidates:
 * on worker threads when it can), and the identity scored on this thread meanwhile. Every
 * candidate comes back centred in a `workMax` square, scored on the same field as the identity.
 */
async function scoreCandidates(
  run: Run, window: { plane: Plane; sigma: number },
): Promise<{ identity: CandidateScore; candidates: ScoredCandidate[] }> {
  const { opts, plan: { sizes, workMax }, saturation } = run;
  const scoreLevel = buildLevel(window.plane, workMax, saturation);
  const running = runCandidates(window.plane, sizes, workMax, opts, saturation, window.sigma, scoreLevel, run.step);
  running.catch(() => undefined); // awaited below; an abort must not surface as unhandled meanwhile
  const identity = blindScore(scoreLevel, identityKernel(workMax), workMax, window.sigma);
  return { identity, candidates: await running };
}

/**
 * Step 4 (one progress step): the candidate with the lowest selection score, and the confidence:
 * the share of the identity's sparsity it removes.
 */
async function selectCandidate(
  run: Run, scored: { identity: CandidateScore; candidates: ScoredCandidate[] },
): Promise<{ best: ScoredCandidate; confidence: number }> {
  await run.step();
  const best = scored.candidates.reduce((a, b) => (selectionScore(b.score) < selectionScore(a.score) ? b : a));
  // A flat or one-colour window scores 0 for every kernel (0 / 0): no evidence of blur, confidence 0.
  const removed = 1 - best.score.sparsity / scored.identity.sparsity;
  const confidence = Number.isFinite(removed) ? Math.max(0, Math.min(1, removed)) : 0;
  return { best, confidence };
}

/**
 * Step 4, continued: the least agreement of the chosen candidate with every other size's (all
 * centred in one `workMax` square); 0 without another size, which corroborates nothing.
 */
function sizeAgreement(best: ScoredCandidate, candidates: ScoredCandidate[], workMax: number): number {
  const others = candidates.filter((c) => c !== best);
  if (others.length === 0) return 0;
  return Math.min(...others.map((c) => kernelAgreement(best.kernel, c.kernel, workMax)));
}

/**
 * Step 5 (one progress step, reported by the driver): the working-scale kernel magnified and refined level by level up
 * to full scale (the pyramid continued, ×√2 per level; refine-task.ts), on this thread.
 */
async function refineUpToFullScale(run: Run, texture: TextureMap, kernel: Float64Array): Promise<Refined> {
  return refineThroughLevels(refineJob(run, texture, kernel), async () => {
    await nextTick();
    throwIfAborted(run.opts.signal);
  });
}

/**
 * What a refinement up to full scale needs: the kernel and, per level, a window of the same
 * scene, the most textured one, found on the working plane and read at that level's resolution
 * (only that window: a 12 MP luminance is 96 MB). For a cell of step 7, the window is searched
 * within the cell's bounds and sized by the cells' smaller level window. The windows are read
 * here (the photo stays on this thread); the levels can then run anywhere.
 */
function refineJob(run: Run, texture: TextureMap, kernel: Float64Array, cell?: { bounds: Window; levelWindowSize: number }): RefineJob {
  const { image, layout, opts, plan: { scale, workMax }, saturation } = run;
  const bounds = cell?.bounds;
  const levelWindowSize = cell?.levelWindowSize ?? opts.levelWindowSize;
  // The pyramid goes on above the working scale: one level per factor of √2 up to the photo's
  // own scale (a 101 px kernel estimated at 55 px is magnified 1.84x: two levels, not one jump).
  const levels: RefineLevel[] = [];
  for (const s of refineScales(scale)) {
    throwIfAborted(opts.signal);
    const levelSize = s === 1 ? opts.maxSize : oddCeil(workMax * s / scale);
    const side = fittedWindowSide(Math.min(1024, Math.round(levelWindowSize * s / scale)), levelSize);
    const w = Math.max(1, Math.round(layout.width * s)), h = Math.max(1, Math.round(layout.height * s));
    const refineSide = Math.min(side, w, h);
    const searchSide = Math.max(1, Math.round(refineSide * scale / s));
    const found = texture.mostTextured(searchSide, searchSide, bounds);
    const place = (v: number, length: number) => Math.max(0, Math.min(length - refineSide, Math.round(v * s / scale)));
    const window = { x: place(found.x, w), y: place(found.y, h), width: refineSide, height: refineSide };
    const plane = s === 1 ? luminancePlane(image, layout, window, opts.linearLight)
      : (window.width / s) * (window.height / s) <= w * h ? luminanceWindowResized(run, window, s)
        // With options far from the defaults the window's area at full scale outgrows this level's
        // whole plane; then the plane (built in strips) is the smaller read.
        : crop(luminanceResized(image, layout, w, h, opts.linearLight), window);
    levels.push({ ...plane, levelSize, scale: s });
  }
  return { levels, kernel, size: workMax, workScale: scale, settings: settingsOf(opts), saturation };
}

/**
 * The luminance of `window` of the photo scaled by `s` < 1, read from the photo's own pixels under
 * it (memory bounded by the window, not the photo).
 */
function luminanceWindowResized({ image, layout, opts }: Run, window: Window, s: number): Plane {
  const x = Math.min(layout.width - 1, Math.round(window.x / s));
  const y = Math.min(layout.height - 1, Math.round(window.y / s));
  const region = {
    x, y,
    width: Math.max(1, Math.min(layout.width - x, Math.round(window.width / s))),
    height: Math.max(1, Math.min(layout.height - y, Math.round(window.height / s))),
  };
  return resizePlane(luminancePlane(image, layout, region, opts.linearLight), window.width, window.height);
}

/** The scales of the refinement levels above the working scale: ×√2 each, the last 1. */
function refineScales(scale: number): number[] {
  const out: number[] = [];
  for (let s = scale * Math.SQRT2; s < 0.95; s *= Math.SQRT2) out.push(s);
  out.push(1);
  return out;
}

/**
 * Step 6: the identity when the kernel does not convince (mass within one tap of its centre, or
 * no verdict from guardVerdict: a dot with a streak, or neither the blind score nor the spectrum
 * in its favour); else the kernel centred as `centre` asks and trimmed to its support.
 */
function guardAndCentre(
  kernel: Float64Array, size: number, evidence: Evidence, opts: ResolvedEstimateOptions,
): { kernel: BlurKernel; identity: boolean; keptBy: KernelKeptBy | null; peakDominance: number; effectiveTaps: number } {
  // The guard measures the kernel as the estimator leaves it, centred on its mass: its threshold
  // was set on kernels trimmed that way, and a trim around the support would be tighter.
  const massCentred = trimKernel(kernel, size);
  const dominance = peakDominance(massCentred.data, massCentred.size);
  const taps = effectiveTaps(massCentred.data);
  const estimated = opts.centre === 'support' ? centredAsAsked(kernel, size, opts) : massCentred;
  const keptBy = isNearIdentity(kernel, size) ? null : guardVerdict(dominance, taps, evidence, opts);
  const identity = keptBy === null;
  const trimmed = identity ? { data: identityKernel(1), size: 1 } : estimated;
  return {
    kernel: asBlurKernel(trimmed),
    identity,
    keptBy,
    peakDominance: dominance,
    effectiveTaps: taps,
  };
}


/** A kernel centred as `centre` asks (its support's midpoint, or its mass) and trimmed to its support. */
function centredAsAsked(kernel: Float64Array, size: number, opts: ResolvedEstimateOptions): { data: Float64Array; size: number } {
  return opts.centre === 'support' ? supportCentred(kernel, size) : trimKernel(centreKernel(kernel, size), size);
}

/** A kernel centred on the midpoint of its support and trimmed to it. */
function supportCentred(kernel: Float64Array, size: number): { data: Float64Array; size: number } {
  return trimKernel(centreKernel(kernel, size, supportMidpoint(kernel, size)), size);
}

function asBlurKernel(k: { data: Float64Array; size: number }): BlurKernel {
  return { width: k.size, height: k.size, data: Float32Array.from(k.data) };
}

/**
 * Step 7 (regions.ts; progress as `regionSteps` counts): each cell of the plan's grid runs an
 * independent pyramid at the photo's chosen size in its own window, widened into its neighbours
 * (the four corners first; the others only when a corner disagrees with the photo's kernel), and
 * keeps its own kernel where the four tests pass ({@link passesCheapTests}, cell-task.ts); a kept
 * kernel is refined up to full scale in that window as the photo's was (refine-task.ts; on
 * worker threads, as the pyramids and the tests are). Undefined without a grid:
 * the photo's kernel is the identity, the plan has none, or no cell keeps its own.
 */
async function estimateRegions(
  run: Run, { work, texture }: WorkingWindow, photoKernel: Float64Array, photoSize: number, photo: { kernel: BlurKernel; identity: boolean },
): Promise<KernelGrid | undefined> {
  const { layout, opts, plan: { regions: n, workMax, refine }, saturation } = run;
  if (n === 0) return undefined;
  const planned = regionSteps(run.plan);
  let stepsLeft = planned.pyramids + planned.refinements;
  const step = async () => { stepsLeft--; await run.step(); };
  const finishSteps = async (keep = 0) => { while (stepsLeft > keep) await step(); };
  if (photo.identity) {
    // A sharp photo has no grid; its progress still reaches the total.
    await finishSteps();
    return undefined;
  }
  // 1. Each cell's window, widened into its neighbours, and its noise σ (work done once per cell:
  //    its pyramid and every score below read them).
  const side = fittedWindowSide(opts.windowSize, workMax);
  const windowOf = (i: number) => {
    const bounds = widenedCell(gridCell(i % n, Math.floor(i / n), n, n, work.width, work.height), work.width, work.height);
    const plane = crop(work, texture.mostTextured(side, side, bounds));
    return { bounds, window: plane, sigma: blindScoreNoise(plane) };
  };
  // 2. An independent pyramid per cell at the photo's chosen size (on worker threads; a cell
  //    refined from the photo's kernel stays in its basin: two shakes 60° apart, agreement 0.9),
  //    its fine levels on windows of at most REGION_LEVEL_WINDOW. The corners first: shake that
  //    varies over a frame (a small rotation plus translation) varies smoothly, most between its
  //    corners, so where all four corners find the photo's kernel the shake is uniform and the
  //    other cells are not estimated (work done only where it can change the answer: 4 pyramids
  //    of 9 on a 3x3 grid).
  const cellOpts = { ...opts, levelWindowSize: Math.min(opts.levelWindowSize, REGION_LEVEL_WINDOW) };
  const cellCount = n * n;
  const corners = [...new Set([0, n - 1, cellCount - n, cellCount - 1])];
  const windows = new Array<ReturnType<typeof windowOf>>(cellCount);
  const found = new Array<Float64Array>(cellCount);
  // Each cell's agreement with the photo's kernel, measured once: the corners' decide whether the
  // others run, and every cell's is test 1 and the grid's `agreement`.
  const agreements = new Array<number>(cellCount);
  const estimateCells = async (cells: readonly number[]) => {
    for (const i of cells) windows[i] = windowOf(i);
    const kernels = await runCellPyramids(cells.map((i) => windows[i]!), photoSize, workMax, cellOpts, saturation, step);
    cells.forEach((i, j) => {
      found[i] = kernels[j]!;
      agreements[i] = kernelAgreement(kernels[j]!, photoKernel, workMax);
    });
  };
  await estimateCells(corners);
  if (corners.every((i) => agreements[i]! >= REGION_MAX_AGREEMENT)) {
    await finishSteps();
    return undefined;
  }
  const rest = Array.from({ length: cellCount }, (_, i) => i).filter((i) => !corners.includes(i));
  if (rest.length > 0) await estimateCells(rest);
  await finishSteps(planned.refinements);
  // 3. The four tests per cell: the two cheap ones here, the blind scores (three deconvolutions
  //    of the cell's window) only for the cells that pass them, on worker threads.
  const cheap = windows.map((w, i) => {
    const own = found[i]!;
    const agreement = agreements[i]!;
    const corroboration = Math.max(...gridNeighbours(i, n).map((j) => kernelAgreement(own, found[j]!, workMax)));
    return { own, agreement, w, passed: passesCheapTests(own, { agreement, corroboration }, workMax) };
  });
  const tested = cheap.filter((c) => c.passed);
  const verdicts = await runCellTests(tested.map(({ own, w }) => ({
    width: w.window.width, height: w.window.height, data: w.window.data, own, photoKernel, size: workMax,
    saturation, sigma: w.sigma, minConfidence: opts.minConfidence,
  })), opts);
  const kept = new Set(tested.filter((_, j) => verdicts[j]));
  const cells = cheap.map((c) => ({ own: kept.has(c) ? c.own : undefined, agreement: c.agreement, bounds: c.w.bounds }));
  if (!cells.some((c) => c.own)) {
    await finishSteps();
    return undefined;
  }
  // 4. Each kept kernel refined up to full scale in its cell's window, as the photo's was (on
  //    worker threads; the windows are read here, where the photo is).
  const keptCells = cells.flatMap((c) => (c.own ? [{ own: c.own, bounds: c.bounds }] : []));
  const refined = refine
    ? await runRefinements(keptCells.map((c) => refineJob(run, texture, c.own, { bounds: c.bounds, levelWindowSize: cellOpts.levelWindowSize })), opts, step)
    : keptCells.map((c) => ({ kernel: c.own, size: workMax }));
  let next = 0;
  const kernels = cells.map((c) => {
    if (!c.own) return photo.kernel;
    const full = refined[next++]!;
    return asBlurKernel(centredAsAsked(full.kernel, full.size, opts));
  });
  await finishSteps();
  return {
    columns: n, rows: n, width: layout.width, height: layout.height,
    kernels: padToCommonSide(kernels),
    own: cells.map((c) => c.own !== undefined),
    agreement: cells.map((c) => c.agreement),
  };
}

/** The 4-neighbours of cell `i` of an n x n grid. */
function gridNeighbours(i: number, n: number): number[] {
  const row = Math.floor(i / n), column = i % n;
  return [[row - 1, column], [row + 1, column], [row, column - 1], [row, column + 1]]
    .filter(([r, c]) => r! >= 0 && r! < n && c! >= 0 && c! < n).map(([r, c]) => r! * n + c!);
}

/**
 * Step 7's two cheap tests of a cell's own kernel (regions.ts): it disagrees with the photo's
 * (agreement below {@link REGION_MAX_AGREEMENT}) and a neighbouring cell's own pyramid found the
 * same path (agreement {@link REGION_MIN_CORROBORATION} or more), and it is not within a tap of a
 * dot. Tests 3 and 4, the blind scores (cell-task.ts: the cell's window prefers it by
 * REGION_MIN_GAIN on both measures, and it is blur), run only for a cell that passes these: work
 * done only where it can change the answer.
 */
function passesCheapTests(own: Float64Array, evidence: { agreement: number; corroboration: number }, size: number): boolean {
  return evidence.agreement < REGION_MAX_AGREEMENT && evidence.corroboration >= REGION_MIN_CORROBORATION && !isNearIdentity(own, size);
}
