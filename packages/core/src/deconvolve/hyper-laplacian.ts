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
import { differencesAdjoint, forwardDifferences } from '../fft/gradients.js';
import { dataTerm, solveSplitting } from '../fft/quadratic.js';

export interface HyperLaplacianSettings {
  /** λ: data-term weight (set from the noise level: λ ∝ 1 / σ²). */
  lambda: number;
  /** α: exponent of the prior, 0.5 to 1. */
  alpha: number;
  /** β schedule of the splitting (Krishnan & Fergus: 1, 2√2, 256). */
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

function shrinkTable(alpha: number, beta: number): Float64Array {
  const key = `${alpha}:${beta}`;
  let t = tables.get(key);
  if (!t) {
    t = new Float64Array(LUT_STEPS + 1);
    for (let i = 0; i <= LUT_STEPS; i++) t[i] = shrink((i / LUT_STEPS) * V_MAX, alpha, beta);
    tables.set(key, t);
  }
  return t;
}

function applyShrink(g: Float64Array, table: Float64Array, alpha: number, beta: number): void {
  const scale = LUT_STEPS / V_MAX;
  for (let i = 0; i < g.length; i++) {
    const v = g[i]!;
    const a = v < 0 ? -v : v;
    let w: number;
    if (a >= V_MAX) {
      w = a - (alpha * a ** (alpha - 1)) / beta; // far from 0 the shrinkage is one Newton step
    } else {
      const p = a * scale;
      const j = Math.floor(p);
      const f = p - j;
      w = (1 - f) * table[j]! + f * table[j + 1]!;
    }
    g[i] = v < 0 ? -w : w;
  }
}

/**
 * Deconvolves one periodic field `y` (`w` x `h`, sizes of `RealSpectrum`) blurred by the kernel whose OTF is
 * `kernelOtf`. `differencesPower` is |Dx|² + |Dy|² on the same grid.
 */
export function hyperLaplacianDeconvolve(
  y: Float64Array,
  w: number,
  h: number,
  kernelOtf: RealSpectrum,
  differencesPower: Float64Array,
  settings: HyperLaplacianSettings,
): Float64Array {
  const n = w * h;
  const ys = new RealSpectrum(w, h).forward(y);
  const data = dataTerm(kernelOtf, ys);
  const x = Float64Array.from(y);
  const gx = new Float64Array(n);
  const gy = new Float64Array(n);
  const adjoint = new Float64Array(n);
  const field = ys; // reused as the scratch spectrum from here on
  for (let beta = settings.betaStart; beta <= settings.betaMax; beta *= settings.betaRate) {
    forwardDifferences(x, w, h, gx, gy);
    const table = shrinkTable(settings.alpha, beta);
    applyShrink(gx, table, settings.alpha, beta);
    applyShrink(gy, table, settings.alpha, beta);
    differencesAdjoint(gx, gy, w, h, adjoint);
    field.forward(adjoint);
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
