/**
 * @sgenet/core: SGENet motion deblurring for Node.js.
 *
 * `createDeblurrer()` loads the shipped SGENet models on the best installed backend and returns a
 * deblurrer for raw pixels; adapters (`@sgenet/sharp`, `@sgenet/express`) build on it. Synthetic
 * test material (camera-shake kernels, test scenes, PSNR) is at `@sgenet/core/synthetic`.
 *
 * @packageDocumentation
 */
export {
  checkPipelineOptions,
  createDeblurrer,
  defaultOverlap,
  DEFAULT_KERNEL,
  DEFAULT_MAX_PIXELS,
  DEFAULT_NETWORK_AFTER_DECONVOLUTION,
  defaultNetworkAfterDeconvolution,
  DEFAULT_TILE_SIZE,
  FREE_IDLE_PIXELS,
  describeKernelUsed,
  CONFIDENT_KERNEL,
  KERNEL_VERDICT_TEXT,
  kernelVerdict,
  minTileSizeFor,
  NO_KERNEL_MODEL,
  PRIOR_DECONVOLUTION_TILE_SIZE,
  PRIOR_TILE_SIZE,
  defaultTileSizeFor,
  EFFORTS,
  BEST_ITERATIONS,
} from './deblurrer.js';
export type { Deblurrer, DeblurrerOptions, DeblurOptions, KernelChoice, KernelUsed, KernelVerdict, Effort } from './deblurrer.js';
export { estimateKernel } from './kernel/estimate.js';
export type { CandidateScore, KernelEstimate } from './kernel/estimate.js';
export type { KernelKeptBy } from './kernel/guard.js';
export { BLIND_SCORE_MIN_NOISE } from './kernel/blind-score.js';
export {
  DEFAULT_MAX_WORKING_SIZE, DEFAULT_MIN_CONFIDENCE, DEFAULT_WINDOW, defaultMaxSize, defaultStartSize, LARGE_LADDER_CONFIDENCE_MARGIN, LARGE_LADDER_MAX_ITERATIONS, LARGE_LADDER_MAX_PATH_WIDTH, LARGE_SIZE_SHARES, MAX_ESTIMATED_KERNEL_SIZE, PEAKED_MIN_AGREEMENT, PEAKED_MIN_CONFIDENCE, QUIET_MIN_SPECTRAL_EVIDENCE, REFUSED_START_MAX_SIZE, SPECTRAL_PEAK_ALLOWANCE,
  SPREAD_TAPS, WIDE_WINDOW,
} from './kernel/options.js';
export { AGREEMENT_SHIFT, kernelAgreement } from './kernel/agreement.js';
export { REGIONS_CHOICES, regionsFromText } from './kernel/options.js';
export type { EstimateKernelOptions, KernelCentre } from './kernel/options.js';
export { cellIndexAt, gridCell, isKernelGrid, REGION_MAX_AGREEMENT, REGION_MIN_GAIN } from './kernel/regions.js';
export type { KernelGrid, RegionsChoice } from './kernel/regions.js';
export {
  kernelFromGrey,
  kernelToGrey,
  kernelToJson,
  MAX_GRID_SIDE,
  MAX_KERNEL_SIDE,
  parseKernelJson,
  validateKernel,
  validateKernelGrid,
} from './kernel/kernel-file.js';
export { centreOfMass, supportMidpoint } from './kernel/cleanup.js';
export { deconvolve } from './deconvolve/deconvolve.js';
export { MAX_DECONVOLUTION_OVERLAP } from './deconvolve/passes.js';
export { hqsDataStep, hqsFieldSize } from './deconvolve/hqs.js';
export { hqsAlpha, pnpSigmas, PNP_ONE_PASS_WEIGHT, PNP_SIGMA_START, PNP_WEIGHT } from './deconvolve/pnp.js';
export { DEFAULT_NOISE_FLOOR } from './deconvolve/options.js';
export type { DeconvolutionColor, DeconvolutionMethod, DeconvolveOptions } from './deconvolve/options.js';
export { estimateNoise } from './deconvolve/noise.js';
export { DEFAULT_CLIP_LEVEL } from './pixels/clipped.js';
export type {
  Backend,
  BlurKernel,
  ImageTensorDims,
  SessionRunOptions,
  LoadOptions,
  ModelSource,
  Progress,
  ProgressCallback,
  RawImage,
  Session,
  Stage,
} from './types.js';
export {
  AbortError,
  BackendError,
  BackendUnavailableError,
  DisposedError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidKernelError,
  InvalidOptionError,
  ModelError,
  OutputExistsError,
  SgenetError,
  StorageError,
  throwIfAborted,
} from './errors.js';
export type { SgenetErrorCode } from './errors.js';
export { resolveBackend, BACKEND_PACKAGES } from './backend/resolve.js';
export type { BackendChoice, BackendName } from './backend/resolve.js';
export {
  DEFAULT_MODEL_FILE,
  defaultModelPath,
  MODEL_TENSORS,
  SHIPPED_MODELS,
  shippedModelPath,
  modelInfoFromBytes,
  readModelBytes,
} from './model/model-info.js';
export type { ModelInfo, ShippedModel } from './model/model-info.js';
export { planTiles, planAxis, axisWeight, featherFor } from './tiling/plan.js';
export type { AxisSpan, Tile, TilePlan, TilePlanOptions } from './tiling/plan.js';
export { readTensor, reflectIndex, describeImage } from './pixels/image.js';
export type { PixelLayout } from './pixels/image.js';
export {
  checkOptionNames,
  invalidOption,
  isPlainObject,
  isIntegerInRange,
  integerOption,
  isOneOf,
  oneOf,
  oneOfOption,
  quotedList,
  functionOption,
  signalOption,
  booleanOption,
  numberOption,
  sigmaOption,
  guideOption,
} from './validate.js';
export {
  backendOption,
  checkTileOverlap,
  isOutputFormat,
  modelOption,
  OUTPUT_FORMATS,
  outputFormatOption,
  OVERLAP_RANGE,
  threadsOption,
  TILE_SIZE_RANGE,
  tilingOptions,
} from './adapter-options.js';
export type { OutputFormat } from './adapter-options.js';
export { DeblurrerHolder, deblurrerOption } from './holder.js';
export type { DeblurrerSource } from './holder.js';
