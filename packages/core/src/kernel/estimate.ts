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
 * It runs once per kernel size in `sizeShares` (on parallel worker threads) and keeps the kernel
 * with the lowest blind score: the normalised sparsity ||∇x||₁/||∇x||₂ of the window deconvolved
 * with it times its re-blur residual (see blindScore, selectionScore). The identity kernel is
 * scored the same way; the confidence is the share of the identity's sparsity the kernel removes,
 * and below `minConfidence` (a sharp photo, or a failed estimate) the identity is returned, as it
 * is for a kernel dominated by one tap (see peakDominance). The result is centred on the
 * midpoint of its support (option `centre`).
 */
import { estimatePhotoNoise } from '../deconvolve/noise.js';
import { throwIfAborted } from '../errors.js';
import { isRealFftSize } from '../fft/real.js';
import { describeImage } from '../pixels/image.js';
import { luminancePlane, luminanceResized, srgbToLinear } from '../pixels/planes.js';
import type { Plane } from '../pixels/planes.js';
import type { BlurKernel, RawImage } from '../types.js';
import { centreKernel, identityKernel, resizeKernel, supportMidpoint } from './cleanup.js';
import { blindScore, selectionScore } from './blind-score.js';
import type { CandidateScore } from './blind-score.js';
import { alternate, buildLevel, pyramid } from './coarse-to-fine.js';
import { runCandidates } from './candidates.js';
import { oddCeil, resolveEstimateOptions } from './options.js';
import type { EstimateKernelOptions } from './options.js';
import { mostTexturedWindow } from './window.js';
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
   * True when the identity was returned: confidence below `minConfidence`, a kernel within one tap
   * of a dot, or a peak dominance above `maxPeakDominance` (a sharp photo, or a failed estimate).
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
  /** The blind scores behind the choice: each kernel size tried, and the identity. */
  scores: { identity: CandidateScore; candidates: CandidateScore[] };
}

/** Largest photo the estimator accepts, in pixels (sharp's default limit). */
const MAX_PIXELS = 0x3fff * 0x3fff;

