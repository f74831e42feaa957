/**
 * Non-blind deconvolution with a hyper-Laplacian gradient prior (Krishnan & Fergus 2009, "Fast
 * image deconvolution using hyper-Laplacian priors"):
 *
 *   x = argmin_x (λ/2)·||k ⊛ x − y||² + Σ_{d∈{x,y}} |∂d x|^α
 *
 * by half-quadratic splitting, for β rising from β₀ by a factor β_rate up to β_max:
 *   w_d ← argmin_w |w|^α + (β/2)(w − ∂d x)²          (per pixel, from a lookup table)
 *   x   ← F⁻¹[(conj(K)·F(y) + (β/λ)·F(∂ᵀw)) / (|K|² + (β/λ)(|Dx|² + |Dy|²))]
 * α = 1 is total variation; α = 2/3 fits the heavy-tailed gradients of natural images.
 */
import { RealSpectrum } from '../fft/real.js';
import type { DifferencesPower } from '../fft/gradients.js';
import { dataTerm, solveSplitting } from '../fft/quadratic.js';

export interface HyperLaplacianSettings {
  /** λ: data-term weight (set from the noise level: λ ∝ 1 / σ²). */
  lambda: number;
  /** α: exponent of the prior, 0.5 to 1. */
  alpha: number;
  /**
   * β schedule of the splitting: from `betaStart`, times `betaRate` per step, up to `betaMax`. The
   * product runs Krishnan & Fergus' schedule, BETA_SCHEDULE (options.ts).
   */
  betaStart: number;
  betaRate: number;
  betaMax: number;
}

/** The per-pixel w-step as a table over |v| in [0, V_MAX), per (α, β). */
const V_MAX = 2;
const LUT_STEPS = 8192;
const tables = new Map<string, Float64Array>();

/** argmin_w |w|^α + (β/2)(w − v)² for v ≥ 0 (odd-symmetric in v). */
function shrink(v: number, alpha: number, beta: number): number {
  if (v === 0) return 0;
  if (alpha === 1) return Math.max(0, v - 1 / beta);
  // f'(w)/… = α w^(α−1) + β (w − v) is convex on w > 0 with its minimum at w*; the local minimum
  // of the objective is the root beyond w*, if any; it wins against w = 0 when its energy is lower.
  const g = (w: number) => alpha * w ** (alpha - 1) + beta * (w - v);
  const wStar = ((alpha * (1 - alpha)) / beta) ** (1 / (2 - alpha));
  if (wStar >= v || g(wStar) > 0) return 0;
  let lo = wStar;
  let hi = v;
  for (let i = 0; i < 50; i++) {
    const mid = 0.5 * (lo + hi);
    if (g(mid) > 0) hi = mid; else lo = mid;
  }
  const w = 0.5 * (lo + hi);
  return w ** alpha + (beta / 2) * (w - v) ** 2 < (beta / 2) * v * v ? w : 0;
}

export function shrinkTable(alpha: number, beta: number): Float64Array {
  const key = `${alpha}:${beta}`;
  let t = tables.get(key);
  if (!t) {
    t = new Float64Array(LUT_STEPS + 1);
    for (let i = 0; i <= LUT_STEPS; i++) t[i] = shrink((i / LUT_STEPS) * V_MAX, alpha, beta);
    tables.set(key, t);
  }
  return t;
}

/** The w-step for one gradient value v (odd-symmetric), from the (α, β) table. */
export function shrinkGradient(v: number, table: Float64Array, alpha: number, beta: number): number {
  const a = v < 0 ? -v : v;
  let w: number;
  if (a >= V_MAX) {
    w = a - (alpha * a ** (alpha - 1)) / beta; // far from 0 the shrinkage is one Newton step
  } else {
    const p = a * (LUT_STEPS / V_MAX);
    const j = Math.floor(p);
    const f = p - j;
    w = (1 - f) * table[j]! + f * table[j + 1]!;
  }
  return v < 0 ? -w : w;
}

