/** Reductions and softmax, along logical axes mapped to wherever they are stored. */
import * as tf from '@tensorflow/tfjs-core';

import { attrInt, attrInts } from '../runtime/attributes.js';
import type { NodeContext } from '../runtime/context.js';
import { normalizeAxis, sizeOf } from '../runtime/host-tensor.js';
import { identityPerm, physicalAxis, removeAxes } from '../runtime/layout.js';
import { deviceValue } from '../runtime/values.js';
import type { OpDefinition, OpTable } from './types.js';

type Reducer = (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;

/** `axesAsInputSince`: the opset from which axes moved from an attribute to input 1. */
function reduction(reduce: Reducer, axesAsInputSince: number): OpDefinition {
  return {
    hostInputs: [1],
    device: (ctx) => {
      const shape = ctx.shape(0);
      const { tensor, perm } = ctx.stored(0);
      const keepDims = attrInt(ctx.node, 'keepdims', 1) === 1;
      const given = ctx.opset >= axesAsInputSince ? ctx.optionalNumbers(1) : attrInts(ctx.node, 'axes');
      let axes: number[];
      if (given === undefined || given.length === 0) {
        if (attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) {
          return [deviceValue(tf.reshape(tensor, tensor.shape), perm)];
        }
        axes = identityPerm(shape.length);
      } else {
        axes = given.map((a) => normalizeAxis(a, shape.length, `${ctx}`));
      }
      const reduced = reduce(tensor, axes.map((a) => physicalAxis(perm, a)), keepDims);
      return [deviceValue(reduced, keepDims ? perm : removeAxes(perm, axes))];
    },
  };
}

/** Softmax along one physical axis (tf.softmax only does the last one). */
function softmaxAlong(x: tf.Tensor, axis: number, log: boolean): tf.Tensor {
  if (axis === x.rank - 1) return log ? tf.logSoftmax(x) : tf.softmax(x);
  const shifted = tf.sub(x, tf.max(x, axis, true));
  const sum = tf.sum(tf.exp(shifted), axis, true);
  return log ? tf.sub(shifted, tf.log(sum)) : tf.div(tf.exp(shifted), sum);
}

function softmax(log: boolean): OpDefinition {
  return {
    device: (ctx: NodeContext) => {
      const shape = ctx.shape(0);
      if (ctx.opset >= 13) {
        const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), shape.length, `${ctx}`);
        const { tensor, perm } = ctx.stored(0);
        return [deviceValue(softmaxAlong(tensor, physicalAxis(perm, axis), log), perm)];
      }
      // Before opset 13 the input is flattened to 2-D at `axis` and normalised per row.
      const axis = normalizeAxis(attrInt(ctx.node, 'axis', 1), shape.length, `${ctx}`);
      const rows = tf.reshape(ctx.tensor(0), [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))]);
      return [deviceValue(tf.reshape(softmaxAlong(rows, 1, log), shape))];
    },
  };
}

export const REDUCE_OPS: OpTable = {
  ReduceSum: reduction((x, axes, keep) => tf.sum(x, axes, keep), 13),
  ReduceMean: reduction((x, axes, keep) => tf.mean(x, axes, keep), 18),
  ReduceMax: reduction((x, axes, keep) => tf.max(x, axes, keep), 18),
  ReduceMin: reduction((x, axes, keep) => tf.min(x, axes, keep), 18),
  ReduceProd: reduction((x, axes, keep) => tf.prod(x, axes, keep), 18),
  ReduceSumSquare: reduction((x, axes, keep) => tf.sum(tf.square(x), axes, keep), 18),
  ReduceL1: reduction((x, axes, keep) => tf.sum(tf.abs(x), axes, keep), 18),
  ReduceL2: reduction((x, axes, keep) => tf.sqrt(tf.sum(tf.square(x), axes, keep)), 18),
  ReduceLogSumExp: reduction((x, axes, keep) => tf.logSumExp(x, axes, keep), 18),
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
};
