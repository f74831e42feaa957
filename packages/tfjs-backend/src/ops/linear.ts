/** MatMul, Gemm and the normalisation layers (BatchNormalization, Instance/LayerNormalization). */
import * as tf from '@tensorflow/tfjs-core';

import { UnsupportedOpError } from '../errors.js';
import { attrFloat, attrInt } from '../runtime/attributes.js';
import { alignValues } from '../runtime/context.js';
import type { NodeContext, PlanNode } from '../runtime/context.js';
import { normalizeAxis } from '../runtime/host-tensor.js';
import { identityPerm, physicalAxis } from '../runtime/layout.js';
import { deviceValue } from '../runtime/values.js';
import type { OpDefinition, OpTable } from './types.js';

/** numpy matmul: 1-D operands gain an axis that is dropped again; batch axes broadcast. */
const matMul: OpDefinition = {
  device: (ctx) => {
    let a = ctx.tensor(0);
    let b = ctx.tensor(1);
    const vectorA = a.rank === 1;
    const vectorB = b.rank === 1;
    if (vectorA) a = tf.reshape(a, [1, a.shape[0]!]);
    if (vectorB) b = tf.reshape(b, [b.shape[0]!, 1]);
    // Equalise ranks so tf.matMul broadcasts the batch axes.
    while (a.rank < b.rank) a = tf.expandDims(a, 0);
    while (b.rank < a.rank) b = tf.expandDims(b, 0);
    let y = tf.matMul(a, b);
    if (vectorA) y = tf.squeeze(y, [y.rank - 2]);
    if (vectorB) y = tf.squeeze(y, [y.rank - 1]);
    return [deviceValue(y)];
  },
};

const gemm: OpDefinition = {
  device: (ctx) => {
    const alpha = attrFloat(ctx.node, 'alpha', 1);
    const beta = attrFloat(ctx.node, 'beta', 1);
    let y = tf.matMul(ctx.tensor(0), ctx.tensor(1), attrInt(ctx.node, 'transA', 0) === 1, attrInt(ctx.node, 'transB', 0) === 1);
    if (alpha !== 1) y = tf.mul(y, alpha);
    if (ctx.has(2) && beta !== 0) y = tf.add(y, beta === 1 ? ctx.tensor(2) : tf.mul(ctx.tensor(2), beta));
    return [deviceValue(y)];
  },
};

/** A per-channel vector (logical axis 1) shaped to broadcast against input 0 as it is stored. */
function perChannel(ctx: NodeContext, vector: tf.Tensor): tf.Tensor {
  const { perm } = ctx.stored(0);
  const shape = perm.map((axis) => (axis === 1 ? vector.size : 1));
  return tf.reshape(vector, shape);
}

function onlyFirstOutput(opType: string) {
  return (node: PlanNode) => {
    if (node.outputs.slice(1).some((name) => name !== '')) {
      throw new UnsupportedOpError(opType, node.name, 'asks for its training-mode outputs');
    }
  };
}

const batchNormalization: OpDefinition = {
  validate: (node) => {
    onlyFirstOutput('BatchNormalization')(node);
    if (attrInt(node, 'training_mode', 0) === 1) {
      throw new UnsupportedOpError('BatchNormalization', node.name, 'runs in training mode');
    }
  },
  device: (ctx) => {
    const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
    const { tensor, perm } = ctx.stored(0);
    // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a (per channel).
    const a = tf.div(ctx.tensor(1), tf.sqrt(tf.add(ctx.tensor(4), epsilon)));
    const b = tf.sub(ctx.tensor(2), tf.mul(ctx.tensor(3), a));
    return [deviceValue(tf.add(tf.mul(tensor, perChannel(ctx, a)), perChannel(ctx, b)), perm)];
  },
};

const instanceNormalization: OpDefinition = {
  device: (ctx) => {
    const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
    const { tensor, perm } = ctx.stored(0);
    const spatial = perm.map((_, axis) => axis).filter((axis) => axis >= 2).map((axis) => physicalAxis(perm, axis));
    const { mean, variance } = tf.moments(tensor, spatial, true);
    const normalized = tf.mul(tf.sub(tensor, mean), tf.rsqrt(tf.add(variance, epsilon)));
    return [deviceValue(tf.add(tf.mul(normalized, perChannel(ctx, ctx.tensor(1))), perChannel(ctx, ctx.tensor(2))), perm)];
  },
};

const layerNormalization: OpDefinition = {
  validate: onlyFirstOutput('LayerNormalization'),
  device: (ctx) => {
    const epsilon = attrFloat(ctx.node, 'epsilon', 1e-5);
    const rank = ctx.rank(0);
    const axis = normalizeAxis(attrInt(ctx.node, 'axis', -1), rank, `${ctx}`);
    const { tensor, perm } = ctx.stored(0);
    const axes = identityPerm(rank).slice(axis).map((a) => physicalAxis(perm, a));
    const { mean, variance } = tf.moments(tensor, axes, true);
    const normalized = deviceValue(tf.mul(tf.sub(tensor, mean), tf.rsqrt(tf.add(variance, epsilon))), perm);
    const operands = [normalized, ctx.value(1), ...(ctx.has(2) ? [ctx.value(2)] : [])];
    const { tensors, perm: aligned } = alignValues(operands);
    const scaled = tf.mul(tensors[0]!, tensors[1]!);
    const result = tensors[2] ? tf.add(scaled, tensors[2]) : scaled;
    // `normalized` is a temporary: free any layout alignValues cached on it.
    normalized.relayouts?.forEach((t) => t.dispose());
    return [deviceValue(result, aligned)];
  },
};

export const LINEAR_OPS: OpTable = {
  MatMul: matMul,
  Gemm: gemm,
  BatchNormalization: batchNormalization,
  InstanceNormalization: instanceNormalization,
  LayerNormalization: layerNormalization,
};
