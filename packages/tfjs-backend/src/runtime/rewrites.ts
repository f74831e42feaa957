/**
 * Load-time graph rewrites that change no result, only the work TensorFlow.js does:
 *
 * - Conv -> Relu | LeakyRelu | Sigmoid: the activation runs inside the fused conv kernel.
 * - Convs -> Concat -> activation (SGENet's dilated branches): each conv applies the activation,
 *   which saves a pass over the concatenated tensor (activations are elementwise, so
 *   act(concat(a, b)) = concat(act(a), act(b))).
 * - Conv -> DepthToSpace(CRD): the conv's output channels are permuted once, at load, into DCR
 *   order, so the pixel shuffle becomes TensorFlow's native depthToSpace instead of a 6-D
 *   transpose.
 * - Concat(channels) -> Conv, where the platform concatenates channels slowly (wasm): the conv
 *   runs on each concatenated input with the matching slice of its weights, and the partial
 *   results are summed; the concatenated tensor is never built.
 */
import { attrInt, attrString } from './attributes.js';

/** Domain of the nodes rewrites create; no ONNX model can name it. */
export const INTERNAL_DOMAIN = 'sgenet.internal';
import type { PlanNode } from './context.js';
import { fusableActivation } from '../ops/elementwise.js';

/** Consumers of each value name (a node appears once per input slot it reads the name in). */
function consumersOf(nodes: readonly PlanNode[]): Map<string, PlanNode[]> {
  const consumers = new Map<string, PlanNode[]>();
  for (const node of nodes) {
    for (const name of node.inputs) {
      if (name === '') continue;
      const list = consumers.get(name);
      if (list) list.push(node);
      else consumers.set(name, [node]);
    }
  }
  return consumers;
}

function soleConsumer(name: string, consumers: Map<string, PlanNode[]>, graphOutputs: ReadonlySet<string>): PlanNode | undefined {
  if (graphOutputs.has(name)) return undefined;
  const list = consumers.get(name);
  return list && list.length === 1 ? list[0] : undefined;
}

/** Output channel order turning a CRD pixel shuffle's input into DCR order. */
export function crdToDcrOrder(channels: number, block: number): number[] {
  const outChannels = channels / (block * block);
  return Array.from({ length: channels }, (_, k) => (k % outChannels) * block * block + Math.floor(k / outChannels));
}

export interface RewriteOptions {
  graphOutputs: ReadonlySet<string>;
  /** Whether a value is a constant (conv weights must be to permute them at load). */
  isConstant(name: string): boolean;
  /** Output channels of a conv whose weight is constant. */
  convOutputChannels(node: PlanNode): number | undefined;
  /** Whether to replace Concat -> Conv by per-input convs (see kernel-choice.ts). */
  splitConcatConvs: boolean;
}

export function rewriteGraph(input: readonly PlanNode[], options: RewriteOptions): PlanNode[] {
  let nodes = [...input];
  const removed = new Set<PlanNode>();

  // Conv -> activation.
  let consumers = consumersOf(nodes);
  for (const node of nodes) {
    if (node.opType !== 'Conv' || node.fusedActivation || removed.has(node)) continue;
    const next = soleConsumer(node.outputs[0]!, consumers, options.graphOutputs);
    const activation = next && fusableActivation(next);
    if (!next || !activation) continue;
    node.fusedActivation = activation;
    node.outputs = [next.outputs[0]!];
    removed.add(next);
  }
  nodes = nodes.filter((n) => !removed.has(n));

  // Convs -> Concat(axis 1) -> activation.
  consumers = consumersOf(nodes);
  const producers = new Map<string, PlanNode>();
  for (const node of nodes) for (const name of node.outputs) producers.set(name, node);
  for (const concat of nodes) {
    if (concat.opType !== 'Concat' || attrInt(concat, 'axis', 0) !== 1 || removed.has(concat)) continue;
    const next = soleConsumer(concat.outputs[0]!, consumers, options.graphOutputs);
    const activation = next && fusableActivation(next);
    if (!next || !activation) continue;
    const convs = concat.inputs.map((name) => {
      const producer = producers.get(name);
      const only = soleConsumer(name, consumers, options.graphOutputs);
      return producer?.opType === 'Conv' && !producer.fusedActivation && only === concat ? producer : undefined;
    });
    if (convs.some((c) => c === undefined) || new Set(convs).size !== convs.length) continue;
    for (const conv of convs) conv!.fusedActivation = activation;
    concat.outputs = [next.outputs[0]!];
    removed.add(next);
  }
  nodes = nodes.filter((n) => !removed.has(n));

  // Conv -> DepthToSpace(CRD).
  consumers = consumersOf(nodes);
  for (const node of nodes) {
    if (node.opType !== 'Conv' || node.outputChannelOrder) continue;
    const next = soleConsumer(node.outputs[0]!, consumers, options.graphOutputs);
    if (!next || next.opType !== 'DepthToSpace' || attrString(next, 'mode', 'DCR') !== 'CRD') continue;
    const weightsConstant = options.isConstant(node.inputs[1]!) && (!node.inputs[2] || options.isConstant(node.inputs[2]));
    const channels = options.convOutputChannels(node);
    const block = attrInt(next, 'blocksize', 0);
    if (!weightsConstant || channels === undefined || block < 1 || channels % (block * block) !== 0) continue;
    node.outputChannelOrder = crdToDcrOrder(channels, block);
    next.attributes = new Map(next.attributes).set('mode', { kind: 'string', value: 'DCR' });
  }

  // Concat(axis 1) -> Conv(group 1).
  if (!options.splitConcatConvs) return nodes;
  consumers = consumersOf(nodes);
  producers.clear();
  for (const node of nodes) for (const name of node.outputs) producers.set(name, node);
  const replaced = new Map<PlanNode, PlanNode>();
  for (const conv of nodes) {
    if (conv.opType !== 'Conv' || attrInt(conv, 'group', 1) !== 1) continue;
    const concat = producers.get(conv.inputs[0]!);
    if (!concat || concat.opType !== 'Concat' || attrInt(concat, 'axis', 0) !== 1) continue;
    if (soleConsumer(concat.outputs[0]!, consumers, options.graphOutputs) !== conv) continue;
    const [, weight, bias] = conv.inputs;
    if (!weight || !options.isConstant(weight) || (bias && !options.isConstant(bias))) continue;
    const channels = concat.inputs.map((name) => {
      const producer = producers.get(name);
      return producer?.opType === 'Conv' ? options.convOutputChannels(producer) : undefined;
    });
    if (channels.some((c) => c === undefined)) continue;
    replaced.set(concat, {
      ...conv,
      opType: 'ConvOverConcat',
      domain: INTERNAL_DOMAIN,
      inputs: [...concat.inputs],
      overConcat: { weight, bias: bias || undefined, channels: channels as number[] },
    });
    removed.add(conv);
  }
  return nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
}
