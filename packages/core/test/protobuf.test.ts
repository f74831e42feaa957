import { describe, expect, it } from 'vitest';

import { decodePackedVarints, ProtoReader, WireType } from '../src/onnx/index.js';

/** Encodes a signed int64 as protobuf does (two's complement, 10 bytes when negative). */
function varint(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const b = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u ? b | 0x80 : b);
  } while (u);
  return out;
}

describe('ProtoReader', () => {
  it('decodes varints exactly, including negative int64', () => {
    for (const v of [0n, 1n, 127n, 128n, 300n, 2n ** 40n, 2n ** 53n - 1n, -1n, -2n, -129n, -(2n ** 40n)]) {
      const r = new ProtoReader(new Uint8Array(varint(v)));
      expect(r.varint()).toBe(Number(v));
      expect(r.done).toBe(true);
    }
  });

  it('reads fields and packed lists', () => {
    // field 1 varint -1; field 2 packed [3, -2, 400]
    const packed = [...varint(3n), ...varint(-2n), ...varint(400n)];
    const bytes = new Uint8Array([0x08, ...varint(-1n), 0x12, packed.length, ...packed]);
    const fields = [...new ProtoReader(bytes).fields()];
    expect(fields[0]).toMatchObject({ field: 1, wireType: WireType.Varint, value: -1 });
    expect(decodePackedVarints(fields[1]!)).toEqual([3, -2, 400]);
  });

  it('rejects truncated input with a typed error', () => {
    expect(() => new ProtoReader(new Uint8Array([0x08, 0x80])).next()).toThrow(/Truncated/);
    expect(() => new ProtoReader(new Uint8Array([0x12, 0x05, 1])).next()).toThrow(/Truncated/);
  });
});
