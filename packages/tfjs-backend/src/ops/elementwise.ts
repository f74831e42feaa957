/** Elementwise ONNX ops: activations, arithmetic with broadcasting, comparisons, Cast, Clip. */
import * as tf from '@tensorflow/tfjs-core';

import { UnsupportedOpError } from '../errors.js';
import { hostDTypeOf } from '../onnx/tensor-proto.js';
import { attrFloat, attrInt } from '../runtime/attributes.js';
import type { NodeContext, PlanNode } from '../runtime/context.js';
import { broadcastMap, hostTensor } from '../runtime/host-tensor.js';
import type { HostDType, HostTensor } from '../runtime/host-tensor.js';
import { deviceDType, deviceValue } from '../runtime/values.js';
import type { OpDefinition, OpTable } from './types.js';

/** One output, same layout as input 0. */
function unary(fn: (x: tf.Tensor, node: PlanNode) => tf.Tensor, host?: (v: number) => number): OpDefinition {
  return {
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      return [deviceValue(fn(tensor, ctx.node), perm)];
    },
    ...(host
      ? {
          host: (_node: PlanNode, [x]: readonly (HostTensor | undefined)[]) =>
            x ? [hostTensor(x.dtype, x.dims, Array.from(x.data, host))] : undefined,
        }
      : {}),
  };
}

function truncDivide(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  // tf.div floors integer quotients; ONNX truncates toward zero.
  const q = tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32'));
  return tf.cast(tf.mul(tf.sign(q), tf.floor(tf.abs(q))), 'int32');
}

/** Broadcasting n-ary op over aligned inputs (all layouts agree after alignment). */
function nary(
  fn: (tensors: tf.Tensor[], node: PlanNode) => tf.Tensor,
  host?: { dtype: (inputs: readonly HostTensor[]) => HostDType; fn: (values: readonly number[]) => number },
): OpDefinition {
  return {
    device: (ctx) => {
      const indices = Array.from({ length: ctx.inputCount }, (_, i) => i).filter((i) => ctx.has(i));
      const { tensors, perm } = ctx.aligned(indices);
      return [deviceValue(fn(tensors, ctx.node), perm)];
    },
    ...(host
      ? {
          host: (node: PlanNode, inputs: readonly (HostTensor | undefined)[]) => {
            const present = inputs.filter((t): t is HostTensor => t !== undefined);
            return [broadcastMap(present, host.dtype(present), host.fn, `${node.opType} node "${node.name}"`)];
          },
        }
      : {}),
  };
}

const sameAsFirst = (inputs: readonly HostTensor[]): HostDType => inputs[0]!.dtype;
const boolResult = (): HostDType => 'bool';
const isInt = (inputs: readonly HostTensor[]) => inputs[0]!.dtype === 'int';

function arithmetic(
  fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  hostFn: (a: number, b: number, integer: boolean) => number,
): OpDefinition {
  const definition = nary(([a, b]) => fn(a!, b!));
  return {
    ...definition,
    host: (node, inputs) => {
      const [a, b] = inputs;
      if (!a || !b) return undefined;
      const integer = isInt([a]);
      return [broadcastMap([a, b], a.dtype, ([x, y]) => hostFn(x!, y!, integer), `${node.opType} node "${node.name}"`)];
    },
  };
}

const comparison = (fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, hostFn: (a: number, b: number) => boolean) =>
  nary(([a, b]) => fn(a!, b!), { dtype: boolResult, fn: ([a, b]) => (hostFn(a!, b!) ? 1 : 0) });

function variadic(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, hostFn: (a: number, b: number) => number): OpDefinition {
  return nary((tensors) => tensors.slice(1).reduce((acc, t) => fn(acc, t), tensors[0]!), {
    dtype: sameAsFirst,
    fn: (values) => values.slice(1).reduce((acc, v) => hostFn(acc, v), values[0]!),
  });
}

function castTarget(node: PlanNode): HostDType {
  const to = attrInt(node, 'to', 1);
  const dtype = hostDTypeOf(to);
  if (!dtype) throw new UnsupportedOpError('Cast', node.name, `casts to ONNX element type ${to}`);
  return dtype;
}

function clipBounds(ctx: NodeContext): [number, number] {
  if (ctx.opset < 11) {
    return [attrFloat(ctx.node, 'min', -Infinity), attrFloat(ctx.node, 'max', Infinity)];
  }
  const bound = (i: number, fallback: number) => (ctx.has(i) ? ctx.numbers(i)[0] ?? fallback : fallback);
  return [bound(1, -Infinity), bound(2, Infinity)];
}

const identity: OpDefinition = {
  // Zero-copy alias: a reshape to the same shape shares the buffer under a new tensor handle.
  device: (ctx) => {
    const { tensor, perm } = ctx.stored(0);
    return [deviceValue(tf.reshape(tensor, tensor.shape), perm)];
  },
  host: (_node, [x]) => (x ? [x] : undefined),
};

function singleOutput(opType: string): (node: PlanNode) => void {
  return (node) => {
    if (node.outputs.slice(1).some((name) => name !== '')) {
      throw new UnsupportedOpError(opType, node.name, 'asks for its optional second output');
    }
  };
}

