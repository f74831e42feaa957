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
import type { DataTerm } from '../fft/quadratic.js';

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
 * Solves per splitting step when clipped samples are left out of the data term: each solve after
 * the first refills the clipped samples from the one before (one more majorisation of the masked
 * problem, `observed` below) with the step's gradients kept, so the lights converge without
 * moving the rest of the photo past the β schedule (measured: six more steps at β_max instead
 * cost up to 0.5 dB on dev pairs; training log, session 15).
 */
export const MASKED_SOLVES_PER_STEP = 2;

/** Sample states of a masked solve's `observed` field. */
export const SAMPLE = {
  /** Next to a clipped pixel (a JPEG's smear of the ceiling): unknown. */
  unknown: 0,
  /** Measured: k ⊛ x there is the sample. */
  measured: 1,
  /** Clipped: k ⊛ x there is at least the sample. */
  clipped: 2,
} as const;

/** The masked solve's work space on one field size (a tile loop keeps one per size). */
export interface MaskedWork {
  /** The measured samples, kept: `out` may be `y` itself. */
  measured: Float64Array;
  /** The data with its clipped and unknown samples filled in. */
  filled: Float64Array;
  /** F(∂ᵀw) of the current step, reused by its second solve. */
  adjoint: RealSpectrum;
}

export function maskedWork(w: number, h: number): MaskedWork {
  return { measured: new Float64Array(w * h), filled: new Float64Array(w * h), adjoint: new RealSpectrum(w, h) };
}

/**
 * Deconvolves one periodic field `y` (`w` x `h`, sizes of `RealSpectrum`) blurred by the kernel whose OTF is
 * `kernelOtf`. `differencesPower` is |Dx|² + |Dy|² on the same grid. The result is written to
 * `out`, which may be `y` itself (a tile's own copy: one field less in memory). `spectra`, two
 * spectra of the field's size, are the solver's work space (a tile loop passes the same ones to
 * every plane, so its memory stays put); by default they are allocated, as is `work`, what the
 * masked solve needs besides.
 *
 * With `observed` (per sample, {@link SAMPLE}: measured, clipped or unknown) the data term counts
 * the measured samples only, and a clipped one only as a lower bound (Whyte, Sivic & Zisserman
 * 2014, "Deblurring shaken and partially saturated images": a clipped sample says the light
 * there was at least that bright; trusted as a value it pulls the estimate down and rings around
 * every highlight). The FFT solve needs a data term without a mask, so each solve majorises the
 * masked term by it, with the samples not measured filled from the current estimate re-blurred
 * (the EM step of Cho, Wang & Lee 2011), a clipped one no lower than its sample:
 * y' = M·y + (1 − M)·max(k ⊛ x, y_clipped); {@link MASKED_SOLVES_PER_STEP} solves per step.
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
  observed?: Uint8Array,
  work: MaskedWork | undefined = observed && maskedWork(w, h),
): Float64Array {
  const [ys, field] = spectra;
  const masked = observed && work;
  masked?.measured.set(y);
  ys.forward(y);
  let data = dataTerm(kernelOtf, ys, ys); // conj(K)·Y replaces Y: only the data term needs it
  const x = out;
  if (x !== y) x.set(y);
  const solves = masked ? MASKED_SOLVES_PER_STEP : 1;
  for (let beta = settings.betaStart; beta <= settings.betaMax; beta *= settings.betaRate) {
    // x holds ∂ᵀw until the solve overwrites it with the next estimate.
    shrinkAndAdjoin(x, w, h, shrinkTable(settings.alpha, beta), settings.alpha, beta);
    field.forward(x);
    if (masked && solves > 1) copySpectrum(field, masked.adjoint);
    for (let solve = 0; solve < solves; solve++) {
      if (masked && solve > 0) copySpectrum(masked.adjoint, field);
      solveSplitting(field, data, beta / settings.lambda, differencesPower);
      // The next solve's data term (the last step's last solve needs none).
      const last = solve === solves - 1 && beta * settings.betaRate > settings.betaMax;
      if (masked && !last) data = fillClipped(field, kernelOtf, masked, observed, ys);
    }
    field.inverse(x);
  }
  return x;
}

function copySpectrum(from: RealSpectrum, to: RealSpectrum): void {
  to.re.set(from.re);
  to.im.set(from.im);
}

/**
 * The masked data term's majoriser at the estimate X (a spectrum, left as it is): conj(K)·F(y'),
 * with y' the measured samples and, elsewhere, F⁻¹(K·X), no lower than a clipped sample;
 * computed in `scratch` (a spectrum) and `work.filled`.
 */
function fillClipped(
  estimate: RealSpectrum, kernelOtf: RealSpectrum, work: MaskedWork, observed: Uint8Array, scratch: RealSpectrum,
): DataTerm {
  const { re: kr, im: ki } = kernelOtf;
  const { measured, filled } = work;
  for (let i = 0; i < scratch.re.length; i++) {
    const xr = estimate.re[i]!, xi = estimate.im[i]!;
    scratch.re[i] = kr[i]! * xr - ki[i]! * xi;
    scratch.im[i] = kr[i]! * xi + ki[i]! * xr;
  }
  scratch.inverse(filled);
  for (let i = 0; i < filled.length; i++) {
    const state = observed[i];
    if (state === SAMPLE.measured || (state === SAMPLE.clipped && filled[i]! < measured[i]!)) filled[i] = measured[i]!;
  }
  scratch.forward(filled);
  return dataTerm(kernelOtf, scratch, scratch);
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
