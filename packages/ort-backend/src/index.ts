/**
 * @sgenet/ort-backend: runs SGENet on ONNX Runtime for Node.js (onnxruntime-node).
 *
 * CPU always works (the library ships inside onnxruntime-node). CUDA is used when the CUDA
 * execution provider is installed on the machine and requested (the default wish list is
 * `['cuda', 'cpu']`); otherwise the session silently falls back to CPU and reports it.
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

import {
  BackendError, DisposedError, InvalidOptionError, MODEL_TENSORS, ModelError, checkOptionNames, guideOption, invalidOption,
  isOneOf, isPlainObject, oneOfOption, quotedList, sigmaOption, threadsOption,
} from '@sgenet/core';
import type { Backend, ImageTensorDims, LoadOptions, ModelSource, Session, SessionRunOptions } from '@sgenet/core';
import * as ort from 'onnxruntime-node';

/** Execution providers this backend knows how to ask ONNX Runtime for. */
export const ORT_PROVIDERS = ['cuda', 'cpu'] as const;
export type OrtProvider = (typeof ORT_PROVIDERS)[number];

export interface OrtBackendOptions {
  /** Providers to try, in order. Default `['cuda', 'cpu']`. */
  providers?: readonly OrtProvider[];
  /** Intra-op threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** ONNX Runtime graph optimisation level. Default `'all'`. */
  graphOptimizationLevel?: GraphOptimizationLevel;
}

/** The graph optimisation levels ONNX Runtime takes: the allowed values and their validator. */
export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptimizationLevel = (typeof GRAPH_OPTIMIZATION_LEVELS)[number];

const OPTION_NAMES = ['providers', 'threads', 'graphOptimizationLevel'] as const;

function checkProviders(list: unknown): OrtProvider[] {
  const expected = `a list of ${quotedList(ORT_PROVIDERS)}`;
  if (!Array.isArray(list)) throw invalidOption('providers', expected, list);
  for (const p of list) {
    if (!isOneOf(ORT_PROVIDERS, p)) throw invalidOption('providers', expected, p);
  }
  if (list.length === 0) throw new InvalidOptionError('providers must name at least one provider');
  return [...list] as OrtProvider[];
}

/**
 * Whether onnxruntime-node's CUDA provider library is installed next to its binding. It is
 * downloaded by onnxruntime-node's install script only when that script is allowed to run
 * (this repository's `package.json` `allowScripts` skips it); asking for CUDA without it only logs errors.
 */
export function cudaProviderInstalled(): boolean {
  try {
    const pkgDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const libDir = join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(join(libDir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** The inputs of the SGENet export contract (core's table): the image, SGENet-σ's noise level, a guided model's photo. */
const { image: IMAGE_INPUT, sigma: SIGMA_INPUT, guide: GUIDE_INPUT, output: OUTPUT } = MODEL_TENSORS;

/** Checks the graph's inputs against the export contract; returns which optional ones it takes. */
function contractInputs(names: readonly string[]): { sigma: boolean; guide: boolean } {
  const known = names.every((n) => n === IMAGE_INPUT || n === SIGMA_INPUT || n === GUIDE_INPUT);
  if (!names.includes(IMAGE_INPUT) || !known) {
    throw new ModelError(
      `The model has inputs [${names.join(', ')}]; an SGENet model has "${IMAGE_INPUT}" (and "${SIGMA_INPUT}" for SGENet-σ, "${GUIDE_INPUT}" for a guided one): export it with training/export.py`,
    );
  }
  return { sigma: names.includes(SIGMA_INPUT), guide: names.includes(GUIDE_INPUT) };
}

class OrtSession implements Session {
  private disposed = false;
  private readonly takes: { sigma: boolean; guide: boolean };
  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: OrtProvider,
  ) {
    this.takes = contractInputs(session.inputNames);
  }

  async run(input: Float32Array, dims: ImageTensorDims, options: SessionRunOptions = {}): Promise<Float32Array> {
    if (this.disposed) throw new DisposedError('ORT session');
    const expected = dims[0] * dims[1] * dims[2] * dims[3];
    if (input.length !== expected) {
      throw new InvalidOptionError(`input has ${input.length} values but dims ${dims.join('x')} need ${expected}`);
    }
    const feeds: Record<string, ort.Tensor> = {};
    if (this.takes.sigma) feeds[SIGMA_INPUT] = new ort.Tensor('float32', Float32Array.of(sigmaOption(options.sigma)), [1]);
    if (this.takes.guide) feeds[GUIDE_INPUT] = new ort.Tensor('float32', guideOption(options.guide, expected), [...dims]);
    feeds[IMAGE_INPUT] = new ort.Tensor('float32', input, [...dims]);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run(feeds);
    } catch (err) {
      throw new BackendError(`ONNX Runtime failed on a ${dims.join('x')} tensor: ${(err as Error).message}`, { cause: err });
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
    const out = result[OUTPUT];
    if (!out) throw new ModelError(`The model has no "${OUTPUT}" output; export it with training/export.py`);
    const data = out.data as Float32Array;
    // Copy out of ORT-owned memory before releasing it.
    const copy = new Float32Array(data);
    out.dispose();
    return copy;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/** Creates the ONNX Runtime backend. */
export function createBackend(options: OrtBackendOptions = {}): Backend {
  if (!isPlainObject(options)) throw invalidOption('options', 'an object of ORT backend options', options);
  checkOptionNames(options, OPTION_NAMES, 'ORT backend option');
  const defaults = {
    providers: checkProviders(options.providers ?? ORT_PROVIDERS),
    threads: threadsOption(options.threads),
    level: oneOfOption('graphOptimizationLevel', options.graphOptimizationLevel, GRAPH_OPTIMIZATION_LEVELS) ?? 'all',
  };
  return {
    name: 'ort',
    async load(model: ModelSource, loadOptions: LoadOptions = {}): Promise<Session> {
      const wished = loadOptions.providers ? checkProviders(loadOptions.providers) : defaults.providers;
      const providers = wished.filter((p) => p !== 'cuda' || cudaProviderInstalled());
      if (providers.length === 0) {
        throw new BackendError(
          'CUDA was requested but onnxruntime-node has no CUDA provider installed: run ' +
            '`ONNXRUNTIME_NODE_INSTALL=true npm rebuild onnxruntime-node --allow-scripts=onnxruntime-node` on a CUDA machine, or allow cpu',
        );
      }
      const threads = threadsOption(loadOptions.threads) ?? defaults.threads ?? availableParallelism();
      const failures: string[] = [];
      for (const provider of providers) {
        const sessionOptions: ort.InferenceSession.SessionOptions = {
          executionProviders: [provider],
          graphOptimizationLevel: defaults.level,
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
        };
        try {
          const session =
            typeof model === 'string'
              ? await ort.InferenceSession.create(model, sessionOptions)
              : await ort.InferenceSession.create(model, sessionOptions);
          try {
            return new OrtSession(session, provider);
          } catch (err) {
            await session.release();
            throw err;
          }
        } catch (err) {
          if (err instanceof ModelError) throw err;
          failures.push(`${provider}: ${(err as Error).message}`);
        }
      }
      throw new BackendError(
        `ONNX Runtime could not load the model with any of ${providers.join(', ')} (${failures.join('; ')}). ` +
          'For CUDA, install the CUDA provider (see @sgenet/ort-backend README); for CPU check the model file.',
      );
    },
  };
}

/** The default ORT backend (CUDA when available, else CPU). */
export const ortBackend: Backend = createBackend();
