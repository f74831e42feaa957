/**
 * The sharp-photo guard's measures and decision (estimate.ts, step 6): how peaked a kernel is,
 * over how many taps its mass spreads, and whether a peaked kernel has the evidence of camera
 * shake with a pause rather than of a sharp photo's dot with a faint streak.
 */
import { PEAKED_MIN_AGREEMENT, PEAKED_MIN_CONFIDENCE, SPREAD_TAPS } from './options.js';
import type { ResolvedEstimateOptions } from './options.js';

/** What the blind score and the other sizes say of the chosen kernel. */
export interface Evidence {
  confidence: number;
  agreement: number;
  /** The photo's spectrum against the kernel's (`spectralEvidence`), 0 to 1. */
  spectral: number;
}

/**
 * The sharp-photo guard: a kernel whose brightest tap dominates its side (peak dominance above
 * `maxPeakDominance`) is a dot with a faint streak, what the estimator finds on a sharp photo
 * with strong straight edges, unless three pieces of evidence say it is camera shake with a
 * pause: its mass spreads over {@link SPREAD_TAPS} or more effective taps, deconvolving with it
 * removes at least {@link PEAKED_MIN_CONFIDENCE} of the blind score (or `minConfidence`), and
 * every other kernel size found the same path ({@link PEAKED_MIN_AGREEMENT}).
 */
export function isDotWithStreak(dominance: number, taps: number, evidence: Evidence, opts: ResolvedEstimateOptions): boolean {
  if (dominance <= opts.maxPeakDominance) return false;
  return taps < SPREAD_TAPS
    || evidence.confidence < Math.max(PEAKED_MIN_CONFIDENCE, opts.minConfidence)
    || evidence.agreement < PEAKED_MIN_AGREEMENT;
}

/**
 * A kernel below `minConfidence` that is still camera shake: its mass spreads along a path
 * ({@link SPREAD_TAPS} or more effective taps, peak dominance within `maxPeakDominance`) and the
 * photo's spectrum has lost high frequencies the way the kernel says (spectral evidence at least
 * `minSpectralEvidence`, which at 1 turns the rule off). The blind score's confidence stays low on real photos where JPEG
 * noise and model error make any deconvolution less sparse, though the kernel is right (published
 * kernels at NCC 0.75-0.91 on such photos); a sharp photo's spurious kernel is a dot, or peaked,
 * or not signed in the spectrum.
 */
export function isQuietPath(dominance: number, taps: number, evidence: Evidence, opts: ResolvedEstimateOptions): boolean {
  return opts.minSpectralEvidence < 1 && dominance <= opts.maxPeakDominance && taps >= SPREAD_TAPS
    && evidence.spectral >= opts.minSpectralEvidence;
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
