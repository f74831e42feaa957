/**
 * @sgenet/core: SGENet motion deblurring for Node.js.
 *
 * `createDeblurrer()` loads the shipped SGENet model on the best installed backend and returns a
 * deblurrer for raw pixels; adapters (`@sgenet/sharp`, `@sgenet/express`) build on it.
 *
 * @packageDocumentation
 */
export { createDeblurrer, defaultOverlap, DEFAULT_MAX_PIXELS, DEFAULT_TILE_SIZE } from './deblurrer.js';
export type { Deblurrer, DeblurrerOptions, DeblurOptions } from './deblurrer.js';
export type {
  Backend,
  ImageTensorDims,
  LoadOptions,
  ModelSource,
  Progress,
  ProgressCallback,
  RawImage,
  Session,
} from './types.js';
export {
  AbortError,
  BackendError,
  BackendUnavailableError,
  DisposedError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  ModelError,
  SgenetError,
  throwIfAborted,
} from './errors.js';
export type { SgenetErrorCode } from './errors.js';
export { resolveBackend, BACKEND_PACKAGES } from './backend/resolve.js';
export type { BackendChoice, BackendName } from './backend/resolve.js';
export {
  DEFAULT_MODEL_FILE,
  defaultModelPath,
  modelInfoFromBytes,
  readModelBytes,
} from './model/model-info.js';
export type { ModelInfo } from './model/model-info.js';
export { planTiles, planAxis, axisWeight, featherFor } from './tiling/plan.js';
export type { AxisSpan, Tile, TilePlan, TilePlanOptions } from './tiling/plan.js';
export { readTensor, reflectIndex, describeImage } from './pixels/image.js';
export type { PixelLayout } from './pixels/image.js';
export { invalidOption, isPlainObject, integerOption, functionOption, signalOption } from './validate.js';
export { trajectoryKernel, applyBlur, testChart, deadLeaves, psnr, laplacianVariance, seededRandom } from './synthetic/motion-blur.js';
export type { BlurKernel, TrajectoryOptions } from './synthetic/motion-blur.js';
