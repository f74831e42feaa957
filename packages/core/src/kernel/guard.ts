/**
 * The sharp-photo guard's measures and decision (estimate.ts, step 6): how peaked a kernel is,
 * over how many taps its mass spreads, and whether the blind score or the photo's spectrum has
 * the evidence of camera shake rather than of a sharp photo's dot with a faint streak.
 */
import { PEAKED_MIN_AGREEMENT, PEAKED_MIN_CONFIDENCE, SPECTRAL_PEAK_ALLOWANCE, SPREAD_TAPS } from './options.js';
import type { ResolvedEstimateOptions } from './options.js';

/** Why an estimated kernel was kept: see `KernelEstimate.keptBy`. */
export type KernelKeptBy = 'confidence' | 'spectral-evidence';

/** What the blind score and the other sizes say of the chosen kernel. */
export interface Evidence {
  confidence: number;
  agreement: number;
  /** The photo's spectrum against the kernel's (`spectralEvidence`), 0 to 1. */
  spectral: number;
}

/**
 * The sharp-photo guard's verdict on a kernel (estimate.ts, step 6): why it is kept, or null for
 * the identity. Implements the decision in three steps:
 *
 * 1. A kernel whose brightest tap dominates its side (peak dominance above `maxPeakDominance`) is
 *    a dot with a faint streak, what the estimator finds on a sharp photo with strong straight
 *    edges, unless its mass spreads over {@link SPREAD_TAPS} or more effective taps and every
 *    other kernel size found the same path ({@link PEAKED_MIN_AGREEMENT}): camera shake with a
 *    pause.
 * 2. Kept on `'confidence'` when deconvolving with it removes at least `minConfidence` of the
 *    blind score (a peaked kernel: {@link PEAKED_MIN_CONFIDENCE}, if higher).
 * 3. Otherwise kept on `'spectral-evidence'` when it is a quiet camera path: spread over
 *    {@link SPREAD_TAPS} or more taps, peaked at most {@link SPECTRAL_PEAK_ALLOWANCE} x
 *    `maxPeakDominance`, and the photo's spectrum has lost high frequencies the way the kernel
 *    says (spectral evidence at least `minSpectralEvidence`; 1 turns this step off). The blind
 *    score's confidence stays low on real photos where JPEG noise and model error make any
 *    deconvolution less sparse, though the kernel is right (published kernels at NCC 0.75-0.91 on
 *    such photos); a sharp photo's spurious kernel is a dot, or strongly peaked, or not signed in
 *    the spectrum.
 */
export function guardVerdict(dominance: number, taps: number, evidence: Evidence, opts: ResolvedEstimateOptions): KernelKeptBy | null {
  const peaked = dominance > opts.maxPeakDominance;
  // 1. A dot with a streak.
  if (peaked && (taps < SPREAD_TAPS || evidence.agreement < PEAKED_MIN_AGREEMENT)) return null;
  // 2. The blind score.
  const needed = peaked ? Math.max(PEAKED_MIN_CONFIDENCE, opts.minConfidence) : opts.minConfidence;
  if (evidence.confidence >= needed) return 'confidence';
  // 3. The spectrum.
  const quietPath = opts.minSpectralEvidence < 1 && taps >= SPREAD_TAPS
    && dominance <= SPECTRAL_PEAK_ALLOWANCE * opts.maxPeakDominance && evidence.spectral >= opts.minSpectralEvidence;
  return quietPath ? 'spectral-evidence' : null;
}

/** 1 / Σp² of the kernel normalised to sum 1: the number of equal taps with the same energy. */
export function effectiveTaps(k: ArrayLike<number>): number {
  let mass = 0;
  let energy = 0;
  for (let i = 0; i < k.length; i++) {
    mass += k[i]!;
    energy += k[i]! * k[i]!;
  }
  return energy > 0 ? (mass * mass) / energy : 0;
}

/**
 * Brightest tap x side / mass. Deconvolving a sharp photo with a dot-plus-streak kernel puts a
 * ghost beside every edge (-19 and -20 dB on the two Kodak photos where it happened), so such a
 * kernel is not trusted: every estimate on the 192 dev pairs stayed at 2.2 or below.
 */
export function peakDominance(k: ArrayLike<number>, side: number): number {
  let mass = 0;
  let peak = 0;
  for (let i = 0; i < k.length; i++) {
    mass += k[i]!;
    peak = Math.max(peak, k[i]!);
  }
  return mass > 0 ? (peak / mass) * side : 0;
}

/** A kernel whose mass lies within one tap of its centre: not worth deconvolving. */
export function isNearIdentity(k: Float64Array, size: number): boolean {
  const c = (size - 1) / 2;
  let inner = 0;
  for (let y = c - 1; y <= c + 1; y++) for (let x = c - 1; x <= c + 1; x++) inner += k[y * size + x]!;
  return inner >= 0.9;
}
