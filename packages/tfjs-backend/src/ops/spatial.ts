/**
 * Ops over the spatial axes, run in NHWC: Conv, AveragePool, MaxPool, GlobalAverage/MaxPool,
 * DepthToSpace, SpaceToDepth. 1-D variants (N, C, L) run as 2-D with H = 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '@sgenet/core';

import { UnsupportedOpError } from '../errors.js';
import { attrInt, attrInts, attrString } from '../runtime/attributes.js';
import type { ConvWeights, NodeContext, PlanNode } from '../runtime/context.js';
import { NHWC, physicalAxis } from '../runtime/layout.js';
import { deviceValue } from '../runtime/values.js';
import type { RuntimeValue } from '../runtime/values.js';
import { depthToSpaceByTranspose, transposeFast } from '../runtime/kernel-choice.js';
import type { OpDefinition, OpTable } from './types.js';

type Pair = [number, number];

interface Geometry {
  kernel: Pair;
  strides: Pair;
  dilations: Pair;
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
}

/** NHWC 4-D view of an NCHW (or NCL) input, and how to give results back their logical form. */
interface SpatialInput {
  x: tf.Tensor4D;
  oneD: boolean;
  restore(y: tf.Tensor4D): RuntimeValue;
}

function spatialInput(ctx: NodeContext, i: number): SpatialInput {
  const rank = ctx.rank(i);
  if (rank === 4) {
    return { x: ctx.tensor(i, NHWC) as tf.Tensor4D, oneD: false, restore: (y) => deviceValue(y, NHWC) };
  }
  if (rank === 3) {
    // [N, C, L] stored as [N, L, C] is an NHWC tensor with H = 1.
    const nlc = ctx.tensor(i, [0, 2, 1]);
    const [n, l, c] = nlc.shape as [number, number, number];
    return {
      x: tf.reshape(nlc, [n, 1, l, c]),
      oneD: true,
      restore: (y) => deviceValue(tf.reshape(y, [y.shape[0], y.shape[2], y.shape[3]]), [0, 2, 1]),
    };
  }
  throw new UnsupportedOpError(ctx.node.opType, ctx.node.name, `has a rank-${rank} input (only 1-D and 2-D spatial ops run)`);
}

