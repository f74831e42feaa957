/**
 * Resize and Pad, both written as gathers with host-computed indices along each axis: exact ONNX
 * coordinate rules for every mode, in any layout, with no backend-specific resize kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '@sgenet/core';

import { UnsupportedOpError } from '../errors.js';
import { attrFloat, attrInt, attrInts, attrString } from '../runtime/attributes.js';
import type { NodeContext, PlanNode } from '../runtime/context.js';
import { normalizeAxis } from '../runtime/host-tensor.js';
import { physicalAxis } from '../runtime/layout.js';
import { deviceValue } from '../runtime/values.js';
import type { OpDefinition, OpTable } from './types.js';

const COORDINATE_MODES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function resizeValidate(node: PlanNode, opset: number): void {
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') {
    throw new UnsupportedOpError('Resize', node.name, `uses mode "${mode}" (nearest and linear run)`);
  }
  const coordinates = attrString(node, 'coordinate_transformation_mode', opset >= 11 ? 'half_pixel' : 'asymmetric');
  if (!COORDINATE_MODES.includes(coordinates)) {
    throw new UnsupportedOpError('Resize', node.name, `uses coordinate_transformation_mode "${coordinates}"`);
  }
  if (!NEAREST_MODES.includes(attrString(node, 'nearest_mode', 'round_prefer_floor'))) {
    throw new UnsupportedOpError('Resize', node.name, 'uses an unknown nearest_mode');
  }
  if (attrInt(node, 'antialias', 0) !== 0) throw new UnsupportedOpError('Resize', node.name, 'asks for antialiasing');
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') {
    throw new UnsupportedOpError('Resize', node.name, 'uses a keep_aspect_ratio_policy other than stretch');
  }
}

/** Source coordinate of output index `x` along an axis (ONNX Resize formulas). */
function sourceCoordinate(mode: string, x: number, scale: number, inSize: number, outSize: number): number {
  switch (mode) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outSize === 1 ? 0 : (x * (inSize - 1)) / (outSize - 1);
    case 'tf_half_pixel_for_nn': return (x + 0.5) / scale;
    default: return x / scale; // asymmetric
  }
}

function nearestIndex(mode: string, coordinate: number): number {
  switch (mode) {
    case 'floor': return Math.floor(coordinate);
    case 'ceil': return Math.ceil(coordinate);
    case 'round_prefer_ceil': return Math.floor(coordinate + 0.5);
    default: return Number.isInteger(coordinate - 0.5) ? coordinate - 0.5 : Math.round(coordinate);
  }
}

/** Output sizes and per-axis scales from the scales / sizes inputs (opset 10, 11-17, 18+). */
function resizeTargets(ctx: NodeContext, shape: readonly number[]): { sizes: number[]; scales: number[] } {
  const rank = shape.length;
  const scalesIndex = ctx.opset >= 11 ? 2 : 1;
  const given = (i: number) => {
    const v = ctx.opset >= 11 || i === 1 ? ctx.optionalNumbers(i) : undefined;
    return v && v.length > 0 ? v : undefined;
  };
  const axes = (attrInts(ctx.node, 'axes') ?? shape.map((_, i) => i)).map((a) => normalizeAxis(a, rank, `${ctx}`));
  const scales = shape.map(() => 1);
  const sizes = [...shape];
  const sizesInput = ctx.opset >= 11 ? given(3) : undefined;
  const scalesInput = given(scalesIndex);
  if (sizesInput) {
    axes.forEach((axis, k) => {
      sizes[axis] = sizesInput[k]!;
      scales[axis] = sizes[axis]! / shape[axis]!;
    });
  } else if (scalesInput) {
    axes.forEach((axis, k) => {
      scales[axis] = scalesInput[k]!;
      sizes[axis] = Math.floor(shape[axis]! * scales[axis]!);
    });
  } else {
    throw new ModelError(`${ctx} has neither scales nor sizes`);
  }
  return { sizes, scales };
}

