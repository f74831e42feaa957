/** Runs the same ONNX bytes on ONNX Runtime (the reference) and on this backend, and compares. */
import { seededRandom } from '@sgenet/core/synthetic';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';

import { loadOnnxGraph } from '../../src/index.js';
import type { TensorData, TfjsPlatform } from '../../src/index.js';

/** Uniform random float32 data in [low, high), reproducible from `seed`. */
export function randomData(dims: readonly number[], seed: number, low = -1, high = 1): Float32Array {
  const rand = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => low + (high - low) * rand());
}

export function floatFeed(dims: readonly number[], seed: number, low = -1, high = 1): TensorData {
  return { dtype: 'float32', dims: [...dims], data: randomData(dims, seed, low, high) };
}

/** ONNX Runtime outputs, as plain numbers (int64 converted). */
export async function runOrt(
  model: Uint8Array,
  feeds: Readonly<Record<string, TensorData>>,
  int64Inputs: readonly string[] = [],
): Promise<Record<string, { dims: number[]; data: Float64Array }>> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      if (int64Inputs.includes(name)) {
        ortFeeds[name] = new ort.Tensor('int64', BigInt64Array.from(feed.data, (v) => BigInt(v)), feed.dims);
      } else if (feed.dtype === 'bool') {
        ortFeeds[name] = new ort.Tensor('bool', Uint8Array.from(feed.data), feed.dims);
      } else {
        ortFeeds[name] = new ort.Tensor(feed.dtype, feed.data as Float32Array, feed.dims);
      }
    }
    const results = await session.run(ortFeeds);
    const out: Record<string, { dims: number[]; data: Float64Array }> = {};
    for (const [name, tensor] of Object.entries(results)) {
      const data = tensor.data as ArrayLike<number | bigint>;
      out[name] = { dims: [...tensor.dims], data: Float64Array.from({ length: data.length }, (_, i) => Number(data[i])) };
    }
    return out;
  } finally {
    await session.release();
  }
}

export interface Comparison {
  /** Largest |tfjs - ORT| over every output. */
  maxAbsDiff: number;
  /** Output dims per output name, as tfjs produced them. */
  dims: Record<string, number[]>;
}

/** Live TensorFlow.js tensors, or undefined before any backend has started. */
function liveTensors(): number | undefined {
  try {
    return tf.memory().numTensors;
  } catch {
    return undefined;
  }
}

/**
 * Runs `model` on ORT and on tfjs (`platform`) with `feeds`; throws when output names or dims
 * differ, or when the run or the session leaks a tensor, else returns the largest absolute
 * difference.
 */
export async function compareWithOrt(
  model: Uint8Array,
  feeds: Readonly<Record<string, TensorData>>,
  platform: TfjsPlatform,
  int64Inputs: readonly string[] = [],
): Promise<Comparison> {
  const expected = await runOrt(model, feeds, int64Inputs);
  const beforeLoad = liveTensors();
  const graph = await loadOnnxGraph(model, { platform });
  try {
    const afterLoad = liveTensors();
    const actual = await graph.run(feeds);
    if (liveTensors() !== afterLoad) throw new Error(`the run leaked ${liveTensors()! - afterLoad!} tensors`);
    let maxAbsDiff = 0;
    const dims: Record<string, number[]> = {};
    for (const [name, ref] of Object.entries(expected)) {
      const got = actual[name];
      if (!got) throw new Error(`tfjs produced no output "${name}"`);
      dims[name] = got.dims;
      if (got.dims.join('x') !== ref.dims.join('x')) {
        throw new Error(`output "${name}": tfjs dims ${got.dims.join('x')} but ORT ${ref.dims.join('x')}`);
      }
      for (let i = 0; i < ref.data.length; i++) {
        const a = got.data[i]!;
        const b = ref.data[i]!;
        if (Number.isNaN(a) !== Number.isNaN(b)) throw new Error(`output "${name}"[${i}]: tfjs ${a} but ORT ${b}`);
        if (!Number.isNaN(a) && a !== b) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
      }
    }
    return { maxAbsDiff, dims };
  } finally {
    await graph.dispose();
    if (beforeLoad !== undefined && liveTensors() !== beforeLoad) {
      throw new Error(`the session left ${liveTensors()! - beforeLoad} tensors behind`);
    }
  }
}