/** Kernel, strides, dilations and explicit pads, auto_pad resolved against the input size. */
function geometry(node: PlanNode, spatial: Pair, kernel: readonly number[], oneD: boolean): Geometry {
  const as2d = (values: readonly number[] | undefined, fallback: number): Pair => {
    if (!values) return [fallback, fallback];
    return oneD ? [fallback, values[0]!] : [values[0]!, values[1]!];
  };
  const k = oneD ? ([1, kernel[0]!] as Pair) : ([kernel[0]!, kernel[1]!] as Pair);
  const strides = as2d(attrInts(node, 'strides'), 1);
  const dilations = as2d(attrInts(node, 'dilations'), 1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads: [number, number, number, number] = [0, 0, 0, 0];
  if (autoPad === 'NOTSET') {
    const p = attrInts(node, 'pads');
    if (p) pads = oneD ? [0, p[0]!, 0, p[1]!] : [p[0]!, p[1]!, p[2]!, p[3]!];
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = [0, 1].map((a) => {
      const effective = (k[a]! - 1) * dilations[a]! + 1;
      const out = Math.ceil(spatial[a]! / strides[a]!);
      return Math.max((out - 1) * strides[a]! + effective - spatial[a]!, 0);
    });
    const begin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    pads = [begin[0]!, begin[1]!, total[0]! - begin[0]!, total[1]! - begin[1]!];
  } else if (autoPad !== 'VALID') {
    throw new ModelError(`${node.opType} node "${node.name}": unknown auto_pad ${autoPad}`);
  }
  return { kernel: k, strides, dilations, pads };
}

/**
 * TensorFlow.js padding for the geometry: 'valid' / 'same' when they match exactly, else the
 * explicit pads (which callers apply with tf.pad: tfjs-node's kernels take only valid / same).
 */
function tfPadding(g: Geometry, stride: Pair): 'valid' | 'same' | [[0, 0], Pair, Pair, [0, 0]] {
  const [top, left, bottom, right] = g.pads;
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return 'valid';
  const sameAlong = (a: 0 | 1, begin: number, end: number) => {
    const total = (g.kernel[a] - 1) * g.dilations[a] + 1 - 1;
    return stride[a] === 1 && begin === Math.floor(total / 2) && end === total - begin;
  };
  if (sameAlong(0, top, bottom) && sameAlong(1, left, right)) return 'same';
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

function outputSize(input: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, ceil: boolean): number {
  const span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

// ---------------------------------------------------------------------------------------- Conv

/**
 * Converts ONNX conv weights `[Cout, Cin/group, kh, kw]` (and bias) into TensorFlow.js filters.
 * `order` permutes output channels (see rewrites.ts). Runs once per session for constant weights.
 */
export function buildConvWeights(
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  group: number,
  inChannels: number,
  order: readonly number[] | undefined,
  /** Channels of each concatenated input, for a `per-input` conv over a concat. */
  inputSplits?: readonly number[],
): ConvWeights {
  let kind: ConvWeights['kind'] = 'conv';
  let filters: tf.Tensor4D[] = [];
  let biases: tf.Tensor1D[] | undefined;
  tf.tidy(() => {
    let w = weight.rank === 3 ? tf.expandDims(weight, 2) : weight; // 1-D conv: kh = 1
    // Always a new handle, so the caller may free what it passed in.
    let b = bias ? (tf.reshape(bias, [bias.size]) as tf.Tensor1D) : undefined;
    if (order) {
      const index = tf.tensor1d([...order], 'int32');
      w = tf.gather(w, index, 0);
      if (b) b = tf.gather(b, index, 0);
    }
    const [outChannels, , kh, kw] = w.shape as [number, number, number, number];
    if (inputSplits) {
      kind = 'per-input';
      filters = tf.split(w, [...inputSplits], 1).map((part) => tf.transpose(part, [2, 3, 1, 0]) as tf.Tensor4D);
      biases = b ? [b] : undefined;
    } else if (group === 1) {
      filters = [tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D];
      biases = b ? [b] : undefined;
    } else if (group === inChannels && outChannels % inChannels === 0) {
      // Depthwise: output channel c * m + j reads input channel c. TF wants [kh, kw, C, m].
      kind = 'depthwise';
      const multiplier = outChannels / inChannels;
      filters = [tf.transpose(tf.reshape(w, [inChannels, multiplier, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D];
      biases = b ? [b] : undefined;
    } else {
      kind = 'grouped';
      filters = tf.split(w, group, 0).map((part) => tf.transpose(part, [2, 3, 1, 0]) as tf.Tensor4D);
      biases = b ? (tf.split(b, group, 0) as tf.Tensor1D[]) : undefined;
    }
    // A fresh buffer per bias: the wasm fused conv reads the shape recorded with the buffer,
    // which after a gather (4-D internally) or reshape is not the bias's own.
    biases = biases?.map((t) => tf.clone(t));
    return [...filters, ...(biases ?? [])];
  });
  return { kind, filters, biases };
}

function convolve(inputs: readonly tf.Tensor4D[], weights: ConvWeights, g: Geometry, node: PlanNode): tf.Tensor4D {
  // TensorFlow.js refuses stride > 1 together with dilation > 1: convolve at stride 1, subsample.
  const subsample = g.strides.some((s) => s > 1) && g.dilations.some((d) => d > 1);
  const strides: Pair = subsample ? [1, 1] : g.strides;
  const padding = tfPadding(g, strides);
  const pad: 'valid' | 'same' = typeof padding === 'string' ? padding : 'valid';
  const padded = typeof padding === 'string' ? inputs : inputs.map((t) => tf.pad(t, padding));
  const x = padded[0]!;
  const activation = node.fusedActivation;
  const fused = {
    strides,
    pad,
    dilations: g.dilations,
    activation: activation?.kind ?? 'linear',
    leakyreluAlpha: activation?.alpha,
  } as const;
  let y: tf.Tensor4D;
  if (weights.kind === 'per-input') {
    // Sum of one conv per concatenated input; the activation can only follow the sum.
    const parts = padded.map((part, i) => (i === 0
      ? tf.fused.conv2d({ x: part, filter: weights.filters[0]!, bias: weights.biases?.[0], strides, pad, dilations: g.dilations })
      : tf.conv2d(part, weights.filters[i]!, strides, pad, 'NHWC', g.dilations)));
    y = parts.reduce((sum, part) => tf.add(sum, part));
    if (activation?.kind === 'relu') y = tf.relu(y);
    else if (activation?.kind === 'leakyrelu') y = tf.leakyRelu(y, activation.alpha);
    else if (activation?.kind === 'sigmoid') y = tf.sigmoid(y);
  } else if (weights.kind === 'conv') {
    y = tf.fused.conv2d({ x, filter: weights.filters[0]!, bias: weights.biases?.[0], ...fused });
  } else if (weights.kind === 'depthwise') {
    y = tf.fused.depthwiseConv2d({ x, filter: weights.filters[0]!, bias: weights.biases?.[0], ...fused }) as tf.Tensor4D;
  } else {
    const parts = tf.split(x, weights.filters.length, 3) as tf.Tensor4D[];
    y = tf.concat(parts.map((part, i) =>
      tf.fused.conv2d({ x: part, filter: weights.filters[i]!, bias: weights.biases?.[i], ...fused })), 3) as tf.Tensor4D;
  }
  if (subsample) {
    const [n, h, w, c] = y.shape;
    y = tf.stridedSlice(y, [0, 0, 0, 0], [n, h, w, c], [1, g.strides[0], g.strides[1], 1]) as tf.Tensor4D;
  }
  return y;
}

const conv: OpDefinition = {
  validate: (node) => {
    const kernel = attrInts(node, 'kernel_shape');
    if (kernel && kernel.length > 2) throw new UnsupportedOpError('Conv', node.name, `is a ${kernel.length}-D convolution`);
  },
  device: (ctx) => {
    const input = spatialInput(ctx, 0);
    const [, h, w, c] = input.x.shape;
    const group = attrInt(ctx.node, 'group', 1);
    const weights = ctx.node.convWeights
      ?? buildConvWeights(ctx.tensor(1), ctx.has(2) ? ctx.tensor(2) : undefined, group, c, ctx.node.outputChannelOrder);
    const [kh, kw] = weights.filters[0]!.shape;
    const g = geometry(ctx.node, [h, w], input.oneD ? [kw] : [kh, kw], input.oneD);
    return [input.restore(convolve([input.x], weights, g, ctx.node))];
  },
};

/** Internal: a Conv that read a channel Concat, run per concatenated input (rewrites.ts). */
const convOverConcat: OpDefinition = {
  device: (ctx) => {
    const inputs = Array.from({ length: ctx.inputCount }, (_, i) => spatialInput(ctx, i));
    const weights = ctx.node.convWeights;
    if (!weights) throw new ModelError(`${ctx} has no prepared weights`);
    const [, h, w] = inputs[0]!.x.shape;
    const [kh, kw] = weights.filters[0]!.shape;
    const g = geometry(ctx.node, [h, w], inputs[0]!.oneD ? [kw] : [kh, kw], inputs[0]!.oneD);
    return [inputs[0]!.restore(convolve(inputs.map((input) => input.x), weights, g, ctx.node))];
  },
};

// --------------------------------------------------------------------------------------- Pools

function poolValidate(opType: string) {
  return (node: PlanNode) => {
    const kernel = attrInts(node, 'kernel_shape');
    if (!kernel) throw new ModelError(`${opType} node "${node.name}" has no kernel_shape`);
    if (kernel.length > 2) throw new UnsupportedOpError(opType, node.name, `pools over ${kernel.length} axes`);
    if ((attrInts(node, 'dilations') ?? []).some((d) => d !== 1)) {
      throw new UnsupportedOpError(opType, node.name, 'has dilations other than 1');
    }
    if (node.outputs.slice(1).some((name) => name !== '')) {
      throw new UnsupportedOpError(opType, node.name, 'asks for its Indices output');
    }
  };
}

/** Pads the geometry needs beyond the input, ceil_mode's extra end rows/cols included. */
function poolPadding(g: Geometry, h: number, w: number, ceil: boolean): { pads: [Pair, Pair]; extra: Pair } {
  const [top, left, bottom, right] = g.pads;
  const extraAlong = (input: number, a: 0 | 1, begin: number, end: number) => {
    if (!ceil) return 0;
    let out = outputSize(input, g.kernel[a], g.strides[a], 1, begin, end, true);
    // A window may not start in the end padding (PyTorch and ONNX Runtime drop it).
    if ((out - 1) * g.strides[a] >= input + begin) out--;
    return Math.max(0, (out - 1) * g.strides[a] + g.kernel[a] - (input + begin + end));
  };
  return {
    pads: [[top, bottom], [left, right]],
    extra: [extraAlong(h, 0, top, bottom), extraAlong(w, 1, left, right)],
  };
}

function pool(kind: 'avg' | 'max'): OpDefinition {
  const opType = kind === 'avg' ? 'AveragePool' : 'MaxPool';
  return {
    validate: poolValidate(opType),
    device: (ctx) => {
      const input = spatialInput(ctx, 0);
      const { x } = input;
      const [, h, w] = x.shape;
      const g = geometry(ctx.node, [h, w], attrInts(ctx.node, 'kernel_shape')!, input.oneD);
      const ceil = attrInt(ctx.node, 'ceil_mode', 0) === 1;
      const includePad = kind === 'avg' && attrInt(ctx.node, 'count_include_pad', 0) === 1;
      const { pads, extra } = poolPadding(g, h, w, ceil);
      const run = (t: tf.Tensor4D, pad: 'valid' | 'same') =>
        kind === 'avg' ? tf.avgPool(t, g.kernel, g.strides, pad) : tf.maxPool(t, g.kernel, g.strides, pad);
      const noPads = g.pads.every((p) => p === 0);
      const padding = tfPadding(g, g.strides);
      // 'same' pools ignore the padding, which is ONNX's count_include_pad = 0 (and max pooling).
      if (extra[0] === 0 && extra[1] === 0 && (noPads || (padding === 'same' && !includePad))) {
        return [input.restore(run(x, noPads ? 'valid' : 'same'))];
      }
      const padded: [Pair, Pair, Pair, Pair] = [[0, 0], [pads[0][0], pads[0][1] + extra[0]], [pads[1][0], pads[1][1] + extra[1]], [0, 0]];
      if (kind === 'max') return [input.restore(run(tf.pad(x, padded, -Infinity), 'valid'))];
      const sums = run(tf.pad(x, padded, 0), 'valid');
      if (includePad && extra[0] === 0 && extra[1] === 0) return [input.restore(sums)];
      // Divide by how many counted cells each window covers: the input (and the declared pads
      // when count_include_pad), never ceil_mode's extra cells. Mean of a 0/1 mask = count / k.
      const counted = includePad ? tf.ones([1, h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], 1]) : tf.ones([1, h, w, 1]);
      const maskPads: [Pair, Pair, Pair, Pair] = includePad
        ? [[0, 0], [0, extra[0]], [0, extra[1]], [0, 0]]
        : padded;
      const share = run(tf.pad(counted, maskPads, 0) as tf.Tensor4D, 'valid');
      return [input.restore(tf.div(sums, share))];
    },
  };
}

function globalPool(reduce: (x: tf.Tensor, axes: number[]) => tf.Tensor): OpDefinition {
  return {
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      const spatial = perm.map((_, axis) => axis).filter((axis) => axis >= 2).map((axis) => physicalAxis(perm, axis));
      return [deviceValue(reduce(tensor, spatial), perm)];
    },
  };
}

// ------------------------------------------------------------------------- Depth <-> space

function blockValidate(opType: string) {
  return (node: PlanNode) => {
    const mode = attrString(node, 'mode', 'DCR');
    if (opType === 'DepthToSpace' && mode !== 'DCR' && mode !== 'CRD') {
      throw new ModelError(`DepthToSpace node "${node.name}": unknown mode ${mode}`);
    }
    if (attrInt(node, 'blocksize') === undefined) throw new ModelError(`${opType} node "${node.name}" has no blocksize`);
  };
}

const depthToSpace: OpDefinition = {
  validate: blockValidate('DepthToSpace'),
  device: (ctx) => {
    const x = ctx.tensor(0, NHWC) as tf.Tensor4D;
    const b = attrInt(ctx.node, 'blocksize')!;
    const dcr = attrString(ctx.node, 'mode', 'DCR') === 'DCR';
    if (dcr && !depthToSpaceByTranspose()) return [deviceValue(tf.depthToSpace(x, b, 'NHWC'), NHWC)];
    const [n, h, w, depth] = x.shape;
    const c = depth / (b * b);
    // DCR: channel (i * b + j) * C + c; CRD: channel c * b * b + i * b + j. Either goes to row
    // offset i, column offset j of output channel c.
    const moved = dcr
      ? transposeFast(tf.reshape(x, [n, h, w, b, b, c]), [0, 1, 3, 2, 4, 5])
      : transposeFast(tf.reshape(x, [n, h, w, c, b, b]), [0, 1, 4, 2, 5, 3]);
    return [deviceValue(tf.reshape(moved, [n, h * b, w * b, c]), NHWC)];
  },
};

const spaceToDepth: OpDefinition = {
  validate: blockValidate('SpaceToDepth'),
  device: (ctx) => {
    const x = ctx.tensor(0, NHWC) as tf.Tensor4D;
    const b = attrInt(ctx.node, 'blocksize')!;
    const [n, h, w, c] = x.shape;
    // Output channel (i * b + j) * C + c, as TensorFlow's space_to_depth and ONNX define it.
    const split = tf.reshape(x, [n, h / b, b, w / b, b, c]);
    const moved = transposeFast(split, [0, 1, 3, 2, 4, 5]);
    return [deviceValue(tf.reshape(moved, [n, h / b, w / b, b * b * c]), NHWC)];
  },
};

/** Ops only rewrites create, in the internal domain. */
export const INTERNAL_OPS: OpTable = {
  ConvOverConcat: convOverConcat,
};

export const SPATIAL_OPS: OpTable = {
  Conv: conv,
  AveragePool: pool('avg'),
  MaxPool: pool('max'),
  GlobalAveragePool: globalPool((x, axes) => tf.mean(x, axes, true)),
  GlobalMaxPool: globalPool((x, axes) => tf.max(x, axes, true)),
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
};
