import { describe, expect, it } from 'vitest';

import { effectiveTaps, isDotWithStreak, isQuietPath, peakDominance } from '../src/kernel/guard.js';
import { PEAKED_MIN_AGREEMENT, PEAKED_MIN_CONFIDENCE, QUIET_MIN_SPECTRAL_EVIDENCE, resolveEstimateOptions, SPREAD_TAPS } from '../src/kernel/options.js';

// The guard's decision table, branch by branch, on hand-set measures (estimateKernel's own tests
// plant kernels; these pin each refusal on its own, which a planted photo cannot isolate).
describe('sharp-photo guard: a peaked kernel needs all three pieces of evidence', () => {
  const opts = resolveEstimateOptions({}, 512, 512);
  const peaked = opts.maxPeakDominance + 1;
  const convincing = { confidence: PEAKED_MIN_CONFIDENCE, agreement: PEAKED_MIN_AGREEMENT, spectral: 0 };

  it('never refuses a kernel at or below the dominance limit, whatever the evidence', () => {
    expect(isDotWithStreak(opts.maxPeakDominance, 1, { confidence: 0, agreement: 0, spectral: 0 }, opts)).toBe(false);
  });

  it('keeps a peaked kernel with spread, confidence and agreement at their thresholds', () => {
    expect(isDotWithStreak(peaked, SPREAD_TAPS, convincing, opts)).toBe(false);
  });

  it('refuses it when its mass spreads over fewer than SPREAD_TAPS effective taps', () => {
    expect(isDotWithStreak(peaked, SPREAD_TAPS - 0.01, convincing, opts)).toBe(true);
  });

  it('refuses it below PEAKED_MIN_CONFIDENCE, or below minConfidence where that is higher', () => {
    expect(isDotWithStreak(peaked, SPREAD_TAPS, { ...convincing, confidence: PEAKED_MIN_CONFIDENCE - 0.001 }, opts)).toBe(true);
    const strict = resolveEstimateOptions({ minConfidence: 0.3 }, 512, 512);
    expect(isDotWithStreak(peaked, SPREAD_TAPS, { ...convincing, confidence: 0.29 }, strict)).toBe(true);
    expect(isDotWithStreak(peaked, SPREAD_TAPS, { ...convincing, confidence: 0.3 }, strict)).toBe(false);
  });

  it('refuses it when another kernel size found a different path', () => {
    expect(isDotWithStreak(peaked, SPREAD_TAPS, { ...convincing, agreement: PEAKED_MIN_AGREEMENT - 0.001 }, opts)).toBe(true);
  });
});

describe('sharp-photo guard: a kernel below minConfidence is kept only as a quiet camera path', () => {
  const opts = resolveEstimateOptions({}, 512, 512);
  const quiet = { confidence: 0, agreement: 0, spectral: QUIET_MIN_SPECTRAL_EVIDENCE };

  it('keeps a spread, unpeaked kernel with spectral evidence at the threshold, whatever its confidence', () => {
    expect(isQuietPath(opts.maxPeakDominance, SPREAD_TAPS, quiet, opts)).toBe(true);
  });

  it("not when the photo's spectrum does not carry it", () => {
    expect(isQuietPath(opts.maxPeakDominance, SPREAD_TAPS, { ...quiet, spectral: QUIET_MIN_SPECTRAL_EVIDENCE - 0.001 }, opts)).toBe(false);
  });

  it('not when its mass spreads over fewer than SPREAD_TAPS effective taps', () => {
    expect(isQuietPath(1, SPREAD_TAPS - 0.01, quiet, opts)).toBe(false);
  });

  it('never with minSpectralEvidence 1 (the rule turned off)', () => {
    const off = resolveEstimateOptions({ minSpectralEvidence: 1 }, 512, 512);
    expect(isQuietPath(1, SPREAD_TAPS, { ...quiet, spectral: 1 }, off)).toBe(false);
    expect(() => resolveEstimateOptions({ minSpectralEvidence: 1.5 }, 512, 512)).toThrow(/minSpectralEvidence/);
  });

  it('not when it is peaked (that kernel answers to the peaked rule)', () => {
    expect(isQuietPath(opts.maxPeakDominance + 0.01, SPREAD_TAPS, { ...quiet, spectral: 1 }, opts)).toBe(false);
  });
});

describe('guard measures against hand-computed values', () => {
  it('effectiveTaps: n equal taps are n taps; a 50% dot plus 10 taps of 5% is 1 / (0.25 + 10 x 0.0025) = 3.64', () => {
    expect(effectiveTaps(new Float64Array(12).fill(1 / 12))).toBeCloseTo(12, 12);
    expect(effectiveTaps(new Float64Array(7).fill(3))).toBeCloseTo(7, 12); // scale-free: unit sum is not assumed
    const dot = new Float64Array(25);
    dot[12] = 0.5;
    for (let i = 0; i < 10; i++) dot[i] = 0.05;
    expect(effectiveTaps(dot)).toBeCloseTo(1 / 0.275, 12);
    expect(effectiveTaps(new Float64Array(9))).toBe(0);
  });

  it('peakDominance: brightest tap x side / mass', () => {
    const k = new Float64Array(9).fill(0.1);
    k[4] = 0.2; // mass 1.0, side 3
    expect(peakDominance(k, 3)).toBeCloseTo(0.6, 12);
    expect(peakDominance(new Float64Array(9), 3)).toBe(0);
  });
});
