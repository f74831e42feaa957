/** Interleaved pixels: `channels` samples per pixel, row-major, top row first. */
export interface RawImage {
  /** 8-bit (`Uint8Array`/`Uint8ClampedArray`) or 16-bit (`Uint16Array`) samples. */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. Alpha is passed through untouched. */
  channels: 1 | 2 | 3 | 4;
}

/**
 * A blur kernel (point-spread function): `width` x `height` non-negative weights, row-major,
 * summing to 1, its centre tap at ((width - 1) / 2, (height - 1) / 2) rounded down.
 */
export interface BlurKernel {
  width: number;
  height: number;
  data: Float32Array;
}

/** A model: the bytes of an ONNX file, a path to one, or the name of a model shipped in `@sgenet/core` (`SHIPPED_MODELS`). */
export type ModelSource = Uint8Array | string;

/** Tensor shape accepted by {@link Session.run}: batch 1, 3 colour planes (NCHW). */
export type ImageTensorDims = readonly [1, 3, number, number];

/** Options every backend understands when loading a model. */
export interface LoadOptions {
  /**
   * Execution provider wish list in priority order (e.g. `['cuda', 'cpu']`). Backends try each in
   * turn and report the one they got in {@link Session.provider}. Default: the backend's best.
   */
  providers?: readonly string[];
  /** Intra-op threads. Default: the number of available cores. */
  threads?: number;
}

/** Per-run inputs of {@link Session.run} besides the image. */
export interface SessionRunOptions {
  /**
   * The noise level the network removes, in the image's [0, 1] units: fed as the `sigma` input
   * (float32 `[1]`) of a noise-conditioned model (metadata `sigma_input: "true"`, SGENet-σ), which
   * requires it. A model without that input ignores it. One value for the whole photo: every tile
   * of a photo gets the same σ.
   */
  sigma?: number;
  /**
   * The photo the input was deconvolved from, cut from the same tile (the same dims as the input,
   * RGB in [0, 1]): fed as the `guide` input of a guided model (metadata `guide_input: "true"`),
   * which requires it; the photo itself when there is no kernel. A model without that input
   * ignores it. Checked with `guideOption`.
   */
  guide?: Float32Array;
}

/** A loaded model on one engine. Runs one NCHW float32 tensor at a time. */
export interface Session {
  /** What actually runs the model, e.g. `cpu`, `cuda`, `wasm`, `tensorflow`. */
  readonly provider: string;
  /**
   * Runs the model on `input` (length `dims` product, RGB in [0, 1]) and resolves with the
   * restored tensor of the same dims, unclamped. A noise-conditioned model also needs
   * `options.sigma` (`sigmaOption`), and a guided one `options.guide` (`guideOption`); a session
   * rejects a run without them (`InvalidOptionError`).
   */
  run(input: Float32Array, dims: ImageTensorDims, options?: SessionRunOptions): Promise<Float32Array>;
  /** Frees the engine's memory. The session cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** An inference engine. Implemented by `@sgenet/ort-backend` and `@sgenet/tfjs-backend`. */
export interface Backend {
  /** Short name: `ort`, `tfjs`. */
  readonly name: string;
  /**
   * Default tile side (px) when the caller sets no `tileSize`: the largest tile this backend runs
   * within the memory budget (a 12 MP photo in at most 1 GB). Omitted: `DEFAULT_TILE_SIZE` (896).
   */
  readonly preferredTileSize?: number;
  load(model: ModelSource, options?: LoadOptions): Promise<Session>;
}

/** The stages of a restoration, in the order they run. */
export type Stage = 'kernel' | 'deconvolve' | 'network';

/**
 * Progress of a long call. `done` / `total` count the steps of the current `stage` (estimation
 * steps, deconvolution tiles, network tiles); stages run in the order kernel → deconvolve →
 * network, each only when the call needs it.
 */
export interface Progress {
  done: number;
  total: number;
  /** Omitted by callers that have one stage only. */
  stage?: Stage;
}

export type ProgressCallback = (progress: Progress) => void;
