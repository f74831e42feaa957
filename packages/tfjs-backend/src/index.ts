/**
 * @sgenet/tfjs-backend: runs SGENet (or any ONNX graph made of the supported ops) on
 * TensorFlow.js, with no ONNX Runtime and no native code required.
 *
 * The ONNX file is read by a small protobuf reader and interpreted op by op with TensorFlow.js.
 * Platforms, best first: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` (optional peers,
 * used when installed), WebAssembly (`@tensorflow/tfjs-backend-wasm`, SIMD when available), and
 * plain JavaScript (`@tensorflow/tfjs-backend-cpu`).
 *
 * @packageDocumentation
 */
import { DisposedError, InvalidOptionError, MODEL_TENSORS, ModelError, guideOption, invalidOption, readModelBytes, sigmaOption } from '@sgenet/core';
import type { Backend, ImageTensorDims, LoadOptions, ModelSource, Session, SessionRunOptions } from '@sgenet/core';

import { parseOnnxModel } from './onnx/model.js';
import { OPS } from './ops/index.js';
import { TFJS_PLATFORMS, activate, exclusive, selectPlatform, wasmFeatures } from './platform.js';
import type { TfjsPlatform } from './platform.js';
import { CompiledGraph } from './runtime/graph.js';
import type { TensorData } from './runtime/graph.js';

export { TFJS_PLATFORMS } from './platform.js';
export type { TfjsPlatform } from './platform.js';
export type { TensorData } from './runtime/graph.js';
export { UnsupportedOpError } from './errors.js';
export { parseOnnxModel } from './onnx/model.js';
export type { OnnxAttribute, OnnxGraph, OnnxModel, OnnxNode, OnnxValueInfo } from './onnx/model.js';
export type { HostTensor } from './runtime/host-tensor.js';

/** The ONNX op types (default domain) this backend runs, sorted. */
export const SUPPORTED_OPS: readonly string[] = Object.freeze(Object.keys(OPS).sort());

/**
 * Default tile side on tfjs: 640. The WebAssembly heap grows to the largest tile's working set
 * and never shrinks, so tfjs takes smaller tiles than ORT. `sgenet deblur --backend tfjs` on the
 * benchmark's 12 MP photo (the whole pipeline, SGENet-σ): peak RSS 1027 MiB with 768 px tiles,
 * over the 1 GB budget, 788 MiB with 512. Smaller tiles cost more than their re-read overlap on
 * tfjs: a 2 MP `deblur()` took 1.21x the time of 768 px tiles at 640 and 1.54x at 512 (training
 * log, session 24).
 */
export const TFJS_TILE_SIZE = 640;

/** Options of {@link createBackend}. */
export interface TfjsBackendOptions {
  /**
   * Where to run: `'auto'` (default) tries `tensorflow-gpu`, `tensorflow`, `wasm`, `cpu` in that
   * order and takes the first that starts; naming one forces it (loading fails if it cannot start).
   */
  platform?: TfjsPlatform | 'auto';
}

/** Options of {@link OnnxGraphSession.run}. */
export interface GraphRunOptions {
  /**
   * Profiling: called after each node with its op type, name and wall time. TensorFlow.js work
   * on the cpu and wasm platforms is synchronous, so the time is the node's own.
   */
  onNode?: (opType: string, nodeName: string, milliseconds: number) => void;
}

/** Options of {@link loadOnnxGraph}. */
export interface GraphLoadOptions {
  /** A platform, or a wish list in priority order. Default: all of {@link TFJS_PLATFORMS}. */
  platform?: TfjsPlatform | 'auto' | readonly TfjsPlatform[];
}

function platformList(value: unknown, name: string): TfjsPlatform[] {
  const expected = `'auto' or one of ${TFJS_PLATFORMS.map((p) => `'${p}'`).join(', ')}`;
  if (value === undefined || value === 'auto') return [...TFJS_PLATFORMS];
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) throw new InvalidOptionError(`${name} must name at least one platform`);
  for (const p of list) {
    if (!(TFJS_PLATFORMS as readonly unknown[]).includes(p)) throw invalidOption(name, expected, p);
  }
  return list as TfjsPlatform[];
}

