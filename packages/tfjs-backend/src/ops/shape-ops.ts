/**
 * Ops that move or relabel data: Shape, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
 * Split, Slice, Gather, Expand, Tile, Constant, ConstantOfShape, Range, Size.
 *
 * Each works in whatever layout its input is stored in (see runtime/layout.ts), and each has a
 * host implementation for the small int64 tensors of exporters' shape arithmetic.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '@sgenet/core';

import { UnsupportedOpError } from '../errors.js';
import { attrFloats, attrInt, attrInts, attrTensor } from '../runtime/attributes.js';
import type { NodeContext, PlanNode } from '../runtime/context.js';
import { alignValues } from '../runtime/context.js';
import {
  broadcastIndex, broadcastShapes, hostNumbers, hostTensor, intTensor, normalizeAxis, sizeOf, stridesOf,
} from '../runtime/host-tensor.js';
import type { HostTensor } from '../runtime/host-tensor.js';
import {
  NHWC, composeTranspose, identityPerm, layoutForReshape, physicalAxis, physicalShape, planReshape, removeAxes,
  toPhysicalOrder,
} from '../runtime/layout.js';
import { deviceValue, hostValue, inLayout, shapeOf } from '../runtime/values.js';
import type { RuntimeValue } from '../runtime/values.js';
import { concatFast, sliceByRows, sliceRows } from '../runtime/kernel-choice.js';
import type { OpTable } from './types.js';

const where = (node: PlanNode) => `${node.opType} node "${node.name}"`;

/**
 * Reshape of any value to logical `outShape`, moving data only when the layout requires it.
 * 4-D results are labelled (and, when data must move, laid out) NHWC: they usually feed a conv.
 */
export function reshapeValue(value: RuntimeValue, outShape: readonly number[]): RuntimeValue {
  if (value.kind === 'host') return hostValue({ ...value.host, dims: [...outShape] } as HostTensor);
  const inShape = shapeOf(value);
  const preferred = outShape.length === 4 ? NHWC : identityPerm(outShape.length);
  const plan = planReshape(inShape, value.perm, outShape, preferred);
  if (plan) return deviceValue(tf.reshape(value.tensor, plan.physicalShape), plan.perm);
  // Move the data once, into the layout from which the reshape gives the preferred result.
  const target = layoutForReshape(inShape, outShape, preferred) ?? identityPerm(inShape.length);
  const moved = inLayout(value, target);
  const after = planReshape(inShape, target, outShape, preferred)!;
  return deviceValue(tf.reshape(moved, after.physicalShape), after.perm);
}

/** Resolves a Reshape target: 0 copies the input dim (unless allowzero), -1 is inferred. */
function reshapeTarget(node: PlanNode, inShape: readonly number[], requested: readonly number[]): number[] {
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = requested.map((d, i) => (d === 0 && !allowZero ? inShape[i] ?? 0 : d));
  const inferred = out.indexOf(-1);
  if (inferred >= 0) {
    const known = out.reduce((p, d, i) => (i === inferred ? p : p * d), 1);
    out[inferred] = known === 0 ? 0 : sizeOf(inShape) / known;
  }
  if (sizeOf(out) !== sizeOf(inShape) || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelError(`${where(node)}: cannot reshape [${inShape.join(', ')}] to [${requested.join(', ')}]`);
  }
  return out;
}

function squeezeAxes(node: PlanNode, opset: number, shape: readonly number[], axesInput: number[] | undefined): number[] {
  const axes = opset >= 13 ? axesInput : attrInts(node, 'axes');
  if (!axes) return shape.flatMap((d, i) => (d === 1 ? [i] : []));
  return axes.map((a) => normalizeAxis(a, shape.length, where(node)));
}

function unsqueezeShape(node: PlanNode, opset: number, shape: readonly number[], axesInput: number[] | undefined): number[] {
  const axes = opset >= 13 ? axesInput : attrInts(node, 'axes');
  if (!axes) throw new ModelError(`${where(node)} has no axes`);
  const rank = shape.length + axes.length;
  const inserted = new Set(axes.map((a) => normalizeAxis(a, rank, where(node))));
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(inserted.has(i) ? 1 : shape[next++]!);
  return out;
}

