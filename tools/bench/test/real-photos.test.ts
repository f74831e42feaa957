/** The real-photo benchmark's kernel NCC, against hand-made kernels with known answers. */
import { describe, expect, it } from 'vitest';

import { kernelNcc } from '../src/real-photos.js';

const kernel = (side: number, taps: [number, number][]) => {
  const data = new Float32Array(side * side);
  for (const [y, x] of taps) data[y * side + x] = 1 / taps.length;
  return { width: side, height: side, data };
};

describe('kernelNcc', () => {
  const stroke = kernel(9, [[4, 1], [4, 2], [4, 3], [5, 4], [6, 5]]);
  it('is 1 for the same kernel shifted within a larger frame, and for its 180° turn', () => {
    const shifted = kernel(15, [[9, 5], [9, 6], [9, 7], [10, 8], [11, 9]]);
    expect(kernelNcc(stroke, shifted)).toBeCloseTo(1, 6);
    const turned = kernel(9, [[4, 7], [4, 6], [4, 5], [3, 4], [2, 3]]);
    expect(kernelNcc(stroke, turned)).toBeCloseTo(1, 6);
  });
  it('is the overlap share for strokes that cross (hand-computed)', () => {
    const horizontal = kernel(9, [[4, 2], [4, 3], [4, 4], [4, 5], [4, 6]]);
    const vertical = kernel(9, [[2, 4], [3, 4], [4, 4], [5, 4], [6, 4]]);
    // Best alignment puts one tap on one tap: dot = 1/25, norms 1/√5 each -> 1/5.
    expect(kernelNcc(horizontal, vertical)).toBeCloseTo(0.2, 6);
  });
});
