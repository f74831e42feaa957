/**
 * The interpreter: compiles a parsed ONNX graph once (checks, constant folding, rewrites, weight
 * upload) and runs it node by node, freeing each intermediate tensor right after its last
 * consumer ran.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, InvalidOptionError, ModelError, SgenetError } from '@sgenet/core';

import { UnsupportedOpError } from '../errors.js';
import type { OnnxModel, OnnxValueInfo } from '../onnx/model.js';
import { hostDTypeOf } from '../onnx/tensor-proto.js';
import { findOp } from '../ops/index.js';
import { buildConvWeights } from '../ops/spatial.js';
import { attrInt } from './attributes.js';
import { NodeContext } from './context.js';
import type { ConvWeights, PlanNode } from './context.js';
import { sizeOf } from './host-tensor.js';
import type { HostTensor } from './host-tensor.js';
import { identityPerm } from './layout.js';
import { avoidChannelConcat } from './kernel-choice.js';
import { rewriteGraph } from './rewrites.js';
import { deviceValue, disposeValue, download, hostValue, inLayout, upload } from './values.js';
import type { HostValue, RuntimeValue } from './values.js';

/** A tensor handed to or returned by {@link CompiledGraph.run}: row-major data, ONNX layout. */
export interface TensorData {
  dtype: 'float32' | 'int32' | 'bool';
  dims: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

function label(node: PlanNode): string {
  return node.name || node.outputs[0] || node.opType;
}

/** Runs one node: on the host when it can (all-host inputs), else with TensorFlow.js. */
export function executeNode(node: PlanNode, inputs: readonly (RuntimeValue | undefined)[], opset: number): RuntimeValue[] {
  const op = findOp(node.opType, node.domain);
  if (!op) throw new UnsupportedOpError(node.opType, label(node));
  try {
    if (op.host && inputs.every((v) => v === undefined || v.kind === 'host')) {
      const result = op.host(node, inputs.map((v) => (v as HostValue | undefined)?.host), opset);
      if (result) return result.map((h) => hostValue(h));
    }
    const context = new NodeContext(node, inputs, opset);
    let produced: RuntimeValue[] = [];
    tf.tidy(() => {
      produced = op.device(context);
      return produced.flatMap((v) => (v.kind === 'device' ? [v.tensor] : []));
    });
    // An output must be a tensor of its own: freeing it later must not free an input or a weight.
    const foreign = new Set<tf.Tensor>();
    for (const v of inputs) {
      if (v?.kind === 'device') {
        foreign.add(v.tensor);
        v.relayouts?.forEach((t) => foreign.add(t));
      } else if (v?.uploaded) foreign.add(v.uploaded);
    }
    return produced.map((v) =>
      v.kind === 'device' && foreign.has(v.tensor) ? deviceValue(tf.reshape(v.tensor, v.tensor.shape), v.perm) : v);
  } catch (err) {
    if (err instanceof SgenetError) throw err;
    throw new BackendError(`TensorFlow.js failed on the ${node.opType} node "${label(node)}": ${(err as Error).message}`, { cause: err });
  }
}

export class CompiledGraph {
  private disposed = false;

  private constructor(
    private readonly nodes: readonly PlanNode[],
    private readonly opset: number,
    private readonly constants: ReadonlyMap<string, HostValue>,
    /** For each node, the input names whose last reader it is (freed after it ran). */
    private readonly releaseAfter: readonly string[][],
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
    /** Tensors the session owns: uploaded constants and prepared conv filters. */
    private readonly sessionTensors: readonly tf.Tensor[],
    /** Node outputs nothing reads and no graph output is (freed as soon as produced). */
    private readonly unread: ReadonlySet<string>,
  ) {}

  /**
   * Throws {@link UnsupportedOpError} for the first op (or attribute value) this backend cannot
   * run, and ModelError for a graph it cannot make sense of. Needs no TensorFlow.js backend.
   */
  static check(model: OnnxModel): void {
    const opset = model.opsets.get('') ?? 0;
    for (const node of model.graph.nodes) {
      const op = findOp(node.opType, node.domain);
      if (!op) {
        const name = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
        throw new UnsupportedOpError(name, label(node));
      }
      if (opset === 0) throw new ModelError('The model does not declare an opset for the default ONNX domain');
      op.validate?.(node, opset);
    }
  }