function transposeHost(x: HostTensor, perm: readonly number[]): HostTensor {
  const outDims = perm.map((p) => x.dims[p]!);
  const inStrides = stridesOf(x.dims);
  const total = sizeOf(outDims);
  const values = new Float64Array(total);
  const counter = new Array<number>(outDims.length).fill(0);
  for (let n = 0; n < total; n++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += counter[k]! * inStrides[perm[k]!]!;
    values[n] = x.data[src]!;
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++counter[k]! < outDims[k]!) break;
      counter[k] = 0;
    }
  }
  return hostTensor(x.dtype, outDims, values);
}

/** Takes `indices` (already non-negative) along `axis`; indices dims replace that axis. */
function gatherHost(x: HostTensor, indices: readonly number[], indexDims: readonly number[], axis: number): HostTensor {
  const outer = sizeOf(x.dims.slice(0, axis));
  const inner = sizeOf(x.dims.slice(axis + 1));
  const dim = x.dims[axis]!;
  const values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const index of indices) {
      const base = (o * dim + index) * inner;
      for (let i = 0; i < inner; i++) values.push(x.data[base + i]!);
    }
  }
  return hostTensor(x.dtype, [...x.dims.slice(0, axis), ...indexDims, ...x.dims.slice(axis + 1)], values);
}

function concatHost(inputs: readonly HostTensor[], axis: number): HostTensor {
  const first = inputs[0]!;
  const outer = sizeOf(first.dims.slice(0, axis));
  const values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const t of inputs) {
      const chunk = sizeOf(t.dims.slice(axis));
      for (let i = 0; i < chunk; i++) values.push(t.data[o * chunk + i]!);
    }
  }
  const dims = [...first.dims];
  dims[axis] = inputs.reduce((sum, t) => sum + t.dims[axis]!, 0);
  return hostTensor(first.dtype, dims, values);
}

interface AxisSlice {
  axis: number;
  start: number;
  step: number;
  count: number;
}

/** Normalises Slice starts/ends/axes/steps against `shape` (ONNX clamping rules). */
function sliceSpec(node: PlanNode, shape: readonly number[], starts: number[], ends: number[], axes?: number[], steps?: number[]): AxisSlice[] {
  const axisList = axes ?? starts.map((_, i) => i);
  return axisList.map((a, k) => {
    const axis = normalizeAxis(a, shape.length, where(node));
    const dim = shape[axis]!;
    const step = steps?.[k] ?? 1;
    if (step === 0) throw new ModelError(`${where(node)}: slice step is 0`);
    let start = starts[k]!;
    let end = ends[k]!;
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    const count = Math.max(0, Math.ceil((end - start) / step));
    return { axis, start, step, count };
  });
}

function sliceInputs(ctx: NodeContext): [number[], number[], number[] | undefined, number[] | undefined] {
  if (ctx.opset < 10) {
    const starts = attrInts(ctx.node, 'starts') ?? [];
    const ends = attrInts(ctx.node, 'ends') ?? [];
    return [starts, ends, attrInts(ctx.node, 'axes'), undefined];
  }
  return [ctx.numbers(1), ctx.numbers(2), ctx.optionalNumbers(3), ctx.optionalNumbers(4)];
}

function sliceHost(x: HostTensor, spec: readonly AxisSlice[]): HostTensor {
  let result = x;
  for (const { axis, start, step, count } of spec) {
    const indices = Array.from({ length: count }, (_, i) => start + i * step);
    result = gatherHost(result, indices, [count], axis);
  }
  return result;
}

function splitSizes(ctx: NodeContext, dim: number): number[] {
  const outputs = ctx.node.outputs.length;
  const given = ctx.opset >= 13 ? ctx.optionalNumbers(1) : attrInts(ctx.node, 'split');
  if (given) return given;
  const numOutputs = attrInt(ctx.node, 'num_outputs', outputs);
  const chunk = Math.ceil(dim / numOutputs);
  return Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
}

