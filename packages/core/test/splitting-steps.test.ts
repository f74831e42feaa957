/**
 * The one-pass splitting steps (the L0 g-step and the hyper-Laplacian w-step, each fused with its
 * adjoint and run in place) against the definitions they fuse: forward differences, the
 * per-gradient threshold or shrinkage, then the adjoint, as three separate passes.
 */
import { describe, expect, it } from 'vitest';

import { shrinkAndAdjoin, shrinkGradient, shrinkTable } from '../src/deconvolve/hyper-laplacian.js';
import { differencesAdjoint, forwardDifferences } from '../src/fft/gradients.js';
import { thresholdAndAdjoin } from '../src/kernel/latent.js';
import { seededRandom } from '../src/synthetic/index.js';

function field(w: number, h: number, seed: number): Float64Array {
  const rand = seededRandom(seed);
  // Smooth ramps plus steps and noise: thresholds keep some gradients and drop others.
  return Float64Array.from({ length: w * h }, (_, i) => 0.3 * Math.sin(i * 0.05) + (rand() < 0.1 ? 0.5 : 0) + 0.02 * rand());
}

describe('one-pass splitting steps equal their three-pass definitions', () => {
  it.each([[1, 1], [1, 7], [9, 1], [2, 2], [17, 11], [64, 48]])('L0 g-step and adjoint, %i x %i', (w, h) => {
    const s = field(w, h, w * 100 + h);
    const threshold = 0.01;
    const gx = new Float64Array(w * h);
    const gy = new Float64Array(w * h);
    forwardDifferences(s, w, h, gx, gy);
    let kept = 0;
    for (let i = 0; i < w * h; i++) {
      if (gx[i]! * gx[i]! + gy[i]! * gy[i]! < threshold) { gx[i] = 0; gy[i] = 0; } else kept++;
    }
    const expected = new Float64Array(w * h);
    differencesAdjoint(gx, gy, w, h, expected);
    const fused = Float64Array.from(s);
    expect(thresholdAndAdjoin(fused, w, h, threshold)).toBe(kept);
    expect(fused).toEqual(expected);
    if (w * h >= 100) expect(kept > 0 && kept < w * h).toBe(true); // the threshold keeps some, drops some
  });

  it.each([[1, 1], [1, 7], [9, 1], [2, 2], [17, 11], [64, 48]])('hyper-Laplacian w-step and adjoint, %i x %i', (w, h) => {
    const x = field(w, h, w * 31 + h);
    const [alpha, beta] = [2 / 3, 8];
    const table = shrinkTable(alpha, beta);
    const gx = new Float64Array(w * h);
    const gy = new Float64Array(w * h);
    forwardDifferences(x, w, h, gx, gy);
    for (let i = 0; i < w * h; i++) {
      gx[i] = shrinkGradient(gx[i]!, table, alpha, beta);
      gy[i] = shrinkGradient(gy[i]!, table, alpha, beta);
    }
    const expected = new Float64Array(w * h);
    differencesAdjoint(gx, gy, w, h, expected);
    const fused = Float64Array.from(x);
    shrinkAndAdjoin(fused, w, h, table, alpha, beta);
    expect(fused).toEqual(expected);
    if (w * h >= 100) expect(expected.some((v) => v !== 0)).toBe(true); // the case is not trivial
  });
});
