/**
 * The coarse-to-fine pyramid of one kernel size (Pan et al. 2014, `blind_deconv_main`): the pieces
 * shared by the estimator and its worker threads, which run one kernel size each.
 */
import { nextFftSize } from '../fft/fft.js';
import { kernelSpectrum, nextRealFftWidth, RealSpectrum } from '../fft/real.js';
import { differencesPower } from '../fft/gradients.js';
import { periodicExtend } from '../fft/periodic.js';
import { resizePlane } from '../pixels/planes.js';
import type { Plane } from '../pixels/planes.js';
import { centreKernel, cleanupKernel, resizeKernel } from './cleanup.js';
import { gradientSpectra, leastSquaresKernel } from './kernel-update.js';
import type { BlurGradients } from './kernel-update.js';
import { l0Latent } from './latent.js';
import type { LevelSpectra } from './latent.js';
import { oddCeil } from './options.js';
import type { ResolvedEstimateOptions } from './options.js';
import { cropPlane, fittedWindowSide, TextureMap } from './window.js';

/** The numeric settings a pyramid needs (the resolved options without callbacks: they cross to workers). */
export type PyramidSettings = Omit<ResolvedEstimateOptions, 'onProgress' | 'signal'>;

/** λ never decays below this (Pan et al.). */
const LAMBDA_FLOOR = 1e-4;

/** One pyramid level of the estimation window: the blurry field and its fixed spectra. */
export interface Level extends LevelSpectra {
  gradients: BlurGradients;
}

export function buildLevel(plane: Plane, kernelSize: number, saturation: number): Level {
  const { width: lw, height: lh, data: window } = plane;
  // The FFT field holds the window plus a bridge at least one kernel wide.
  const fw = nextRealFftWidth(lw + kernelSize);
  const fh = nextFftSize(lh + kernelSize);
  const field = periodicExtend(window, lw, lh, fw, fh);
  const mask = saturationMask(window, lw, lh, fw, fh, saturation, (kernelSize - 1) >> 1);
  const blurred = new RealSpectrum(fw, fh).forward(field);
  const { x: gx, y: gy } = gradientSpectra(field, fw, fh, mask);
  return {
    width: fw,
    height: fh,
    field,
    blurred,
    differencesPower: differencesPower(fw, fh),
    gradients: { x: gx, y: gy, mask },
  };
}

/**
 * 1 where a gradient may teach the kernel: inside the window, at least `radius` px from a
 * saturated pixel, and not on the last row or column (whose differences reach into the bridge).
 */
function saturationMask(window: Float64Array, lw: number, lh: number, fw: number, fh: number, saturation: number, radius: number): Float64Array {
  const mask = new Float64Array(fw * fh);
  for (let y = 0; y < lh - 1; y++) for (let x = 0; x < lw - 1; x++) mask[y * fw + x] = 1;
  const saturated: number[] = [];
  for (let i = 0; i < window.length; i++) if (window[i]! >= saturation) saturated.push(i);
  if (saturated.length === 0) return mask;
  // Dilate with a square of side 2·radius + 1, separably: rows, then columns.
  const rows = new Uint8Array(lw * lh);
  for (const i of saturated) {
    const y = Math.floor(i / lw);
    const x = i - y * lw;
    for (let dx = -radius; dx <= radius; dx++) {
      const xx = x + dx;
      if (xx >= 0 && xx < lw) rows[y * lw + xx] = 1;
    }
  }
  for (let x = 0; x < lw; x++) {
    let last = -Infinity;
    // Two sweeps give each pixel the distance to the nearest marked row pixel in its column.
    const dist = new Float64Array(lh).fill(Infinity);
    for (let y = 0; y < lh; y++) { if (rows[y * lw + x]) last = y; dist[y] = y - last; }
    last = Infinity;
    for (let y = lh - 1; y >= 0; y--) { if (rows[y * lw + x]) last = y; dist[y] = Math.min(dist[y]!, last - y); }
    for (let y = 0; y < lh; y++) if (dist[y]! <= radius) mask[y * fw + x] = 0;
  }
  return mask;
}

/** Pan et al.'s initial kernel: two centre taps, horizontal. */
function initialKernel(size: number): Float64Array {
  const k = new Float64Array(size * size);
  const c = (size - 1) / 2;
  k[c * size + c - 1] = 0.5;
  k[c * size + c] = 0.5;
  return k;
}

/**
 * Relative change (Σ|k − k_prev| / Σk) below which a level's kernel counts as settled, for
 * `maxIterations`. Measured on 1200x800 scenes: after the fifth alternation a 7-21 px kernel
 * changes by 0.5-1.5% per alternation, a 39-55 px one by 3-5%, still converging.
 */
export const ALTERNATION_TOLERANCE = 0.02;