export const ELEMENTWISE_OPS: OpTable = {
  Relu: unary((x) => tf.relu(x)),
  LeakyRelu: unary((x, node) => tf.leakyRelu(x, attrFloat(node, 'alpha', 0.01))),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Exp: unary((x) => tf.exp(x)),
  Log: unary((x) => tf.log(x)),
  Sqrt: unary((x) => tf.sqrt(x), Math.sqrt),
  Abs: unary((x) => tf.abs(x), Math.abs),
  Neg: unary((x) => tf.neg(x), (v) => -v),
  Reciprocal: unary((x) => tf.reciprocal(x)),
  Floor: unary((x) => tf.floor(x), Math.floor),
  Ceil: unary((x) => tf.ceil(x), Math.ceil),
  // Both round halves to even.
  Round: unary((x) => tf.round(x)),
  Sign: unary((x) => tf.sign(x), Math.sign),
  Erf: unary((x) => tf.erf(x)),
  Sin: unary((x) => tf.sin(x)),
  Cos: unary((x) => tf.cos(x)),
  Softplus: unary((x) => tf.softplus(x)),
  Softsign: unary((x) => tf.div(x, tf.add(tf.abs(x), 1))),
  Not: unary((x) => tf.logicalNot(x), (v) => (v ? 0 : 1)),
  Elu: unary((x, node) => {
    const alpha = attrFloat(node, 'alpha', 1);
    return alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(tf.expm1(x), alpha));
  }),
  Selu: unary((x, node) => {
    const alpha = attrFloat(node, 'alpha', 1.6732631921768188);
    const gamma = attrFloat(node, 'gamma', 1.0507010221481323);
    return tf.mul(tf.where(tf.greater(x, 0), x, tf.mul(tf.expm1(x), alpha)), gamma);
  }),
  HardSigmoid: unary((x, node) =>
    tf.clipByValue(tf.add(tf.mul(x, attrFloat(node, 'alpha', 0.2)), attrFloat(node, 'beta', 0.5)), 0, 1),
  ),
  HardSwish: unary((x) => tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1))),
  Identity: identity,
  Dropout: { ...identity, validate: singleOutput('Dropout') },
  Cast: {
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      return [deviceValue(tf.cast(tensor, deviceDType(castTarget(ctx.node))), perm)];
    },
    host: (node, [x]) => (x ? [hostTensor(castTarget(node), x.dims, x.data)] : undefined),
  },
  Clip: {
    device: (ctx) => {
      const { tensor, perm } = ctx.stored(0);
      const [min, max] = clipBounds(ctx);
      return [deviceValue(tf.clipByValue(tensor, min, max), perm)];
    },
  },

  Add: arithmetic((a, b) => tf.add(a, b), (a, b) => a + b),
  Sub: arithmetic((a, b) => tf.sub(a, b), (a, b) => a - b),
  Mul: arithmetic((a, b) => tf.mul(a, b), (a, b) => a * b),
  Div: arithmetic(
    (a, b) => (a.dtype === 'int32' && b.dtype === 'int32' ? truncDivide(a, b) : tf.div(a, b)),
    (a, b, integer) => (integer ? Math.trunc(a / b) : a / b),
  ),
  Pow: nary(([a, b]) => tf.pow(a!, tf.cast(b!, a!.dtype))),
  PRelu: nary(([x, slope]) => tf.add(tf.relu(x!), tf.mul(slope!, tf.minimum(x!, 0)))),
  Max: variadic((a, b) => tf.maximum(a, b), Math.max),
  Min: variadic((a, b) => tf.minimum(a, b), Math.min),
  Sum: variadic((a, b) => tf.add(a, b), (a, b) => a + b),
  Mean: nary((tensors) => tf.div(tensors.slice(1).reduce((acc, t) => tf.add(acc, t), tensors[0]!), tensors.length)),
  Equal: comparison((a, b) => tf.equal(a, b), (a, b) => a === b),
  Less: comparison((a, b) => tf.less(a, b), (a, b) => a < b),
  LessOrEqual: comparison((a, b) => tf.lessEqual(a, b), (a, b) => a <= b),
  Greater: comparison((a, b) => tf.greater(a, b), (a, b) => a > b),
  GreaterOrEqual: comparison((a, b) => tf.greaterEqual(a, b), (a, b) => a >= b),
  And: comparison((a, b) => tf.logicalAnd(a, b), (a, b) => Boolean(a && b)),
  Or: comparison((a, b) => tf.logicalOr(a, b), (a, b) => Boolean(a || b)),
  Xor: comparison((a, b) => tf.logicalXor(a, b), (a, b) => Boolean(a) !== Boolean(b)),
  Where: nary(([condition, a, b]) => tf.where(tf.cast(condition!, 'bool'), a!, b!), {
    dtype: (inputs) => inputs[1]!.dtype,
    fn: ([c, a, b]) => (c ? a! : b!),
  }),
};

/** Activations a Conv can apply itself (see rewrites.ts), with their parameter. */
export function fusableActivation(node: PlanNode): { kind: 'relu' | 'leakyrelu' | 'sigmoid'; alpha: number } | undefined {
  switch (node.opType) {
    case 'Relu':
      return { kind: 'relu', alpha: 0 };
    case 'LeakyRelu':
      return { kind: 'leakyrelu', alpha: attrFloat(node, 'alpha', 0.01) };
    case 'Sigmoid':
      return { kind: 'sigmoid', alpha: 0 };
    default:
      return undefined;
  }
}
