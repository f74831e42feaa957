import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { ModelError } from '../errors.js';
import { readOnnxMetadata } from '../onnx/metadata.js';
import type { ModelSource } from '../types.js';

/** What core needs to know about a model, read from its ONNX `metadata_props`. */
export interface ModelInfo {
  name: string;
  version: string;
  /** Input sides must be multiples of this. */
  multiple: number;
  /** Context (px) beyond which the input no longer affects an output pixel measurably. */
  receptiveField: number;
  parameters?: number;
  gflopPerMegapixel?: number;
  /**
   * Whether the model takes the noise level as a second input `sigma` (float32 `[1]`, metadata
   * `sigma_input: "true"`): SGENet-σ, the learned prior of the deconvolution. Such a model runs
   * after the deconvolution by default, given the σ the pipeline sets.
   */
  sigmaInput: boolean;
  /**
   * Whether the model also takes the blurry photo as an input `guide` (float32 `[1,3,H,W]`, the
   * input's tile of the photo; metadata `guide_input: "true"`): a guided SGENet-σ, which can tell
   * the deconvolution's ringing from the photo's structure. The pipeline cuts it from the photo
   * with every tile.
   */
  guideInput: boolean;
  /** All metadata_props, verbatim. */
  metadata: Readonly<Record<string, string>>;
}

/**
 * The tensor names of the SGENet export contract (training/export.py), one table for every
 * backend: the image input, the noise level of an SGENet-σ model ({@link ModelInfo.sigmaInput}),
 * the blurry photo of a guided one ({@link ModelInfo.guideInput}), and the output.
 */
export const MODEL_TENSORS = { image: 'blurry', sigma: 'sigma', guide: 'guide', output: 'restored' } as const;

/**
 * File name of the default model shipped inside this package: SGENet-σ (`sgenet-s-sigma.onnx`),
 * the noise-conditioned learned prior of the deconvolution, which met the default's shipping rule
 * on quality and on cost (model card; training log, session 19). `deblur()`'s default pairs it with
 * v0.4.0 where no kernel is used (`NO_KERNEL_MODEL`).
 */
export const DEFAULT_MODEL_FILE = 'sgenet-s-sigma.onnx';

/** Absolute path of the shipped default model. */
export function defaultModelPath(): string {
  return shippedModelPath(DEFAULT_MODEL_FILE.replace(/\.onnx$/, '') as ShippedModel);
}

/**
 * The models shipped inside this package, by name: `'sgenet-s-sigma'` (SGENet-σ, the default: the
 * noise-conditioned learned prior of the deconvolution; see the model card) and `'sgenet-s'`
 * (v0.4.0, the previous default, without a noise input). A `model` option naming one
 * (`createDeblurrer({ model: 'sgenet-s' })`, the CLI's `--model sgenet-s`) loads it.
 */
export const SHIPPED_MODELS = ['sgenet-s', 'sgenet-s-sigma'] as const;
export type ShippedModel = (typeof SHIPPED_MODELS)[number];

/** Absolute path of a model shipped inside this package ({@link SHIPPED_MODELS}). */
export function shippedModelPath(name: ShippedModel): string {
  if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
    throw new ModelError(`No shipped model is called ${JSON.stringify(name)}: one of ${SHIPPED_MODELS.join(', ')}, or a path to an ONNX file`);
  }
  return fileURLToPath(new URL(`../../models/${name}.onnx`, import.meta.url));
}

function positiveInt(meta: Record<string, string>, key: string, fallback?: number): number {
  const raw = meta[key];
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ModelError(`The model has no "${key}" metadata; export it with training/export.py`);
  }
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) {
    throw new ModelError(`The model's "${key}" metadata is ${JSON.stringify(raw)}, not a non-negative integer: export the model with training/export.py, which writes the metadata core needs`);
  }
  return v;
}

/** A "true"/"false" metadata flag; absent is false. */
function flagOf(meta: Record<string, string>, key: 'sigma_input' | 'guide_input'): boolean {
  const raw = meta[key];
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ModelError(`The model's "${key}" metadata is ${JSON.stringify(raw)}, not "true" or "false": export the model with training/export.py`);
}

/** Parses the metadata of an ONNX model (bytes). */
export function modelInfoFromBytes(bytes: Uint8Array): ModelInfo {
  const metadata = readOnnxMetadata(bytes);
  const optionalNumber = (k: string) => (metadata[k] === undefined ? undefined : Number(metadata[k]));
  return {
    name: metadata.name ?? 'unnamed',
    version: metadata.version ?? '0.0.0',
    multiple: Math.max(1, positiveInt(metadata, 'multiple', 8)),
    receptiveField: positiveInt(metadata, 'receptive_field', 64),
    parameters: optionalNumber('parameters'),
    gflopPerMegapixel: optionalNumber('gflop_per_megapixel'),
    sigmaInput: flagOf(metadata, 'sigma_input'),
    guideInput: flagOf(metadata, 'guide_input'),
    metadata,
  };
}

/**
 * Reads a model source into bytes: bytes as they are, the name of a shipped model
 * ({@link SHIPPED_MODELS}), or a path read from disk.
 */
export async function readModelBytes(source: ModelSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (typeof source !== 'string' || source.length === 0) {
    throw new ModelError(`Expected model to be a file path, a shipped model's name or a Uint8Array but received ${typeof source}`);
  }
  if ((SHIPPED_MODELS as readonly string[]).includes(source)) source = shippedModelPath(source as ShippedModel);
  try {
    return new Uint8Array(await readFile(source));
  } catch (err) {
    throw new ModelError(`Cannot read the model file ${source}: ${(err as Error).message}`, { cause: err });
  }
}