  /**
   * Compiles `model` for the active TensorFlow.js backend (weights are uploaded to it, so the
   * caller activates the right backend first). Throws {@link UnsupportedOpError} for any op it
   * cannot run, before uploading anything.
   */
  static compile(model: OnnxModel): CompiledGraph {
    const { graph } = model;
    CompiledGraph.check(model);
    const opset = model.opsets.get('') ?? 0;
    if (graph.outputs.length === 0) throw new ModelError('The model graph has no outputs');

    // Plan nodes are copies: rewrites edit them, the parsed model stays as read.
    let nodes: PlanNode[] = graph.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: new Map(n.attributes) }));
    const graphOutputs = new Set(graph.outputs.map((o) => o.name));
    const known = new Set([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
    for (const node of nodes) {
      for (const name of node.inputs) {
        if (name !== '' && !known.has(name)) {
          throw new ModelError(`Node "${label(node)}" reads "${name}", which no earlier node or input produces`);
        }
      }
      node.outputs.forEach((name) => known.add(name));
    }
    for (const name of graphOutputs) {
      if (!known.has(name)) throw new ModelError(`The graph output "${name}" is produced by no node`);
    }

    // Drop nodes no output depends on.
    const needed = new Set<string>(graphOutputs);
    const live = new Set<PlanNode>();
    for (const node of [...nodes].reverse()) {
      if (!node.outputs.some((name) => needed.has(name))) continue;
      live.add(node);
      node.inputs.forEach((name) => needed.add(name));
    }
    nodes = nodes.filter((node) => live.has(node));

    const sessionTensors: tf.Tensor[] = [];
    try {
      // Fold nodes whose inputs are all constants (Constant nodes, shape math on initializers).
      const constants = new Map<string, HostTensor>(graph.initializers);
      const graphInputs = new Set(graph.inputs.map((i) => i.name));
      nodes = nodes.filter((node) => {
        const foldable = node.inputs.every((name) => name === '' || (constants.has(name) && !graphInputs.has(name)));
        if (!foldable) return true;
        const inputs = node.inputs.map((name) => (name === '' ? undefined : hostValue(constants.get(name)!)));
        const results = executeNode(node, inputs, opset);
        results.forEach((value, i) => {
          const name = node.outputs[i];
          if (value.kind === 'host') {
            if (name) constants.set(name, value.host);
          } else {
            if (name) constants.set(name, download(value));
            disposeValue(value);
          }
        });
        return false;
      });

      nodes = rewriteGraph(nodes, {
        graphOutputs,
        isConstant: (name) => constants.has(name),
        convOutputChannels: (node) => constants.get(node.inputs[1]!)?.dims[0],
        splitConcatConvs: avoidChannelConcat(),
      });

      // Conv filters in TensorFlow.js layout, once per session.
      for (const node of nodes) {
        if (node.opType !== 'Conv' && !node.overConcat) continue;
        const weight = constants.get(node.overConcat?.weight ?? node.inputs[1]!);
        const biasName = node.overConcat ? node.overConcat.bias : node.inputs[2];
        const bias = biasName ? constants.get(biasName) : undefined;
        if (!weight || (biasName && !bias)) continue;
        const group = attrInt(node, 'group', 1);
        const inChannels = (weight.dims[1] ?? 1) * group;
        const w = upload(weight);
        const b = bias && upload(bias);
        let prepared: ConvWeights;
        try {
          prepared = buildConvWeights(w, b, group, inChannels, node.outputChannelOrder, node.overConcat?.channels);
        } finally {
          w.dispose();
          b?.dispose();
        }
        node.convWeights = prepared;
        sessionTensors.push(...prepared.filters, ...(prepared.biases ?? []));
      }

      // Upload the constants some op reads as a tensor; shape/axes inputs stay on the host.
      const deviceUse = new Set<string>();
      for (const node of nodes) {
        const op = findOp(node.opType, node.domain)!;
        node.inputs.forEach((name, slot) => {
          if (name === '' || !constants.has(name) || op.hostInputs?.includes(slot)) return;
          if (node.opType === 'Conv' && node.convWeights && (slot === 1 || slot === 2)) return;
          deviceUse.add(name);
        });
      }
      const constantValues = new Map<string, HostValue>();
      for (const [name, host] of constants) {
        if (graphInputs.has(name)) continue;
        if (deviceUse.has(name) && sizeOf(host.dims) > 0) {
          const uploaded = upload(host);
          sessionTensors.push(uploaded);
          constantValues.set(name, hostValue(host, uploaded));
        } else {
          constantValues.set(name, hostValue(host));
        }
      }

      const lastReader = new Map<string, number>();
      nodes.forEach((node, k) => node.inputs.forEach((name) => lastReader.set(name, k)));
      const releaseAfter = nodes.map(() => [] as string[]);
      for (const [name, k] of lastReader) {
        if (name !== '' && !constantValues.has(name) && !graphOutputs.has(name)) releaseAfter[k]!.push(name);
      }
      const unread = new Set(nodes.flatMap((n) => n.outputs).filter((name) => !lastReader.has(name) && !graphOutputs.has(name)));
      return new CompiledGraph(nodes, opset, constantValues, releaseAfter, graph.inputs, graph.outputs, sessionTensors, unread);
    } catch (err) {
      sessionTensors.forEach((t) => t.dispose());
      throw err;
    }
  }

  /**
   * Runs the graph. Synchronous up to the final read-back, so nothing else can switch the
   * TensorFlow.js backend mid-run; every intermediate is freed before this resolves.
   */
  async run(
    feeds: Readonly<Record<string, TensorData>>,
    /** Called after each node with its wall time (profiling; device work is synchronous). */
    onNode?: (node: PlanNode, milliseconds: number) => void,
  ): Promise<Record<string, TensorData>> {
    if (this.disposed) throw new ModelError('The graph was disposed');
    const values = new Map<string, RuntimeValue>();
    const release = (name: string) => {
      const v = values.get(name);
      if (v) disposeValue(v);
      values.delete(name);
    };
    try {
      for (const info of this.inputs) {
        const feed = feeds[info.name];
        if (!feed) throw new InvalidOptionError(`Missing the graph input "${info.name}"`);
        values.set(info.name, deviceValue(this.inputTensor(info, feed)));
      }
      this.nodes.forEach((node, k) => {
        const inputs = node.inputs.map((name) => (name === '' ? undefined : values.get(name) ?? this.constants.get(name)));
        const started = onNode ? performance.now() : 0;
        const results = executeNode(node, inputs, this.opset);
        if (onNode) onNode(node, performance.now() - started);
        node.outputs.forEach((name, i) => {
          const value = results[i];
          if (!name || !value) {
            if (value) disposeValue(value);
            return;
          }
          values.set(name, value);
          if (this.unread.has(name)) release(name);
        });
        for (const name of this.releaseAfter[k]!) release(name);
      });
      const result: Record<string, TensorData> = {};
      for (const info of this.outputs) {
        const value = values.get(info.name) ?? this.constants.get(info.name);
        if (!value) throw new ModelError(`The graph output "${info.name}" was not produced`);
        result[info.name] = await readValue(value);
      }
      return result;
    } finally {
      for (const name of [...values.keys()]) release(name);
    }
  }

  private inputTensor(info: OnnxValueInfo, feed: TensorData): tf.Tensor {
    const expected = info.dims;
    if (expected && (expected.length !== feed.dims.length || expected.some((d, i) => typeof d === 'number' && d > 0 && d !== feed.dims[i]))) {
      throw new InvalidOptionError(
        `The graph input "${info.name}" needs dims [${expected.map((d) => d ?? '?').join(', ')}] but got [${feed.dims.join(', ')}]`,
      );
    }
    if (feed.data.length !== sizeOf(feed.dims)) {
      throw new InvalidOptionError(`The graph input "${info.name}" has ${feed.data.length} values but dims [${feed.dims.join(', ')}]`);
    }
    const declared = hostDTypeOf(info.elemType);
    const dtype = declared === 'int' ? 'int32' : declared ?? feed.dtype;
    return tf.tensor(feed.data, [...feed.dims], dtype);
  }

  /** Frees the weights. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sessionTensors.forEach((t) => t.dispose());
  }
}

async function readValue(value: RuntimeValue): Promise<TensorData> {
  if (value.kind === 'host') {
    const { host } = value;
    const dims = [...host.dims];
    if (host.dtype === 'float32') return { dtype: 'float32', dims, data: Float32Array.from(host.data) };
    if (host.dtype === 'bool') return { dtype: 'bool', dims, data: Uint8Array.from(host.data) };
    return { dtype: 'int32', dims, data: Int32Array.from(host.data) };
  }
  const logical = inLayout(value, identityPerm(value.perm.length));
  const data = await logical.data();
  const dims = [...logical.shape];
  if (logical.dtype === 'int32') return { dtype: 'int32', dims, data: data as Int32Array };
  if (logical.dtype === 'bool') return { dtype: 'bool', dims, data: data as Uint8Array };
  return { dtype: 'float32', dims, data: data as Float32Array };
}
