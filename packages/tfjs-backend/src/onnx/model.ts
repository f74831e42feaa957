/**
 * ONNX model reader: ModelProto -> GraphProto -> nodes, initializers, attributes, inputs/outputs.
 *
 * Messages are walked with `ProtoReader` from `@sgenet/core/onnx`, which decodes varints as exact
 * signed int64 (ONNX stores `axis = -1` and `ends = -1` as sign-extended varints).
 */
import { ModelError } from '@sgenet/core';
import { ProtoReader, WireType, decodePackedVarints, decodeString } from '@sgenet/core/onnx';

import type { HostTensor } from '../runtime/host-tensor.js';
import { decodeTensorProto } from './tensor-proto.js';

/** One attribute value, tagged with its kind. */
export type OnnxAttribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: HostTensor }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: HostTensor[] }
  /** Sub-graphs, sparse tensors, type protos: read but not interpretable by this backend. */
  | { kind: 'unsupported'; type: number };

export interface OnnxNode {
  name: string;
  opType: string;
  /** `''` for the default ONNX domain. */
  domain: string;
  /** Input value names; `''` marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType of the element, 0 when not declared. */
  elemType: number;
  /** Declared dims: a number, a symbolic name, or undefined when unknown. */
  dims: Array<number | string | undefined> | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, HostTensor>;
  /** Graph inputs, initializers excluded (older exporters list initializers as inputs too). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  /** Operator set version per domain (`''` is the default ONNX domain). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
  metadata: Record<string, string>;
}

/** ModelProto, GraphProto, NodeProto, ... field numbers (onnx.proto). */
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8, metadataProps: 14 } as const;
const OPSET = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, sparseInitializer: 15 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { value: 1, param: 2 } as const;
const ATTRIBUTE = {
  name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, floats: 7, ints: 8, strings: 9, tensors: 10, graphs: 11,
  type: 20, sparseTensor: 22,
} as const;

/** AttributeProto.AttributeType. */
const ATTRIBUTE_TYPE = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
  SPARSE_TENSOR: 11,
} as const;

function readFloats(bytes: Uint8Array, wireType: number, value: number): number[] {
  if (wireType === WireType.Fixed32) return [value];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let o = 0; o + 4 <= bytes.byteLength; o += 4) out.push(view.getFloat32(o, true));
  return out;
}

function parseAttribute(bytes: Uint8Array): [string, OnnxAttribute] {
  let name = '';
  let declared = 0;
  let f: number | undefined;
  let i: number | undefined;
  let s: Uint8Array | undefined;
  let t: HostTensor | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: HostTensor[] = [];
  let other = 0;
  for (const field of new ProtoReader(bytes).fields()) {
    switch (field.field) {
      case ATTRIBUTE.name: name = decodeString(field.bytes); break;
      case ATTRIBUTE.type: declared = field.value; break;
      case ATTRIBUTE.f: f = field.value; break;
      case ATTRIBUTE.i: i = field.value; break;
      case ATTRIBUTE.s: s = field.bytes; break;
      case ATTRIBUTE.t: t = decodeTensorProto(field.bytes).tensor; break;
      case ATTRIBUTE.floats: floats.push(...readFloats(field.bytes, field.wireType, field.value)); break;
      case ATTRIBUTE.ints: ints.push(...decodePackedVarints(field)); break;
      case ATTRIBUTE.strings: strings.push(decodeString(field.bytes)); break;
      case ATTRIBUTE.tensors: tensors.push(decodeTensorProto(field.bytes).tensor); break;
      case ATTRIBUTE.g: other = ATTRIBUTE_TYPE.GRAPH; break;
      case ATTRIBUTE.graphs: other = ATTRIBUTE_TYPE.GRAPHS; break;
      case ATTRIBUTE.sparseTensor: other = ATTRIBUTE_TYPE.SPARSE_TENSOR; break;
      default: break;
    }
  }
  // `type` is required since IR version 3; infer it from the populated field for older files.
  const type = declared || (
    f !== undefined ? ATTRIBUTE_TYPE.FLOAT : i !== undefined ? ATTRIBUTE_TYPE.INT : s !== undefined ? ATTRIBUTE_TYPE.STRING
      : t !== undefined ? ATTRIBUTE_TYPE.TENSOR : floats.length ? ATTRIBUTE_TYPE.FLOATS : ints.length ? ATTRIBUTE_TYPE.INTS
        : strings.length ? ATTRIBUTE_TYPE.STRINGS : tensors.length ? ATTRIBUTE_TYPE.TENSORS : other);
  switch (type) {
    case ATTRIBUTE_TYPE.FLOAT: return [name, { kind: 'float', value: f ?? 0 }];
    case ATTRIBUTE_TYPE.INT: return [name, { kind: 'int', value: i ?? 0 }];
    case ATTRIBUTE_TYPE.STRING: return [name, { kind: 'string', value: s ? decodeString(s) : '' }];
    case ATTRIBUTE_TYPE.TENSOR:
      if (!t) throw new ModelError(`Attribute "${name}" is declared as a tensor but holds none`);
      return [name, { kind: 'tensor', value: t }];
    case ATTRIBUTE_TYPE.FLOATS: return [name, { kind: 'floats', value: floats }];
    case ATTRIBUTE_TYPE.INTS: return [name, { kind: 'ints', value: ints }];
    case ATTRIBUTE_TYPE.STRINGS: return [name, { kind: 'strings', value: strings }];
    case ATTRIBUTE_TYPE.TENSORS: return [name, { kind: 'tensors', value: tensors }];
    default: return [name, { kind: 'unsupported', type }];
  }
}

