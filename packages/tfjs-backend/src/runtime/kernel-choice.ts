/**
 * Formulations that depend on the active TensorFlow.js backend. Each choice was measured on this
 * project's shapes (NHWC feature maps of 16-64 channels): the same op can differ 10x between
 * backends, e.g. wasm's DepthToSpace and last-axis Concat are plain JavaScript loops while its
 * Transpose and convolutions are XNNPACK/C++, and the cpu backend's Slice and Transpose do index
 * arithmetic per element while its Concat and DepthToSpace copy rows.
 */
import * as tf from '@tensorflow/tfjs-core';

/** wasm: a pixel shuffle as reshape + transpose beats its DepthToSpace kernel ~10x. */
export function depthToSpaceByTranspose(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * wasm: concatenating along channels (the innermost NHWC axis) costs about two 3x3 convs, so a
 * conv that reads a channel concat is better run as one conv per part, summed (see rewrites.ts).
 */
export function avoidChannelConcat(): boolean {
  return tf.getBackend() === 'wasm';
}

/** cpu: tf.slice of a strided region costs ~50x a row-copying loop; use {@link sliceRows}. */
export function sliceByRows(): boolean {
  return tf.getBackend() === 'cpu';
}

/**
 * `tf.slice` done as row copies over the backing array: for every position of the leading axes,
 * one contiguous run of the innermost axis. Only for the cpu backend, whose dataSync() returns
 * the backing array without copying.
 */
export function sliceRows(x: tf.Tensor, begin: readonly number[], size: readonly number[]): tf.Tensor {
  const source = x.dataSync();
  const rank = x.rank;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= x.shape[axis]!;
  }
  const total = size.reduce((a, b) => a * b, 1);
  const out = source instanceof Float32Array ? new Float32Array(total) : new Int32Array(total);
  const run = size[rank - 1] ?? 1;
  const rows = total / run;
  const counter = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let row = 0; row < rows; row++) {
    let from = (begin[rank - 1] ?? 0) * (strides[rank - 1] ?? 1);
    for (let axis = 0; axis < rank - 1; axis++) from += (begin[axis]! + counter[axis]!) * strides[axis]!;
    const to = row * run;
    for (let i = 0; i < run; i++) out[to + i] = source[from + i] as number;
    for (let axis = rank - 2; axis >= 0; axis--) {
      if (++counter[axis]! < size[axis]!) break;
      counter[axis] = 0;
    }
  }
  return tf.tensor(out, [...size], x.dtype);
}

/** Drops size-1 axes and merges axes that stay adjacent: the smallest equivalent transpose. */
export function coalesceTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.flatMap((d, axis) => (d === 1 ? [] : [axis]));
  const renumber = new Map(kept.map((axis, i) => [axis, i]));
  const q = perm.filter((axis) => shape[axis] !== 1).map((axis) => renumber.get(axis)!);
  const dims = kept.map((axis) => shape[axis]!);
  // Runs of output axes that are consecutive input axes become one axis.
  const runs: number[][] = [];
  for (const axis of q) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1]! + 1 === axis) last.push(axis);
    else runs.push([axis]);
  }
  const byInput = [...runs].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((run) => run.reduce((p, axis) => p * dims[axis]!, 1)),
    perm: runs.map((run) => byInput.indexOf(run)),
  };
}

function transposeOnce(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
  const outShape = perm.map((axis) => x.shape[axis]!);
  const reduced = coalesceTranspose(x.shape, perm);
  if (reduced.perm.every((axis, i) => axis === i)) return tf.reshape(x, outShape);
  return tf.reshape(tf.transpose(tf.reshape(x, reduced.shape), reduced.perm), outShape);
}

/**
 * tf.transpose, with high-rank permutations split on wasm: its transposes of up to 4 (merged)
 * axes are fast, but a 5-axis one (a pixel unshuffle from NCHW) is ~7x slower than two passes
 * that each move one block of axes. Each step puts the next output axis, from the innermost
 * out, in place.
 */
export function transposeFast(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || coalesceTranspose(x.shape, perm).perm.length <= 4) return transposeOnce(x, perm);
  let current = x;
  let order = x.shape.map((_, axis) => axis); // input axis held at each physical position
  for (let placed = 0; placed < perm.length; placed++) {
    const target = perm[perm.length - 1 - placed]!;
    const position = order.indexOf(target);
    const slot = order.length - 1 - placed;
    if (position === slot) continue;
    const step = order.map((_, i) => i);
    step.splice(position, 1);
    step.splice(slot, 0, position);
    current = transposeOnce(current, step);
    order = step.map((i) => order[i]!);
  }
  return current;
}

/** Rows below which wasm's own concat is fine. */
const CONCAT_ROWS_THRESHOLD = 1024;

/**
 * tf.concat. On wasm, joining along the innermost axis copies one short row per position in
 * JavaScript; for many rows it is faster to transpose the rows into columns, join those as
 * contiguous blocks and transpose back (narrow inputs, like 3-channel images), or to zero-pad
 * each input to the full width and add them up (wider inputs).
 */
export function concatFast(tensors: readonly tf.Tensor[], axis: number): tf.Tensor {
  const first = tensors[0]!;
  const last = first.rank - 1;
  const rows = first.size / Math.max(first.shape[last] ?? 1, 1);
  if (
    tf.getBackend() !== 'wasm' || axis !== last || rows < CONCAT_ROWS_THRESHOLD ||
    first.dtype !== 'float32' || tensors.length < 2
  ) {
    return tf.concat([...tensors], axis);
  }
  const widths = tensors.map((t) => t.shape[last]!);
  const total = widths.reduce((a, b) => a + b, 0);
  const outShape = [...first.shape.slice(0, last), total];
  if (Math.max(...widths) <= 8) {
    const columns = tensors.map((t, i) => tf.transpose(tf.reshape(t, [rows, widths[i]!])));
    return tf.reshape(tf.transpose(tf.concat(columns, 0)), outShape);
  }
  let offset = 0;
  const padded = tensors.map((t, i) => {
    const width = widths[i]!;
    const pads = t.shape.map((): [number, number] => [0, 0]);
    pads[last] = [offset, total - offset - width];
    offset += width;
    return tf.pad(t, pads);
  });
  return tf.addN(padded);
}