/** Constant node value (tensor or one of the value_* scalar/list attributes). */
function constantValue(node: PlanNode): HostTensor {
  const tensor = attrTensor(node, 'value');
  if (tensor) return tensor;
  const floatValue = node.attributes.get('value_float');
  if (floatValue?.kind === 'float') return hostTensor('float32', [], [floatValue.value]);
  const floats = attrFloats(node, 'value_floats');
  if (floats) return hostTensor('float32', [floats.length], floats);
  const intValue = attrInt(node, 'value_int');
  if (intValue !== undefined) return intTensor([], [intValue]);
  const ints = attrInts(node, 'value_ints');
  if (ints) return intTensor([ints.length], ints);
  throw new UnsupportedOpError('Constant', node.name, 'holds a string or sparse value');
}

/** Largest ConstantOfShape kept on the host; beyond it the fill happens on the device. */
const HOST_FILL_LIMIT = 1 << 16;

export const SHAPE_OPS: OpTable = {
  Shape: {
    device: (ctx) => {
      const shape = ctx.shape(0);
      const start = normalizeClamped(attrInt(ctx.node, 'start', 0), shape.length);
      const end = normalizeClamped(attrInt(ctx.node, 'end', shape.length), shape.length);
      const dims = shape.slice(start, Math.max(start, end));
      return [hostValue(intTensor([dims.length], dims))];
    },
    host: (node, [x]) => {
      if (!x) return undefined;
      const start = normalizeClamped(attrInt(node, 'start', 0), x.dims.length);
      const end = normalizeClamped(attrInt(node, 'end', x.dims.length), x.dims.length);
      const dims = x.dims.slice(start, Math.max(start, end));
      return [intTensor([dims.length], dims)];
    },
  },
  Size: {
    device: (ctx) => [hostValue(intTensor([], [sizeOf(ctx.shape(0))]))],
    host: (_node, [x]) => (x ? [intTensor([], [sizeOf(x.dims)])] : undefined),
  },
  Reshape: {
    hostInputs: [1],
    device: (ctx) => [reshapeValue(ctx.value(0), reshapeTarget(ctx.node, ctx.shape(0), ctx.numbers(1)))],
    host: (node, [x, shape]) =>
      x && shape ? [{ ...x, dims: reshapeTarget(node, x.dims, hostNumbers(shape)) } as HostTensor] : undefined,
  },
  Flatten: {
    device: (ctx) => [reshapeValue(ctx.value(0), flattenShape(ctx.node, ctx.shape(0)))],
    host: (node, [x]) => (x ? [{ ...x, dims: flattenShape(node, x.dims) } as HostTensor] : undefined),
  },
  Squeeze: {
    hostInputs: [1],
    device: (ctx) => {
      const shape = ctx.shape(0);
      const axes = squeezeAxes(ctx.node, ctx.opset, shape, ctx.optionalNumbers(1));
      return [reshapeValue(ctx.value(0), shape.filter((_, i) => !axes.includes(i)))];
    },
    host: (node, [x, axesInput], opset) => {
      if (!x) return undefined;
      const axes = squeezeAxes(node, opset, x.dims, axesInput ? hostNumbers(axesInput) : undefined);
      return [{ ...x, dims: x.dims.filter((_, i) => !axes.includes(i)) } as HostTensor];
    },
  },
  Unsqueeze: {
    hostInputs: [1],
    device: (ctx) =>
      [reshapeValue(ctx.value(0), unsqueezeShape(ctx.node, ctx.opset, ctx.shape(0), ctx.optionalNumbers(1)))],
    host: (node, [x, axesInput], opset) =>
      x ? [{ ...x, dims: unsqueezeShape(node, opset, x.dims, axesInput ? hostNumbers(axesInput) : undefined) } as HostTensor]
        : undefined,
  },
  Transpose: {
    // Relabels the layout only; the data moves when (if ever) a consumer needs another layout.
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      const onnxPerm = attrInts(ctx.node, 'perm') ?? identityPerm(perm.length).reverse();
      return [deviceValue(tf.reshape(tensor, tensor.shape), composeTranspose(perm, onnxPerm))];
    },
    host: (node, [x]) => (x ? [transposeHost(x, attrInts(node, 'perm') ?? identityPerm(x.dims.length).reverse())] : undefined),
  },
  Concat: {
    device: (ctx) => {
      const values = Array.from({ length: ctx.inputCount }, (_, i) => ctx.value(i));
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), shapeOf(values[0]!).length, where(ctx.node));
      const { tensors, perm } = alignValues(values);
      return [deviceValue(concatFast(tensors, physicalAxis(perm, axis)), perm)];
    },
    host: (node, inputs) => {
      const present = inputs.filter((t): t is HostTensor => t !== undefined);
      const axis = normalizeAxis(attrInt(node, 'axis', 0), present[0]!.dims.length, where(node));
      return [concatHost(present, axis)];
    },
  },
  Split: {
    hostInputs: [1],
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      const shape = ctx.shape(0);
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), shape.length, where(ctx.node));
      const sizes = splitSizes(ctx, shape[axis]!);
      return tf.split(tensor, sizes, physicalAxis(perm, axis)).map((t) => deviceValue(t, perm));
    },
  },
  Slice: {
    hostInputs: [1, 2, 3, 4],
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      const spec = sliceSpec(ctx.node, ctx.shape(0), ...sliceInputs(ctx));
      return [deviceValue(slicePhysical(tensor, perm, spec), perm)];
    },
    host: (node, [x, starts, ends, axes, steps], opset) => {
      if (!x || opset < 10 || !starts || !ends) return undefined;
      const spec = sliceSpec(node, x.dims, hostNumbers(starts), hostNumbers(ends),
        axes && hostNumbers(axes), steps && hostNumbers(steps));
      return [sliceHost(x, spec)];
    },
  },
  Gather: {
    device: (ctx) => {
      const shape = ctx.shape(0);
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 0), shape.length, where(ctx.node));
      const indexDims = ctx.shape(1);
      const indices = gatherIndices(ctx, shape[axis]!);
      if (indexDims.length <= 1) {
        const { tensor, perm } = ctx.stored(0);
        const gathered = tf.gather(tensor, indices, physicalAxis(perm, axis));
        if (indexDims.length === 1) return [deviceValue(gathered, perm)];
        const squeezed = tf.squeeze(gathered, [physicalAxis(perm, axis)]);
        return [deviceValue(squeezed, removeAxes(perm, [axis]))];
      }
      const logical = ctx.tensor(0);
      return [deviceValue(tf.gather(logical, tf.reshape(indices, indexDims), axis))];
    },
    host: (node, [x, indices]) => {
      if (!x || !indices) return undefined;
      const axis = normalizeAxis(attrInt(node, 'axis', 0), x.dims.length, where(node));
      const dim = x.dims[axis]!;
      const list = hostNumbers(indices).map((i) => (i < 0 ? i + dim : i));
      return [gatherHost(x, list, indices.dims, axis)];
    },
  },
  Expand: {
    hostInputs: [1],
    device: (ctx) => {
      const shape = ctx.shape(0);
      const outShape = broadcastShapes(shape, ctx.numbers(1), where(ctx.node));
      if (outShape.length === shape.length) {
        const { tensor, perm } = ctx.stored(0);
        return [deviceValue(tf.broadcastTo(tensor, physicalShape(outShape, perm)), perm)];
      }
      const padded = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
      return [deviceValue(tf.broadcastTo(tf.reshape(ctx.tensor(0), padded), outShape))];
    },
    host: (node, [x, shape]) => {
      if (!x || !shape) return undefined;
      const outShape = broadcastShapes(x.dims, hostNumbers(shape), where(node));
      const index = broadcastIndex(x.dims, outShape);
      return [hostTensor(x.dtype, outShape, Array.from(index, (i) => x.data[i]!))];
    },
  },
  Tile: {
    hostInputs: [1],
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      return [deviceValue(tf.tile(tensor, toPhysicalOrder(ctx.numbers(1), perm)), perm)];
    },
  },
  Constant: {
    device: (ctx) => [hostValue(constantValue(ctx.node))],
    host: (node) => [constantValue(node)],
  },
  ConstantOfShape: {
    hostInputs: [0],
    device: (ctx) => {
      const dims = ctx.numbers(0);
      const value = attrTensor(ctx.node, 'value') ?? hostTensor('float32', [1], [0]);
      const fill = value.data[0] ?? 0;
      if (sizeOf(dims) <= HOST_FILL_LIMIT) return [hostValue(hostTensor(value.dtype, dims, new Array<number>(sizeOf(dims)).fill(fill)))];
      return [deviceValue(tf.fill(dims, fill, value.dtype === 'int' ? 'int32' : value.dtype === 'bool' ? 'bool' : 'float32'))];
    },
    host: (node, [shape]) => {
      if (!shape) return undefined;
      const dims = hostNumbers(shape);
      if (sizeOf(dims) > HOST_FILL_LIMIT) return undefined;
      const value = attrTensor(node, 'value') ?? hostTensor('float32', [1], [0]);
      return [hostTensor(value.dtype, dims, new Array<number>(sizeOf(dims)).fill(value.data[0] ?? 0))];
    },
  },
  Range: {
    hostInputs: [0, 1, 2],
    device: (ctx) => [hostValue(rangeHost(ctx.host(0), ctx.host(1), ctx.host(2)))],
    host: (_node, [start, limit, delta]) => (start && limit && delta ? [rangeHost(start, limit, delta)] : undefined),
  },
};

