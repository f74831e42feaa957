/**
 * `@sgenet/core/synthetic`: made-here test material for tests, demos and benchmarks that must not
 * depend on third-party images or kernels. Synthetic camera shake (`trajectoryKernel`, the model of
 * the training pipeline's generator with its parameters in `TRAJECTORY_MODEL`; `applyBlur`;
 * `applyBlurGrid`, and `twoRegionShake` with `mirroredKernel` for shake that varies), sharp
 * scenes (`testChart`, `deadLeaves`), quality measures (`psnr`, `psnrAligned`,
 * `laplacianVariance`) and the seeded random stream behind them (`seededRandom`).
 *
 * @example
 * ```ts
 * import { applyBlur, psnr, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
 * const sharp = testChart(256, 192);
 * const blurry = applyBlur(sharp, trajectoryKernel({ length: 15, seed: 3 }), { noise: 0.01 });
 * console.log(`${psnr(blurry, sharp).toFixed(2)} dB`);
 * ```
 *
 * @packageDocumentation
 */
export {
  applyBlur,
  applyBlurGrid,
  deadLeaves,
  laplacianVariance,
  mirroredKernel,
  psnr,
  psnrAligned,
  seededRandom,
  testChart,
  TRAJECTORY_MODEL,
  trajectoryKernel,
  twoRegionShake,
} from './motion-blur.js';
export type { TrajectoryOptions } from './motion-blur.js';
export type { BlurKernel, RawImage } from '../types.js';