const resize: OpDefinition = {
  hostInputs: [1, 2, 3],
  validate: resizeValidate,
  device: (ctx) => {
    const shape = ctx.shape(0);
    const { sizes, scales } = resizeTargets(ctx, shape);
    const mode = attrString(ctx.node, 'mode', 'nearest');
    const coordinates = attrString(ctx.node, 'coordinate_transformation_mode', ctx.opset >= 11 ? 'half_pixel' : 'asymmetric');
    const nearestMode = attrString(ctx.node, 'nearest_mode', 'round_prefer_floor');
    let { tensor } = ctx.stored(0);
    const { perm } = ctx.stored(0);
    for (let axis = 0; axis < shape.length; axis++) {
      const inSize = shape[axis]!;
      const outSize = sizes[axis]!;
      if (inSize === outSize && scales[axis] === 1) continue;
      const p = physicalAxis(perm, axis);
      const coordinate = (x: number) => sourceCoordinate(coordinates, x, scales[axis]!, inSize, outSize);
      const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
      if (mode === 'nearest') {
        const index = Array.from({ length: outSize }, (_, x) => clamp(nearestIndex(nearestMode, coordinate(x))));
        tensor = tf.gather(tensor, tf.tensor1d(index, 'int32'), p);
        continue;
      }
      const low: number[] = [];
      const high: number[] = [];
      const weight: number[] = [];
      for (let x = 0; x < outSize; x++) {
        const c = Math.min(Math.max(coordinate(x), 0), inSize - 1);
        const l = Math.floor(c);
        low.push(l);
        high.push(Math.min(l + 1, inSize - 1));
        weight.push(c - l);
      }
      const weightShape = tensor.shape.map((_, i) => (i === p ? outSize : 1));
      const w = tf.tensor(weight, weightShape, 'float32');
      const a = tf.gather(tensor, tf.tensor1d(low, 'int32'), p);
      const b = tf.gather(tensor, tf.tensor1d(high, 'int32'), p);
      tensor = tf.add(a, tf.mul(tf.sub(b, a), w));
    }
    return [deviceValue(tensor === ctx.stored(0).tensor ? tf.reshape(tensor, tensor.shape) : tensor, perm)];
  },
};

function padValidate(node: PlanNode): void {
  const mode = attrString(node, 'mode', 'constant');
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) {
    throw new UnsupportedOpError('Pad', node.name, `uses mode "${mode}"`);
  }
}

/** Source index of padded position `i` (may be outside [0, size) before the mode maps it). */
function padSource(mode: string, i: number, size: number): number {
  if (mode === 'edge') return Math.min(Math.max(i, 0), size - 1);
  if (mode === 'wrap') return ((i % size) + size) % size;
  // reflect, without repeating the edge: period 2 * (size - 1)
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  const m = ((i % period) + period) % period;
  return m < size ? m : period - m;
}

const pad: OpDefinition = {
  hostInputs: [1, 2, 3],
  validate: padValidate,
  device: (ctx) => {
    const shape = ctx.shape(0);
    const rank = shape.length;
    const mode = attrString(ctx.node, 'mode', 'constant');
    let pads: number[];
    let value: number;
    let axes = shape.map((_, i) => i);
    if (ctx.opset < 11) {
      pads = attrInts(ctx.node, 'pads') ?? [];
      value = attrFloat(ctx.node, 'value', 0);
    } else {
      pads = ctx.numbers(1);
      value = ctx.has(2) ? ctx.numbers(2)[0] ?? 0 : 0;
      const axesInput = ctx.optionalNumbers(3);
      if (axesInput) axes = axesInput.map((a) => normalizeAxis(a, rank, `${ctx}`));
    }
    const begin = new Array<number>(rank).fill(0);
    const end = new Array<number>(rank).fill(0);
    axes.forEach((axis, k) => {
      begin[axis] = pads[k] ?? 0;
      end[axis] = pads[k + axes.length] ?? 0;
    });
    let { tensor } = ctx.stored(0);
    const { perm } = ctx.stored(0);
    // Negative pads crop.
    if (begin.some((b) => b < 0) || end.some((e) => e < 0)) {
      const start = perm.map((axis) => Math.max(0, -begin[axis]!));
      const size = perm.map((axis) => shape[axis]! - Math.max(0, -begin[axis]!) - Math.max(0, -end[axis]!));
      tensor = tf.slice(tensor, start, size);
    }
    const grow = perm.map((axis) => [Math.max(0, begin[axis]!), Math.max(0, end[axis]!)] as [number, number]);
    if (mode === 'constant') {
      tensor = tf.pad(tensor, grow, value);
    } else {
      for (let p = 0; p < perm.length; p++) {
        const [before, after] = grow[p]!;
        if (before === 0 && after === 0) continue;
        const size = tensor.shape[p]!;
        const index = Array.from({ length: size + before + after }, (_, i) => padSource(mode, i - before, size));
        tensor = tf.gather(tensor, tf.tensor1d(index, 'int32'), p);
      }
    }
    return [deviceValue(tensor === ctx.stored(0).tensor ? tf.reshape(tensor, tensor.shape) : tensor, perm)];
  },
};

export const RESIZE_PAD_OPS: OpTable = {
  Resize: resize,
  Pad: pad,
};