/**
 * The w-step and the adjoint in one pass, in place: x ← ∂xᵀ w_x + ∂yᵀ w_y with w_d the shrunk
 * forward differences of x (wrapping), as fft/gradients.ts defines them. Raster order reads each
 * difference from samples not yet overwritten; what the wrap needs from behind (the first row, each
 * row's first sample, the last row's w_y) is kept aside, so no gradient field is stored.
 */
export function shrinkAndAdjoin(x: Float64Array, w: number, h: number, table: Float64Array, alpha: number, beta: number): void {
  const firstRow = x.slice(0, w);
  const wyAbove = new Float64Array(w); // w_y of the row above (of the last row, for row 0)
  const last = (h - 1) * w;
  for (let c = 0; c < w; c++) wyAbove[c] = shrinkGradient(firstRow[c]! - x[last + c]!, table, alpha, beta);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const below = y + 1 === h ? -1 : row + w;
    const rowFirst = x[row]!;
    let wxLeft = shrinkGradient(rowFirst - x[row + w - 1]!, table, alpha, beta); // w_x of the last column
    for (let c = 0; c < w; c++) {
      const i = row + c;
      const v = x[i]!;
      const right = c + 1 === w ? rowFirst : x[i + 1]!;
      const down = below < 0 ? firstRow[c]! : x[below + c]!;
      const wx = shrinkGradient(right - v, table, alpha, beta);
      const wy = shrinkGradient(down - v, table, alpha, beta);
      x[i] = wxLeft - wx + wyAbove[c]! - wy;
      wxLeft = wx;
      wyAbove[c] = wy;
    }
  }
}

/**
 * Deconvolves one periodic field `y` (`w` x `h`, sizes of `RealSpectrum`) blurred by the kernel whose OTF is
 * `kernelOtf`. `differencesPower` is |Dx|² + |Dy|² on the same grid. The result is written to
 * `out`, which may be `y` itself (a tile's own copy: one field less in memory). `spectra`, two
 * spectra of the field's size, are the solver's work space (a tile loop passes the same ones to
 * every plane, so its memory stays put); by default they are allocated.
 */
export function hyperLaplacianDeconvolve(
  y: Float64Array,
  w: number,
  h: number,
  kernelOtf: RealSpectrum,
  differencesPower: DifferencesPower,
  settings: HyperLaplacianSettings,
  out: Float64Array = new Float64Array(w * h),
  spectra: readonly [RealSpectrum, RealSpectrum] = [new RealSpectrum(w, h), new RealSpectrum(w, h)],
): Float64Array {
  const [ys, field] = spectra;
  ys.forward(y);
  const data = dataTerm(kernelOtf, ys, ys); // conj(K)·Y replaces Y: only the data term needs it
  const x = out;
  if (x !== y) x.set(y);
  for (let beta = settings.betaStart; beta <= settings.betaMax; beta *= settings.betaRate) {
    // x holds ∂ᵀw until the solve overwrites it with the next estimate.
    shrinkAndAdjoin(x, w, h, shrinkTable(settings.alpha, beta), settings.alpha, beta);
    field.forward(x);
    solveSplitting(field, data, beta / settings.lambda, differencesPower);
    field.inverse(x);
  }
  return x;
}

/**
 * Wiener deconvolution with a constant noise-to-signal ratio (the fast mode, and the classical
 * reference): X = conj(K)·Y / (|K|² + nsr).
 */
export function wienerDeconvolve(y: Float64Array, w: number, h: number, kernelOtf: RealSpectrum, nsr: number): Float64Array {
  const s = new RealSpectrum(w, h).forward(y);
  for (let i = 0; i < s.re.length; i++) {
    const kr = kernelOtf.re[i]!, ki = kernelOtf.im[i]!, yr = s.re[i]!, yi = s.im[i]!;
    const den = kr * kr + ki * ki + nsr;
    s.re[i] = (kr * yr + ki * yi) / den;
    s.im[i] = (kr * yi - ki * yr) / den;
  }
  return s.inverse();
}