function normalizeClamped(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Math.min(Math.max(a, 0), rank);
}

function flattenShape(node: PlanNode, shape: readonly number[]): number[] {
  const axis = normalizeClamped(attrInt(node, 'axis', 1), shape.length);
  return [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))];
}

function rangeHost(start: HostTensor, limit: HostTensor, delta: HostTensor): HostTensor {
  const s = start.data[0]!;
  const l = limit.data[0]!;
  const d = delta.data[0]!;
  const count = Math.max(Math.ceil((l - s) / d), 0);
  return hostTensor(start.dtype, [count], Array.from({ length: count }, (_, i) => s + i * d));
}

/** Gather indices as an int32 tensor, negatives wrapped. */
function gatherIndices(ctx: NodeContext, dim: number): tf.Tensor1D {
  const value = ctx.value(1);
  if (value.kind === 'host') {
    return tf.tensor1d(hostNumbers(value.host).map((i) => (i < 0 ? i + dim : i)), 'int32');
  }
  const flat = tf.reshape(tf.cast(ctx.tensor(1), 'int32'), [-1]) as tf.Tensor1D;
  return tf.where(tf.less(flat, 0), tf.add(flat, dim), flat) as tf.Tensor1D;
}

/** Applies a normalised slice to a tensor stored with `perm`. */
function slicePhysical(tensor: tf.Tensor, perm: readonly number[], spec: readonly AxisSlice[]): tf.Tensor {
  let x = tensor;
  // Negative steps: reverse those axes, then slice forwards.
  const reversed = spec.filter((s) => s.step < 0).map((s) => physicalAxis(perm, s.axis));
  if (reversed.length > 0) x = tf.reverse(x, reversed);
  const begin = new Array<number>(x.rank).fill(0);
  const size = [...x.shape];
  const strides = new Array<number>(x.rank).fill(1);
  for (const s of spec) {
    const p = physicalAxis(perm, s.axis);
    const dim = x.shape[p]!;
    begin[p] = s.step > 0 ? s.start : dim - 1 - s.start;
    size[p] = s.count;
    strides[p] = Math.abs(s.step);
  }
  if (size.includes(0)) return tf.zeros(size, x.dtype);
  if (strides.every((st) => st === 1)) {
    return sliceByRows() && x.dtype !== 'bool' ? sliceRows(x, begin, size) : tf.slice(x, begin, size);
  }
  const end = begin.map((b, i) => b + (size[i]! - 1) * strides[i]! + 1);
  return tf.stridedSlice(x, begin, end, strides);
}