/**
 * A loaded ONNX graph on one TensorFlow.js platform: named tensors in, named tensors out.
 * The image {@link Session} of {@link createBackend} is built on it.
 */
export class OnnxGraphSession {
  private disposed = false;

  /** @internal Use {@link loadOnnxGraph}. */
  constructor(
    private readonly graph: CompiledGraph,
    /** The platform the graph runs on. */
    readonly platform: TfjsPlatform,
  ) {}

  /** Names of the graph inputs (initializers excluded), in declaration order. */
  get inputNames(): string[] {
    return this.graph.inputs.map((i) => i.name);
  }

  /** Names of the graph outputs, in declaration order. */
  get outputNames(): string[] {
    return this.graph.outputs.map((o) => o.name);
  }

  /**
   * Runs the graph. Runs of every tfjs session in the process are serialised (TensorFlow.js has
   * one active backend); all intermediate tensors are freed before the promise settles.
   */
  run(feeds: Readonly<Record<string, TensorData>>, options: GraphRunOptions = {}): Promise<Record<string, TensorData>> {
    if (this.disposed) return Promise.reject(new DisposedError('tfjs graph session'));
    const { onNode } = options;
    return exclusive(async () => {
      if (this.disposed) throw new DisposedError('tfjs graph session');
      await activate(this.platform);
      return this.graph.run(feeds, onNode && ((node, ms) => onNode(node.opType, node.name, ms)));
    });
  }

  /** Frees the weights. The session cannot be used afterwards. */
  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.disposed = true;
    // Queued behind running work: a run in progress keeps its weights until it finishes.
    return exclusive(() => this.graph.dispose());
  }
}

/**
 * Loads an ONNX model (bytes or a file path) onto the first TensorFlow.js platform of the wish
 * list that starts. Weights are uploaded once here.
 *
 * @throws {@link UnsupportedOpError} when the graph uses an op this backend lacks.
 * @throws `ModelError` when the bytes are not a usable ONNX model.
 * @throws `BackendUnavailableError` when no wished platform can start.
 */
export async function loadOnnxGraph(model: ModelSource, options: GraphLoadOptions = {}): Promise<OnnxGraphSession> {
  const wishes = platformList(options.platform, 'platform');
  const parsed = parseOnnxModel(await readModelBytes(model));
  CompiledGraph.check(parsed); // unsupported ops fail here, before any platform starts
  const platform = await selectPlatform(wishes);
  const graph = await exclusive(async () => {
    await activate(platform);
    return CompiledGraph.compile(parsed);
  });
  return new OnnxGraphSession(graph, platform);
}

/**
 * The image session core's deblurrer drives: one `[1, 3, H, W]` float32 tensor in and out, plus
 * the noise level `sigma` (float32 `[1]`) for an SGENet-σ model and the photo's tile `guide`
 * (the input's dims) for a guided one.
 */
export class TfjsSession implements Session {
  private disposed = false;

  /** @internal Use {@link createBackend}. */
  constructor(
    private readonly graph: OnnxGraphSession,
    private readonly inputName: string,
    private readonly outputName: string,
    /** The graph's `sigma` input, when it has one. */
    private readonly sigmaName?: string,
    /** The graph's `guide` input, when it has one. */
    private readonly guideName?: string,
  ) {}

  /** The platform running the model: `tensorflow-gpu`, `tensorflow`, `wasm` or `cpu`. */
  get provider(): TfjsPlatform {
    return this.graph.platform;
  }

  /** Whether the wasm platform uses SIMD and threads (undefined on other platforms). */
  async wasmFeatures(): Promise<{ simd: boolean; threads: boolean } | undefined> {
    return this.provider === 'wasm' ? wasmFeatures() : undefined;
  }

