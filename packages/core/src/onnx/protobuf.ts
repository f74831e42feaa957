/**
 * A minimal protocol-buffers wire-format reader: enough to walk an ONNX ModelProto without a
 * schema compiler or a native dependency. Fields are yielded in file order; nested messages are
 * returned as byte views (no copy) to be read with another {@link ProtoReader}.
 */
import { ModelError } from '../errors.js';

export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const;

export interface ProtoField {
  field: number;
  wireType: number;
  /** Varint / fixed values (as a JS number; int64 beyond 2^53 loses precision). */
  value: number;
  /** Length-delimited payload (wire type 2). */
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8');

export class ProtoReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads one base-128 varint (also the element type of packed repeated fields). */
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ModelError('Truncated protobuf varint in ONNX model');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new ModelError('Malformed protobuf varint in ONNX model');
    }
  }

  next(): ProtoField {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    switch (wireType) {
      case WireType.Varint:
        return { field, wireType, value: this.varint(), bytes: EMPTY };
      case WireType.Fixed64: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        this.pos += 8;
        return { field, wireType, value: view.getFloat64(0, true), bytes: this.buf.subarray(this.pos - 8, this.pos) };
      }
      case WireType.Bytes: {
        const len = this.varint();
        if (this.pos + len > this.buf.length) throw new ModelError('Truncated protobuf field in ONNX model');
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return { field, wireType, value: len, bytes };
      }
      case WireType.Fixed32: {
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
        this.pos += 4;
        return { field, wireType, value: view.getFloat32(0, true), bytes: this.buf.subarray(this.pos - 4, this.pos) };
      }
      default:
        throw new ModelError(`Unsupported protobuf wire type ${wireType}: the file is not an ONNX model`);
    }
  }

  /** Iterates all remaining fields. */
  *fields(): Generator<ProtoField> {
    while (!this.done) yield this.next();
  }
}

export function decodeString(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Reads a packed repeated varint field (or a single unpacked value). */
export function decodePackedVarints(f: ProtoField): number[] {
  if (f.wireType === WireType.Varint) return [f.value];
  const r = new ProtoReader(f.bytes);
  const out: number[] = [];
  while (!r.done) out.push(r.varint());
  return out;
}