/**
 * Kernel/latent alternations on one level, starting from `kernel`: `iterations` of them, then more
 * while the kernel still changes by `ALTERNATION_TOLERANCE` or more, up to the options'
 * `maxIterations / iterations` times as many (the refinement's 3 scale with them). While
 * iterating, cleanup cuts at the seed threshold (a looser cut lets the solver's noise floor grow
 * from one iteration to the next); with `keepTails`, the last kernel is cleaned again keeping the
 * faint connected tail down to `tailThreshold`.
 */
export function alternate(
  level: Level, kernel: Float64Array, size: number, iterations: number, lambda: number, opts: PyramidSettings, keepTails = false,
  levelScale = 1,
): Float64Array {
  let k = kernel;
  let l = lambda;
  let raw = kernel;
  // The dark-channel patch is given at the estimation plane's scale and follows the level's.
  const darkChannel = opts.darkChannel > 0
    ? { weight: opts.darkChannel, patch: Math.max(3, oddCeil(opts.darkChannelPatch * levelScale)) }
    : undefined;
  const seedCut = { seedThreshold: opts.seedThreshold, tailThreshold: opts.seedThreshold, minComponentShare: 0.1 };
  const most = Math.max(iterations, Math.round((iterations * opts.maxIterations) / opts.iterations));
  for (let it = 0; it < most; it++) {
    const otf = kernelSpectrum(k, size, size, level.width, level.height);
    const { latent } = l0Latent(level, otf, { lambda: l, kappa: opts.kappa, betaMax: opts.betaMax * l, ...(darkChannel ? { darkChannel } : {}) });
    raw = leastSquaresKernel(latent, level.gradients, level.width, level.height, size, opts.gamma);
    const previous = k;
    k = cleanupKernel(raw, size, seedCut);
    l = Math.max(l / 1.1, LAMBDA_FLOOR);
    if (it + 1 >= iterations && it + 1 < most && relativeChange(k, previous) < ALTERNATION_TOLERANCE) break;
  }
  if (keepTails) k = cleanupKernel(raw, size, { ...seedCut, tailThreshold: opts.tailThreshold });
  return centreKernel(k, size);
}

/** Σ|a − b| / Σ|a|: how much a kernel moved in one alternation (1 when `a` is all zero). */
function relativeChange(a: Float64Array, b: Float64Array): number {
  let moved = 0;
  let mass = 0;
  for (let i = 0; i < a.length; i++) {
    moved += Math.abs(a[i]! - b[i]!);
    mass += Math.abs(a[i]!);
  }
  return mass > 0 ? moved / mass : 1;
}

/** The kernel sides of the pyramid, coarse to fine, and each level's image scale (Pan et al.). */
export function pyramid(size: number): { size: number; scale: number }[] {
  const ratio = Math.SQRT1_2;
  const levels = Math.max(Math.floor(Math.log(5 / size) / Math.log(ratio)), 0) + 1;
  const out: { size: number; scale: number }[] = [];
  for (let s = levels - 1; s >= 0; s--) {
    const scale = ratio ** s;
    out.push({ size: Math.max(3, oddCeil(size * scale)), scale });
  }
  return out;
}


/**
 * Estimates a kernel of `size` px on the window, coarse to fine; `onLevel` runs after each level.
 * Returns the kernel centred in a `workMax` square, so every size is scored on the same field.
 */
export async function estimateAtSize(
  window: Plane, size: number, workMax: number, opts: PyramidSettings, saturation: number, onLevel?: () => void | Promise<void>,
): Promise<Float64Array> {
  let k: Float64Array | undefined;
  let prev = 0;
  for (const { size: ls, scale } of pyramid(size)) {
    k = k === undefined ? initialKernel(ls) : resizeKernel(k, prev, ls, Math.SQRT2);
    const scaled = scale === 1
      ? window
      : resizePlane(window, Math.max(8, Math.round(window.width * scale)), Math.max(8, Math.round(window.height * scale)));
    const plane = levelWindow(scaled, opts.levelWindowSize, ls, saturation);
    k = alternate(buildLevel(plane, ls, saturation), k, ls, opts.iterations, opts.lambda, opts, scale === 1, scale);
    prev = ls;
    await onLevel?.();
  }
  return padKernel(k!, prev, workMax);
}

/**
 * A level's plane cut to its most textured `field`-sized window when it is larger: coarse levels
 * see the whole window scaled down, fine levels only as much as `field` allows.
 */
export function levelWindow(plane: Plane, field: number, kernelSize: number, saturation: number): Plane {
  const side = fittedWindowSide(field, kernelSize);
  if (plane.width <= side && plane.height <= side) return plane;
  return cropPlane(plane, new TextureMap(plane, saturation).mostTextured(side, side));
}

/** Centres a size x size kernel in a larger odd square. */
function padKernel(k: Float64Array, size: number, to: number): Float64Array {
  if (size === to) return k;
  const out = new Float64Array(to * to);
  const o = (to - size) / 2;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[(y + o) * to + x + o] = k[y * size + x]!;
  return out;
}
