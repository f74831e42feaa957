/** What an op implementation sees of its node: attributes, inputs in the layouts it asks for. */
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from '@sgenet/core';

import type { OnnxNode } from '../onnx/model.js';
import { hostNumbers } from './host-tensor.js';
import type { HostDType, HostTensor } from './host-tensor.js';
import { identityPerm, samePerm } from './layout.js';
import type { Perm } from './layout.js';
import { download, dtypeOf, inLayout, relayout, shapeOf, sizeOfValue } from './values.js';
import type { RuntimeValue } from './values.js';

/** An activation folded into the convolution that feeds it (see rewrites.ts). */
export interface FusedActivation {
  kind: 'relu' | 'leakyrelu' | 'sigmoid';
  alpha: number;
}

/** Convolution weights prepared once per session in TensorFlow.js layout. */
export interface ConvWeights {
  /**
   * `conv`: HWIO filter; `depthwise`: HW,C,multiplier filter; `grouped`: one HWIO filter per
   * group; `per-input`: one HWIO filter per input of a conv over a concat (rewrites.ts).
   */
  kind: 'conv' | 'depthwise' | 'grouped' | 'per-input';
  filters: tf.Tensor4D[];
  /** One bias per filter (`per-input`: one, for the sum), when the node has one. */
  biases: tf.Tensor1D[] | undefined;
}

/** A conv over a channel concat, run as one conv per concatenated input (rewrites.ts). */
export interface ConvOverConcat {
  /** Names of the conv's weight and bias constants. */
  weight: string;
  bias: string | undefined;
  /** Channels of each input, in concat order. */
  channels: number[];
}

/** A node as executed: the ONNX node plus what load-time rewrites decided for it. */
export interface PlanNode extends OnnxNode {
  /** Activation applied inside the op (conv + activation fusion). */
  fusedActivation?: FusedActivation;
  /**
   * Output channel order of a conv whose weights were permuted at load (CRD DepthToSpace
   * rewrite): output channel k is original channel `outputChannelOrder[k]`.
   */
  outputChannelOrder?: readonly number[];
  /** Weights prepared at load (constant conv filters). */
  convWeights?: ConvWeights;
  /** Set on the internal ConvOverConcat node: where its weights come from. */
  overConcat?: ConvOverConcat;
}

/** Per-node view of the inputs, handed to an op's device implementation. */
export class NodeContext {
  constructor(
    readonly node: PlanNode,
    private readonly inputs: readonly (RuntimeValue | undefined)[],
    /** Operator set version of the default ONNX domain. */
    readonly opset: number,
  ) {}

  get inputCount(): number {
    return this.inputs.length;
  }

  /** Whether optional input `i` was given. */
  has(i: number): boolean {
    return this.inputs[i] !== undefined;
  }

  value(i: number): RuntimeValue {
    const v = this.inputs[i];
    if (v === undefined) {
      throw new ModelError(`${this.node.opType} node "${this.node.name}" is missing its input ${i}`);
    }
    return v;
  }

  shape(i: number): number[] {
    return shapeOf(this.value(i));
  }

  rank(i: number): number {
    return this.shape(i).length;
  }

  dtype(i: number): HostDType {
    return dtypeOf(this.value(i));
  }

  /** The input on the host (device values are read back; only small shape tensors are). */
  host(i: number): HostTensor {
    const v = this.value(i);
    return v.kind === 'host' ? v.host : download(v);
  }

  /** The input's elements as numbers (shapes, axes, pads, scales). */
  numbers(i: number): number[] {
    return hostNumbers(this.host(i));
  }

  /** Like {@link numbers}, or undefined when the optional input is absent. */
  optionalNumbers(i: number): number[] | undefined {
    return this.has(i) ? this.numbers(i) : undefined;
  }

  /** The input as a tensor in logical (ONNX) layout, or stored with `perm` when given. */
  tensor(i: number, perm?: Perm): tf.Tensor {
    const v = this.value(i);
    return inLayout(v, perm ?? identityPerm(shapeOf(v).length));
  }

  /** The input as it is stored: no data moves. */
  stored(i: number): { tensor: tf.Tensor; perm: Perm } {
    const v = this.value(i);
    if (v.kind === 'device') return { tensor: v.tensor, perm: v.perm };
    const perm = identityPerm(v.host.dims.length);
    return { tensor: inLayout(v, perm), perm };
  }

  /**
   * Inputs `indices` brought to one rank (numpy broadcasting: missing leading axes are 1) and one
   * layout, for elementwise ops. The layout chosen is the one that moves the fewest elements.
   */
  aligned(indices: readonly number[]): { tensors: tf.Tensor[]; perm: Perm } {
    return alignValues(indices.map((i) => this.value(i)));
  }

  toString(): string {
    return `${this.node.opType} node "${this.node.name}"`;
  }
}

/** See {@link NodeContext.aligned}. */
export function alignValues(values: readonly RuntimeValue[]): { tensors: tf.Tensor[]; perm: Perm } {
  const rank = Math.max(0, ...values.map((v) => shapeOf(v).length));
  const candidates: Perm[] = [];
  for (const v of values) {
    if (v.kind !== 'device' || v.perm.length !== rank) continue;
    candidates.push(v.perm);
    v.relayouts?.forEach((_, key) => candidates.push(key.split(',').map(Number)));
  }
  candidates.push(identityPerm(rank));
  const cost = (perm: Perm) =>
    values.reduce((sum, v) => {
      if (shapeOf(v).length !== rank) return sum;
      if (v.kind === 'device' && (samePerm(v.perm, perm) || v.relayouts?.has(perm.join(',')))) return sum;
      if (v.kind === 'host' && samePerm(perm, identityPerm(rank))) return sum;
      return sum + sizeOfValue(v);
    }, 0);
  let best = candidates[0]!;
  let bestCost = cost(best);
  for (const perm of candidates.slice(1)) {
    const c = cost(perm);
    if (c < bestCost) {
      best = perm;
      bestCost = c;
    }
  }
  const tensors = values.map((v) => {
    const shape = shapeOf(v);
    if (shape.length === rank) return inLayout(v, best);
    // Lower rank: align right (numpy), then store like the others. Broadcast operands are small.
    const logical = inLayout(v, identityPerm(shape.length));
    const padded = tf.reshape(logical, [...new Array<number>(rank - shape.length).fill(1), ...shape]);
    return relayout(padded, identityPerm(rank), best);
  });
  return { tensors, perm: best };
}