/** Kernel/latent alternations at full scale after a reduced-scale estimate. */
const REFINE_ITERATIONS = 2;

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
 * of at most `windowSize`² px chosen by texture; a photo whose `maxSize` exceeds `maxWorkingSize`
 * is estimated downscaled, then refined at full scale.
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
  const saturation = opts.linearLight ? srgbToLinear(opts.saturation) : opts.saturation;
  const scale = Math.min(1, opts.maxWorkingSize / opts.maxSize);
  const workMax = scale < 1 ? opts.maxWorkingSize : opts.maxSize;
  const sizes = [...new Set(opts.sizeShares.map((s) => Math.max(5, oddCeil(workMax * s))))].sort((a, b) => a - b);
  const levelsPerSize = sizes.map((s) => pyramid(s));
  const total = levelsPerSize.reduce((n, p) => n + p.length, 0) + sizes.length + 1 + (scale < 1 ? 1 : 0);
  let done = 0;
  const step = async () => {
    done++;
    opts.onProgress?.({ done, total });
    await nextTick();
    throwIfAborted(opts.signal);
  };

  // The working plane: the photo's luminance, downscaled when the kernel would be too large.
  const work = scale < 1
    ? luminanceResized(image, layout, Math.max(1, Math.round(layout.width * scale)), Math.max(1, Math.round(layout.height * scale)), opts.linearLight)
    : luminancePlane(image, layout, undefined, opts.linearLight);
  const side = fittedWindowSide(opts.windowSize, workMax);
  const window = mostTexturedWindow(work, side, side, saturation);
  const windowPlane = crop(work, window);
  const sigma = estimatePhotoNoise([windowPlane.data], windowPlane.width, windowPlane.height);

  // Every candidate comes back centred in a workMax square, scored on the same field as the
  // identity, which this thread scores while the workers estimate.
  const scoreLevel = buildLevel(windowPlane, workMax, saturation);
  const running = runCandidates(windowPlane, sizes, workMax, opts, saturation, sigma, scoreLevel, step);
  running.catch(() => undefined); // awaited below; an abort must not surface as unhandled meanwhile
  const identityScore = blindScore(scoreLevel, identityKernel(workMax), workMax, sigma);
  const candidates = await running;
  await step();
  const best = candidates.reduce((a, b) => (selectionScore(b.score) < selectionScore(a.score) ? b : a));
  // A flat or one-colour window scores 0 for every kernel (0 / 0): no evidence of blur, confidence 0.
  const removed = 1 - best.score.sparsity / identityScore.sparsity;
  const confidence = Number.isFinite(removed) ? Math.max(0, Math.min(1, removed)) : 0;
  let kernel = best.kernel;
  let size = workMax;
  if (scale < 1) {
    // Refine at full scale, in a window of the same scene: the most textured one, found on the
    // working plane and read at full resolution (only that window: a 12 MP luminance is 96 MB).
    const fullSize = oddCeil(size / scale);
    const fullSide = fittedWindowSide(Math.min(1024, Math.round(opts.windowSize / scale)), fullSize);
    const refineSide = Math.min(fullSide, layout.width, layout.height);
    const searchSide = Math.max(1, Math.round(refineSide * scale));
    const found = mostTexturedWindow(work, searchSide, searchSide, saturation);
    const at = (v: number, length: number) => Math.max(0, Math.min(length - refineSide, Math.round(v / scale)));
    const refineWindow = { x: at(found.x, layout.width), y: at(found.y, layout.height), width: refineSide, height: refineSide };
    const level = buildLevel(luminancePlane(image, layout, refineWindow, opts.linearLight), fullSize, saturation);
    kernel = resizeKernel(kernel, size, fullSize, 1 / scale);
    kernel = alternate(level, kernel, fullSize, REFINE_ITERATIONS, opts.lambda / 2, opts, false, 1 / scale);
    size = fullSize;
    await step();
  }
  // The guard measures the kernel as the estimator leaves it, centred on its mass: its threshold
  // was set on kernels trimmed that way, and a trim around the support would be tighter.
  const massCentred = trimKernel(kernel, size);
  const dominance = peakDominance(massCentred.data, massCentred.size);
  const estimated = opts.centre === 'support' ? trimKernel(centreKernel(kernel, size, supportMidpoint(kernel, size)), size) : massCentred;
  const identity = confidence < opts.minConfidence || isNearIdentity(kernel, size) || dominance > opts.maxPeakDominance;
  const trimmed = identity ? { data: identityKernel(1), size: 1 } : estimated;
  return {
    kernel: { width: trimmed.size, height: trimmed.size, data: Float32Array.from(trimmed.data) },
    width: trimmed.size,
    height: trimmed.size,
    confidence,
    identity,
    peakDominance: dominance,
    scores: { identity: identityScore, candidates: candidates.map((c) => c.score) },
  };
}

/**
 * Brightest tap x side / mass. Deconvolving a sharp photo with a dot-plus-streak kernel puts a
 * ghost beside every edge (-19 and -20 dB on the two Kodak photos where it happened), so such a
 * kernel is not trusted: every estimate on the 192 dev pairs stayed at 2.2 or below.
 */
function peakDominance(k: ArrayLike<number>, side: number): number {
  let mass = 0;
  let peak = 0;
  for (let i = 0; i < k.length; i++) {
    mass += k[i]!;
    peak = Math.max(peak, k[i]!);
  }
  return mass > 0 ? (peak / mass) * side : 0;
}

/** A kernel whose mass lies within one tap of its centre: not worth deconvolving. */
function isNearIdentity(k: Float64Array, size: number): boolean {
  const c = (size - 1) / 2;
  let inner = 0;
  for (let y = c - 1; y <= c + 1; y++) for (let x = c - 1; x <= c + 1; x++) inner += k[y * size + x]!;
  return inner >= 0.9;
}

/**
 * The window side whose FFT field (window plus a kernel-wide bridge) is the largest square of at
 * most `field` px that the real FFT takes without padding: `field` itself for the default 512.
 */
function fittedWindowSide(field: number, kernelSize: number): number {
  let f = field;
  while (f > kernelSize + 16 && !isRealFftSize(f, f)) f--;
  return f - kernelSize;
}

function crop(plane: Plane, w: Window): Plane {
  const data = new Float64Array(w.width * w.height);
  for (let y = 0; y < w.height; y++) {
    const from = (w.y + y) * plane.width + w.x;
    data.set(plane.data.subarray(from, from + w.width), y * w.width);
  }
  return { width: w.width, height: w.height, data };
}

