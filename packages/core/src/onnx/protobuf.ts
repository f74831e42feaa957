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
  /** Varints as signed int64, fixed32 as float, fixed64 as double (all JS numbers). */
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

  /**
   * Reads one base-128 varint as a signed 64-bit integer (ONNX stores `axis = -1` and `ends = -1`
   * as sign-extended 10-byte varints). Exact up to +-2^53; beyond that it loses precision, which
   * only affects ONNX's "to the end" sentinels. Also the element type of packed repeated fields.
   */
  varint(): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    // Up to 7 bytes (49 bits) accumulate exactly in a double.
    for (let n = 0; n < 7; n++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    // Longer: a negative number or a huge value. Redo it exactly with BigInt.
    this.pos = start;
    let big = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 63n) throw new ModelError('Malformed protobuf varint in ONNX model');
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    return Number(BigInt.asIntN(64, big));
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new ModelError('Truncated protobuf varint in ONNX model');
    return this.buf[this.pos++]!;
  }

  next(): ProtoField {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    switch (wireType) {
      case WireType.Varint:
        return { field, wireType, value: this.varint(), bytes: EMPTY };
      case WireType.Fixed64: {
        if (this.pos + 8 > this.buf.length) throw new ModelError('Truncated protobuf field in ONNX model');
        const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
        this.pos += 8;
        return { field, wireType, value: view.getFloat64(0, true), bytes: this.buf.subarray(this.pos - 8, this.pos) };
      }
      case WireType.Bytes: {
        const len = this.varint();
        if (len < 0 || this.pos + len > this.buf.length) throw new ModelError('Truncated protobuf field in ONNX model');
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return { field, wireType, value: len, bytes };
      }
      case WireType.Fixed32: {
        if (this.pos + 4 > this.buf.length) throw new ModelError('Truncated protobuf field in ONNX model');
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
