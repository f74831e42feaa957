import { describe, expect, it } from 'vitest';

import { effectiveTaps, guardVerdict, peakDominance } from '../src/kernel/guard.js';
import {
  PEAKED_MIN_AGREEMENT, PEAKED_MIN_CONFIDENCE, QUIET_MIN_SPECTRAL_EVIDENCE, resolveEstimateOptions, SPECTRAL_PEAK_ALLOWANCE, SPREAD_TAPS,
} from '../src/kernel/options.js';

// The guard's decision table, branch by branch, on hand-set measures (estimateKernel's own tests
// plant kernels; these pin each refusal on its own, which a planted photo cannot isolate).
describe('sharp-photo guard: a peaked kernel needs spread, agreement, and confidence or spectral evidence', () => {
  const opts = resolveEstimateOptions({}, 512, 512);
  const peaked = opts.maxPeakDominance + 1;
  const convincing = { confidence: PEAKED_MIN_CONFIDENCE, agreement: PEAKED_MIN_AGREEMENT, spectral: 0 };

  it('keeps a peaked kernel with spread, confidence and agreement at their thresholds', () => {
    expect(guardVerdict(peaked, SPREAD_TAPS, convincing, opts)).toBe('confidence');
  });

  it('refuses it when its mass spreads over fewer than SPREAD_TAPS effective taps, whatever the evidence', () => {
    expect(guardVerdict(peaked, SPREAD_TAPS - 0.01, { confidence: 1, agreement: 1, spectral: 1 }, opts)).toBeNull();
  });

  it('refuses it below PEAKED_MIN_CONFIDENCE, or below minConfidence where that is higher', () => {
    expect(guardVerdict(peaked, SPREAD_TAPS, { ...convincing, confidence: PEAKED_MIN_CONFIDENCE - 0.001 }, opts)).toBeNull();
    const strict = resolveEstimateOptions({ minConfidence: 0.3 }, 512, 512);
    expect(guardVerdict(peaked, SPREAD_TAPS, { ...convincing, confidence: 0.29 }, strict)).toBeNull();
    expect(guardVerdict(peaked, SPREAD_TAPS, { ...convincing, confidence: 0.3 }, strict)).toBe('confidence');
  });

  it('refuses it when another kernel size found a different path, whatever the evidence', () => {
    expect(guardVerdict(peaked, SPREAD_TAPS, { confidence: 1, agreement: PEAKED_MIN_AGREEMENT - 0.001, spectral: 1 }, opts)).toBeNull();
  });

  it('keeps a mildly peaked one (up to SPECTRAL_PEAK_ALLOWANCE x the limit) on spectral evidence instead of confidence', () => {
    const mild = SPECTRAL_PEAK_ALLOWANCE * opts.maxPeakDominance;
    const signed = { confidence: 0, agreement: PEAKED_MIN_AGREEMENT, spectral: QUIET_MIN_SPECTRAL_EVIDENCE };
    expect(mild).toBeCloseTo(3.5, 12);
    expect(guardVerdict(mild, SPREAD_TAPS, signed, opts)).toBe('spectral-evidence');
    expect(guardVerdict(mild + 0.01, SPREAD_TAPS, signed, opts)).toBeNull();
    expect(guardVerdict(mild, SPREAD_TAPS, { ...signed, spectral: QUIET_MIN_SPECTRAL_EVIDENCE - 0.001 }, opts)).toBeNull();
    expect(guardVerdict(mild, SPREAD_TAPS, { ...signed, agreement: PEAKED_MIN_AGREEMENT - 0.001 }, opts)).toBeNull();
    // The allowance follows the limit a caller sets.
    const loose = resolveEstimateOptions({ maxPeakDominance: 4 }, 512, 512);
    expect(guardVerdict(5.5, SPREAD_TAPS, signed, loose)).toBe('spectral-evidence');
  });
});

describe('sharp-photo guard: a kernel below minConfidence is kept only as a quiet camera path', () => {
  const opts = resolveEstimateOptions({}, 512, 512);
  const quiet = { confidence: 0, agreement: 0, spectral: QUIET_MIN_SPECTRAL_EVIDENCE };

  it('keeps an unpeaked kernel at minConfidence on its confidence, whatever the rest', () => {
    expect(guardVerdict(opts.maxPeakDominance, 1, { confidence: opts.minConfidence, agreement: 0, spectral: 0 }, opts)).toBe('confidence');
  });

  it('keeps a spread, unpeaked kernel with spectral evidence at the threshold, whatever its confidence or agreement', () => {
    expect(guardVerdict(opts.maxPeakDominance, SPREAD_TAPS, quiet, opts)).toBe('spectral-evidence');
  });

  it("not when the photo's spectrum does not carry it", () => {
    expect(guardVerdict(opts.maxPeakDominance, SPREAD_TAPS, { ...quiet, spectral: QUIET_MIN_SPECTRAL_EVIDENCE - 0.001 }, opts)).toBeNull();
  });

  it('not when its mass spreads over fewer than SPREAD_TAPS effective taps', () => {
    expect(guardVerdict(1, SPREAD_TAPS - 0.01, quiet, opts)).toBeNull();
  });

  it('never with minSpectralEvidence 1 (the rule turned off)', () => {
    const off = resolveEstimateOptions({ minSpectralEvidence: 1 }, 512, 512);
    expect(guardVerdict(1, SPREAD_TAPS, { ...quiet, spectral: 1 }, off)).toBeNull();
    expect(() => resolveEstimateOptions({ minSpectralEvidence: 1.5 }, 512, 512)).toThrow(/minSpectralEvidence/);
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
