/**
 * A tiny ONNX *encoder* for tests: builds ModelProto bytes for small graphs (usually one node),
 * so each op can be checked against ONNX Runtime without Python or fixture files.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** int64 of a JS number; 2^63 (what 9223372036854775807 rounds to) saturates to INT64_MAX. */
function int64(value: number | bigint): bigint {
  const v = BigInt(value);
  const max = 2n ** 63n - 1n;
  return v > max ? max : v < -max - 1n ? -max - 1n : v;
}

/** Protocol-buffers wire writer. */
class ProtoWriter {
  private readonly bytes: number[] = [];

  private rawVarint(value: bigint): void {
    // Negative int64: two's complement over 64 bits, i.e. a 10-byte varint.
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  private key(field: number, wireType: number): void {
    this.rawVarint(BigInt(field * 8 + wireType));
  }

  varint(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.rawVarint(int64(value));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, value, true);
    this.bytes.push(...new Uint8Array(view.buffer));
    return this;
  }

  double(field: number, value: number): this {
    this.key(field, WIRE_FIXED64);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, true);
    this.bytes.push(...new Uint8Array(view.buffer));
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.rawVarint(BigInt(data.length));
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, writer: ProtoWriter): this {
    return this.bytesField(field, writer.finish());
  }

  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(int64(v));
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export type ElementType = 'float32' | 'int64' | 'int32' | 'bool';

const ONNX_TYPE: Record<ElementType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

export interface TensorSpec {
  name?: string;
  dtype: ElementType;
  dims: readonly number[];
  values: ArrayLike<number>;
  /** `raw` (raw_data, what exporters write) or `typed` (float_data / int64_data fields). */
  encoding?: 'raw' | 'typed';
}

export type AttributeSpec =
  | { int: number }
  | { float: number }
  | { ints: readonly number[]; packed?: boolean }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: TensorSpec };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Record<string, AttributeSpec>;
  name?: string;
  domain?: string;
}

export interface ValueSpec {
  name: string;
  dtype?: ElementType;
  /** Omitted: unknown shape (fine for outputs). Strings are symbolic dims. */
  dims?: ReadonlyArray<number | string>;
}

export interface ModelSpec {
  nodes: readonly NodeSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers?: readonly TensorSpec[];
  /** Default-domain opset. Default 17 (what training/export.py uses). */
  opset?: number;
}

function encodeTensor(spec: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of spec.dims) w.varint(1, d);
  w.varint(2, ONNX_TYPE[spec.dtype]);
  if (spec.name) w.string(8, spec.name);
  const values = Array.from(spec.values);
  if ((spec.encoding ?? 'raw') === 'raw') {
    const bytesPer = spec.dtype === 'int64' ? 8 : spec.dtype === 'bool' ? 1 : 4;
    const view = new DataView(new ArrayBuffer(values.length * bytesPer));
    values.forEach((v, i) => {
      if (spec.dtype === 'float32') view.setFloat32(i * 4, v, true);
      else if (spec.dtype === 'int32') view.setInt32(i * 4, v, true);
      else if (spec.dtype === 'int64') view.setBigInt64(i * 8, int64(v), true);
      else view.setUint8(i, v ? 1 : 0);
    });
    w.bytesField(9, new Uint8Array(view.buffer));
  } else if (spec.dtype === 'float32') {
    const view = new DataView(new ArrayBuffer(values.length * 4));
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    w.bytesField(4, new Uint8Array(view.buffer));
  } else if (spec.dtype === 'int64') {
    w.packedVarints(7, values);
  } else {
    w.packedVarints(5, values);
  }
  return w;
}

function encodeAttribute(name: string, spec: AttributeSpec): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('int' in spec) w.varint(20, 2).varint(3, spec.int);
  else if ('float' in spec) w.varint(20, 1).float(2, spec.float);
  else if ('ints' in spec) {
    w.varint(20, 7);
    if (spec.packed) w.packedVarints(8, spec.ints);
    else for (const v of spec.ints) w.varint(8, v);
  } else if ('floats' in spec) {
    w.varint(20, 6);
    for (const v of spec.floats) w.float(7, v);
  } else if ('string' in spec) w.varint(20, 3).string(4, spec.string);
  else w.varint(20, 4).message(5, encodeTensor(spec.tensor));
  return w;
}

function encodeValueInfo(spec: ValueSpec): ProtoWriter {
  const tensorType = new ProtoWriter().varint(1, ONNX_TYPE[spec.dtype ?? 'float32']);
  if (spec.dims) {
    const shape = new ProtoWriter();
    for (const d of spec.dims) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.varint(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, spec.name).message(2, new ProtoWriter().message(1, tensorType));
}

/** Encodes a ModelProto. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const graph = new ProtoWriter();
  spec.nodes.forEach((node, i) => {
    const n = new ProtoWriter();
    for (const input of node.inputs) n.string(1, input);
    for (const output of node.outputs) n.string(2, output);
    n.string(3, node.name ?? `${node.op.toLowerCase()}_${i}`);
    n.string(4, node.op);
    for (const [name, attr] of Object.entries(node.attrs ?? {})) n.message(5, encodeAttribute(name, attr));
    if (node.domain) n.string(7, node.domain);
    graph.message(1, n);
  });
  graph.string(2, 'test');
  for (const init of spec.initializers ?? []) graph.message(5, encodeTensor(init));
  for (const input of spec.inputs) graph.message(11, encodeValueInfo(input));
  for (const output of spec.outputs) graph.message(12, encodeValueInfo(output));
  const model = new ProtoWriter()
    .varint(1, 8)
    .string(2, 'sgenet-tests')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').varint(2, spec.opset ?? 17));
  return model.finish();
}

/** One-node model: inputs `x0`, `x1`, ... (float unless typed), initializers as given, outputs `y0`... */
export function oneNodeModel(options: {
  op: string;
  inputs: ReadonlyArray<ValueSpec & { dims: readonly number[] }>;
  initializers?: readonly TensorSpec[];
  /** Input names of the node, in slot order ('' for an omitted optional input). */
  nodeInputs?: readonly string[];
  outputs?: readonly ValueSpec[];
  attrs?: Record<string, AttributeSpec>;
  opset?: number;
}): Uint8Array {
  const outputs = options.outputs ?? [{ name: 'y0' }];
  return encodeModel({
    nodes: [{
      op: options.op,
      inputs: options.nodeInputs ?? [...options.inputs.map((i) => i.name), ...(options.initializers ?? []).map((t) => t.name!)],
      outputs: outputs.map((o) => o.name),
      ...(options.attrs ? { attrs: options.attrs } : {}),
    }],
    inputs: options.inputs,
    outputs,
    ...(options.initializers ? { initializers: options.initializers } : {}),
    ...(options.opset ? { opset: options.opset } : {}),
  });
}