  /** Runs the model on one `[1, 3, H, W]` tensor (see core's `Session.run`). */
  async run(input: Float32Array, dims: ImageTensorDims, options: SessionRunOptions = {}): Promise<Float32Array> {
    if (this.disposed) throw new DisposedError('tfjs session');
    const expected = dims[0] * dims[1] * dims[2] * dims[3];
    if (!(input instanceof Float32Array) || input.length !== expected) {
      throw new InvalidOptionError(
        `input has ${(input as { length?: number }).length} values but dims ${dims.join('x')} need ${expected}`,
      );
    }
    const feeds: Record<string, TensorData> = { [this.inputName]: { dtype: 'float32', dims: [...dims], data: input } };
    if (this.sigmaName !== undefined) {
      feeds[this.sigmaName] = { dtype: 'float32', dims: [1], data: Float32Array.of(sigmaOption(options.sigma)) };
    }
    if (this.guideName !== undefined) {
      feeds[this.guideName] = { dtype: 'float32', dims: [...dims], data: guideOption(options.guide, expected) };
    }
    const outputs = await this.graph.run(feeds);
    const out = outputs[this.outputName];
    if (!out || out.dtype !== 'float32') {
      throw new ModelError(`The model has no float "${this.outputName}" output; export it with training/export.py`);
    }
    return out.data as Float32Array;
  }

  /** Frees the weights; later runs reject with `ERR_SGENET_DISPOSED`. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.graph.dispose();
  }
}

/**
 * Creates the TensorFlow.js backend for `@sgenet/core` (`backend: 'tfjs'` calls this).
 *
 * `load()` also honours core's `providers` option as a platform wish list (e.g. `['wasm', 'cpu']`);
 * `threads` is ignored: tfjs-node sizes its own thread pool and wasm runs single-threaded in Node.
 *
 * ```ts
 * import { createDeblurrer } from '@sgenet/core';
 * import { createBackend } from '@sgenet/tfjs-backend';
 *
 * const deblurrer = await createDeblurrer({ backend: createBackend({ platform: 'wasm' }) });
 * ```
 */
export function createBackend(options: TfjsBackendOptions = {}): Backend {
  const defaultWishes = platformList(options.platform, 'platform');
  return {
    name: 'tfjs',
    preferredTileSize: TFJS_TILE_SIZE,
    async load(model: ModelSource, loadOptions: LoadOptions = {}): Promise<Session> {
      const wishes = loadOptions.providers ? platformList(loadOptions.providers, 'providers') : defaultWishes;
      const graph = await loadOnnxGraph(model, { platform: wishes });
      // The export contract (core's MODEL_TENSORS): the image input ("blurry", or the only other
      // input of the graph), "sigma" beside it for an SGENet-σ model, and "guide" for a guided one.
      const names = graph.inputNames;
      const sigmaName = names.includes(MODEL_TENSORS.sigma) ? MODEL_TENSORS.sigma : undefined;
      const guideName = names.includes(MODEL_TENSORS.guide) ? MODEL_TENSORS.guide : undefined;
      const images = names.filter((n) => n !== sigmaName && n !== guideName);
      const inputName = images.length === 1 ? images[0] : undefined;
      const outputName = graph.outputNames.includes(MODEL_TENSORS.output) ? MODEL_TENSORS.output : graph.outputNames[0];
      if (inputName === undefined || outputName === undefined) {
        await graph.dispose();
        throw new ModelError(
          `The model has inputs [${names.join(', ')}]; an SGENet model has one image input ("${MODEL_TENSORS.image}"), "${MODEL_TENSORS.sigma}" for SGENet-σ and "${MODEL_TENSORS.guide}" for a guided one (export it with training/export.py)`,
        );
      }
      return new TfjsSession(graph, inputName, outputName, sigmaName, guideName);
    },
  };
}

/** The default tfjs backend (best installed platform). */
export const tfjsBackend: Backend = createBackend();
