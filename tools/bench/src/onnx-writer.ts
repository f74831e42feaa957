/**
 * A minimal protocol-buffers writer and an ONNX builder for one-node models: enough to make the
 * single large Conv that measures the machine's practical convolution throughput, without a
 * Python round trip or a schema compiler. Field numbers follow onnx.proto (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 */
import { endianness } from 'node:os';

const utf8 = new TextEncoder();

/** Appends protobuf fields to a growing buffer. Only what ONNX needs: varints and bytes. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`ProtoWriter: varint must be a non-negative safe integer, got ${value}`);
    }
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wireType: 0 | 2): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** An int32/int64/enum field (wire type 0). */
  varint(field: number, value: number): this {
    this.key(field, 0);
    this.rawVarint(value);
    return this;
  }

  /** A repeated int64 field, written unpacked (the proto2 default ONNX uses). */
  varints(field: number, values: readonly number[]): this {
    for (const v of values) this.varint(field, v);
    return this;
  }

  /** A bytes field (wire type 2). */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.rawVarint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** onnx.TensorProto.DataType.FLOAT */
const ONNX_FLOAT = 1;
/** onnx.AttributeProto.AttributeType */
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type OnnxAttribute = { name: string; int: number } | { name: string; ints: readonly number[] };

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

export interface OnnxValueInfo {
  name: string;
  /** Numbers are fixed sizes; strings are symbolic (dynamic) dimensions. */
  shape: readonly (number | string)[];
}

export interface OnnxSingleNodeModel {
  opType: string;
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers: readonly OnnxInitializer[];
  /** Node input names in order (graph inputs and initializers). */
  nodeInputs: readonly string[];
  attributes: readonly OnnxAttribute[];
  opset?: number;
  metadata?: Readonly<Record<string, string>>;
}

function valueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, ONNX_FLOAT).message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
        }
      }),
    ),
  );
}

/** Encodes a float32 model made of one node, e.g. a Conv with its weights as initializers. */
export function encodeSingleNodeModel(spec: OnnxSingleNodeModel): Uint8Array {
  if (endianness() !== 'LE') throw new Error('encodeSingleNodeModel: raw_data is little-endian; big-endian hosts are unsupported');
  const model = new ProtoWriter();
  model.varint(1, 8); // ir_version 8 (ONNX 1.10+), enough for opset 17
  model.string(2, '@sgenet/bench');
  model.message(8, (opset) => opset.string(1, '').varint(2, spec.opset ?? 17));
  model.message(7, (graph) => {
    graph.message(1, (node) => {
      for (const name of spec.nodeInputs) node.string(1, name);
      for (const out of spec.outputs) node.string(2, out.name);
      node.string(3, `${spec.opType.toLowerCase()}0`).string(4, spec.opType);
      for (const a of spec.attributes) {
        node.message(5, (attr) => {
          attr.string(1, a.name);
          if ('int' in a) attr.varint(3, a.int).varint(20, ATTR_INT);
          else attr.varints(8, a.ints).varint(20, ATTR_INTS);
        });
      }
    });
    graph.string(2, `${spec.opType.toLowerCase()}-graph`);
    for (const init of spec.initializers) {
      graph.message(5, (t) => {
        t.varints(1, init.dims).varint(2, ONNX_FLOAT).string(8, init.name);
        t.bytes(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
      });
    }
    for (const input of spec.inputs) graph.message(11, (v) => valueInfo(v, input));
    for (const output of spec.outputs) graph.message(12, (v) => valueInfo(v, output));
  });
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    model.message(14, (p) => p.string(1, key).string(2, value));
  }
  return model.finish();
}

export interface ConvModelOptions {
  inChannels: number;
  outChannels: number;
  /** Square kernel side (3 for a 3x3 conv); "same" padding. */
  kernel: number;
  height: number;
  width: number;
  /** Fixed shapes let ORT plan memory once; `false` makes H and W symbolic. */
  staticShape?: boolean;
  seed?: number;
}

export interface ConvModel {
  bytes: Uint8Array;
  weights: Float32Array;
  bias: Float32Array;
  /** Floating-point operations of one run: 2 per multiply-accumulate (bias adds not counted). */
  flops: number;
}

/** Deterministic small weights, so outputs stay in a normal float range (no denormals/overflow). */
function fill(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** A one-node Conv model `x [1, Cin, H, W] -> y [1, Cout, H, W]`, k x k kernel, same padding. */
export function buildConvModel(o: ConvModelOptions): ConvModel {
  const { inChannels: ci, outChannels: co, kernel: k } = o;
  if (k % 2 !== 1) throw new RangeError('buildConvModel: kernel side must be odd for same padding');
  const pad = (k - 1) / 2;
  const weights = fill(co * ci * k * k, o.seed ?? 1, 1 / Math.sqrt(ci * k * k));
  const bias = fill(co, (o.seed ?? 1) + 1, 0.1);
  const dynamic = o.staticShape === false;
  const h: number | string = dynamic ? 'H' : o.height;
  const w: number | string = dynamic ? 'W' : o.width;
  const bytes = encodeSingleNodeModel({
    opType: 'Conv',
    inputs: [{ name: 'x', shape: [1, ci, h, w] }],
    outputs: [{ name: 'y', shape: [1, co, h, w] }],
    initializers: [
      { name: 'w', dims: [co, ci, k, k], data: weights },
      { name: 'b', dims: [co], data: bias },
    ],
    nodeInputs: ['x', 'w', 'b'],
    attributes: [
      { name: 'kernel_shape', ints: [k, k] },
      { name: 'pads', ints: [pad, pad, pad, pad] },
      { name: 'group', int: 1 },
    ],
    metadata: { purpose: 'conv throughput ceiling (tools/bench)' },
  });
  return { bytes, weights, bias, flops: 2 * ci * co * k * k * o.height * o.width };
}
