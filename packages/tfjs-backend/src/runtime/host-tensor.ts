/**
 * Small tensors kept in JavaScript memory: initializers before upload, `Constant` values and the
 * shape arithmetic ONNX exporters emit (`Shape` -> `Gather` -> `Concat` -> `Reshape`). Keeping
 * those on the host avoids a device round trip per shape value and keeps int64 exact (TensorFlow.js
 * has no int64; integers live here as exact doubles and become int32 only when uploaded).
 */
import { ModelError } from '@sgenet/core';

/** Element kinds: all float types become float32, all integer types `int`, and `bool`. */
export type HostDType = 'float32' | 'int' | 'bool';

export type HostTensor =
  | { readonly dtype: 'float32'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'int'; readonly dims: readonly number[]; readonly data: Float64Array }
  | { readonly dtype: 'bool'; readonly dims: readonly number[]; readonly data: Uint8Array };

export type HostData = HostTensor['data'];

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Creates a host tensor of `dtype` from any numeric array (values converted as the dtype says). */
export function hostTensor(dtype: HostDType, dims: readonly number[], values: ArrayLike<number>): HostTensor {
  if (values.length !== sizeOf(dims)) {
    throw new ModelError(`A tensor of shape [${dims.join(', ')}] cannot hold ${values.length} values`);
  }
  switch (dtype) {
    case 'float32':
      return { dtype, dims: [...dims], data: Float32Array.from(values) };
    case 'int':
      return { dtype, dims: [...dims], data: Float64Array.from(values, (v) => Math.trunc(v)) };
    case 'bool':
      return { dtype, dims: [...dims], data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  }
}

export function intTensor(dims: readonly number[], values: ArrayLike<number>): HostTensor {
  return hostTensor('int', dims, values);
}

/** The elements as plain numbers (for shapes, axes and indices). */
export function hostNumbers(t: HostTensor): number[] {
  return Array.from(t.data);
}

/** Numpy-style broadcast of two shapes; throws a ModelError naming `what` when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ModelError(`${what}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i]!;
  }
  return strides;
}

/** For each element of `outDims`, the flat index into a tensor of `dims` broadcast to it. */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): Int32Array {
  const total = sizeOf(outDims);
  const index = new Int32Array(total);
  const rank = outDims.length;
  const srcStrides = stridesOf(dims);
  // Stride 0 on broadcast axes (and on the axes `dims` lacks).
  const strides = outDims.map((_, i) => {
    const j = i - (rank - dims.length);
    return j < 0 || dims[j] === 1 ? 0 : srcStrides[j]!;
  });
  const counter = new Array<number>(rank).fill(0);
  let flat = 0;
  for (let n = 0; n < total; n++) {
    index[n] = flat;
    for (let axis = rank - 1; axis >= 0; axis--) {
      counter[axis]!++;
      flat += strides[axis]!;
      if (counter[axis]! < outDims[axis]!) break;
      flat -= strides[axis]! * counter[axis]!;
      counter[axis] = 0;
    }
  }
  return index;
}

/** Applies `fn` elementwise with broadcasting; the result has `dtype`. */
export function broadcastMap(
  inputs: readonly HostTensor[],
  dtype: HostDType,
  fn: (values: readonly number[]) => number,
  what: string,
): HostTensor {
  let outDims: number[] = [];
  for (const t of inputs) outDims = broadcastShapes(outDims, t.dims, what);
  const indices = inputs.map((t) => broadcastIndex(t.dims, outDims));
  const total = sizeOf(outDims);
  const values = new Float64Array(total);
  const args = new Array<number>(inputs.length);
  for (let n = 0; n < total; n++) {
    for (let k = 0; k < inputs.length; k++) args[k] = inputs[k]!.data[indices[k]![n]!]!;
    values[n] = fn(args);
  }
  return hostTensor(dtype, outDims, values);
}

/** Normalises a possibly negative axis against `rank`; throws when out of range. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new ModelError(`${what}: axis ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}