function parseNode(bytes: Uint8Array): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case NODE.input: node.inputs.push(decodeString(f.bytes)); break;
      case NODE.output: node.outputs.push(decodeString(f.bytes)); break;
      case NODE.name: node.name = decodeString(f.bytes); break;
      case NODE.opType: node.opType = decodeString(f.bytes); break;
      case NODE.domain: node.domain = decodeString(f.bytes); break;
      case NODE.attribute: {
        const [name, attribute] = parseAttribute(f.bytes);
        node.attributes.set(name, attribute);
        break;
      }
      default: break;
    }
  }
  if (!node.opType) throw new ModelError(`ONNX node "${node.name}" has no op_type`);
  return node;
}

function parseShape(bytes: Uint8Array): Array<number | string | undefined> {
  const dims: Array<number | string | undefined> = [];
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field !== SHAPE.dim) continue;
    let dim: number | string | undefined;
    for (const d of new ProtoReader(f.bytes).fields()) {
      if (d.field === DIMENSION.value) dim = d.value;
      else if (d.field === DIMENSION.param) dim = decodeString(d.bytes);
    }
    dims.push(dim);
  }
  return dims;
}

function parseValueInfo(bytes: Uint8Array): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, dims: undefined };
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === VALUE_INFO.name) info.name = decodeString(f.bytes);
    else if (f.field === VALUE_INFO.type) {
      for (const t of new ProtoReader(f.bytes).fields()) {
        if (t.field !== TYPE.tensorType) continue;
        for (const tt of new ProtoReader(t.bytes).fields()) {
          if (tt.field === TENSOR_TYPE.elemType) info.elemType = tt.value;
          else if (tt.field === TENSOR_TYPE.shape) info.dims = parseShape(tt.bytes);
        }
      }
    }
  }
  return info;
}

function parseGraph(bytes: Uint8Array): OnnxGraph {
  const graph: OnnxGraph = { name: '', nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  const declaredInputs: OnnxValueInfo[] = [];
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case GRAPH.node: graph.nodes.push(parseNode(f.bytes)); break;
      case GRAPH.name: graph.name = decodeString(f.bytes); break;
      case GRAPH.initializer: {
        const { name, tensor } = decodeTensorProto(f.bytes);
        graph.initializers.set(name, tensor);
        break;
      }
      case GRAPH.sparseInitializer:
        throw new ModelError('The model has sparse initializers, which this backend does not support');
      case GRAPH.input: declaredInputs.push(parseValueInfo(f.bytes)); break;
      case GRAPH.output: graph.outputs.push(parseValueInfo(f.bytes)); break;
      default: break;
    }
  }
  graph.inputs = declaredInputs.filter((i) => !graph.initializers.has(i.name));
  return graph;
}

/** Parses the bytes of an ONNX model. Throws a ModelError when they are not one. */
export function parseOnnxModel(bytes: Uint8Array): OnnxModel {
  let irVersion = 0;
  let producer = '';
  let graph: OnnxGraph | undefined;
  const opsets = new Map<string, number>();
  const metadata: Record<string, string> = {};
  try {
    for (const f of new ProtoReader(bytes).fields()) {
      switch (f.field) {
        case MODEL.irVersion: irVersion = f.value; break;
        case MODEL.producerName: producer = decodeString(f.bytes); break;
        case MODEL.graph: graph = parseGraph(f.bytes); break;
        case MODEL.opsetImport: {
          let domain = '';
          let version = 0;
          for (const o of new ProtoReader(f.bytes).fields()) {
            if (o.field === OPSET.domain) domain = decodeString(o.bytes);
            else if (o.field === OPSET.version) version = o.value;
          }
          opsets.set(domain === 'ai.onnx' ? '' : domain, version);
          break;
        }
        case MODEL.metadataProps: {
          let key = '';
          let value = '';
          for (const e of new ProtoReader(f.bytes).fields()) {
            if (e.field === 1) key = decodeString(e.bytes);
            else if (e.field === 2) value = decodeString(e.bytes);
          }
          metadata[key] = value;
          break;
        }
        default: break;
      }
    }
  } catch (err) {
    if (err instanceof ModelError) throw err;
    throw new ModelError(`The model is not a valid ONNX file: ${(err as Error).message}`, { cause: err });
  }
  if (!graph || irVersion === 0) {
    throw new ModelError('The model is not a valid ONNX file (no ir_version or graph found)');
  }
  return { irVersion, producer, opsets, graph, metadata };
}
