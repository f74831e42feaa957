/** Decoding of ONNX TensorProto messages (initializers, Constant values) into host tensors. */
import { ModelError } from '@sgenet/core';
import { ProtoReader, WireType, decodePackedVarints } from '@sgenet/core/onnx';

import { hostTensor, sizeOf } from '../runtime/host-tensor.js';
import type { HostDType, HostTensor } from '../runtime/host-tensor.js';
import { decodeString } from '@sgenet/core/onnx';

/** TensorProto.DataType values (onnx.proto). */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** TensorProto field numbers. */
const TENSOR = {
  dims: 1,
  dataType: 2,
  floatData: 4,
  int32Data: 5,
  stringData: 6,
  int64Data: 7,
  name: 8,
  rawData: 9,
  doubleData: 10,
  uint64Data: 11,
  externalData: 13,
  dataLocation: 14,
} as const;

const DATA_LOCATION_EXTERNAL = 1;

/** The host dtype an ONNX element type is computed in, or undefined when unsupported. */
export function hostDTypeOf(onnxType: number): HostDType | undefined {
  switch (onnxType) {
    case OnnxDataType.FLOAT:
    case OnnxDataType.FLOAT16:
    case OnnxDataType.DOUBLE:
    case OnnxDataType.BFLOAT16:
      return 'float32';
    case OnnxDataType.UINT8:
    case OnnxDataType.INT8:
    case OnnxDataType.UINT16:
    case OnnxDataType.INT16:
    case OnnxDataType.INT32:
    case OnnxDataType.INT64:
    case OnnxDataType.UINT32:
    case OnnxDataType.UINT64:
      return 'int';
    case OnnxDataType.BOOL:
      return 'bool';
    default:
      return undefined;
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bfloat16ToFloat(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16, true);
  return view.getFloat32(0, true);
}

/** Reads little-endian `raw_data` of `count` elements of `onnxType` as numbers. */
function decodeRaw(raw: Uint8Array, onnxType: number, count: number, name: string): ArrayLike<number> {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const need = (bytesPer: number) => {
    if (raw.byteLength !== count * bytesPer) {
      throw new ModelError(
        `Tensor "${name}" has ${raw.byteLength} bytes of raw_data but its shape needs ${count * bytesPer}`,
      );
    }
  };
  switch (onnxType) {
    case OnnxDataType.FLOAT: {
      need(4);
      // One aligned copy: the bytes sit inside the model file at any offset. (Not raw.slice():
      // on a Node Buffer that is a view of the whole pool, not a copy.)
      if (littleEndian) return new Float32Array(new Uint8Array(raw).buffer);
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    }
    case OnnxDataType.DOUBLE:
      need(8);
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    case OnnxDataType.FLOAT16:
      need(2);
      return Float32Array.from({ length: count }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case OnnxDataType.BFLOAT16:
      need(2);
      return Float32Array.from({ length: count }, (_, i) => bfloat16ToFloat(view.getUint16(i * 2, true)));
    case OnnxDataType.INT64:
      need(8);
      return Float64Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    case OnnxDataType.UINT64:
      need(8);
      return Float64Array.from({ length: count }, (_, i) => Number(view.getBigUint64(i * 8, true)));
    case OnnxDataType.INT32:
      need(4);
      return Float64Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
    case OnnxDataType.UINT32:
      need(4);
      return Float64Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true));
    case OnnxDataType.INT16:
      need(2);
      return Float64Array.from({ length: count }, (_, i) => view.getInt16(i * 2, true));
    case OnnxDataType.UINT16:
      need(2);
      return Float64Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true));
    case OnnxDataType.INT8:
      need(1);
      return Float64Array.from({ length: count }, (_, i) => view.getInt8(i));
    case OnnxDataType.UINT8:
    case OnnxDataType.BOOL:
      need(1);
      return raw;
    default:
      throw new ModelError(`Tensor "${name}" has an unsupported element type ${onnxType}`);
  }
}

/** Values stored in `int32_data`: every small integer type, bool, and the bits of float16. */
function fromInt32Data(values: number[], onnxType: number): ArrayLike<number> {
  switch (onnxType) {
    case OnnxDataType.FLOAT16:
      return values.map((v) => halfToFloat(v & 0xffff));
    case OnnxDataType.BFLOAT16:
      return values.map((v) => bfloat16ToFloat(v & 0xffff));
    case OnnxDataType.INT32:
      return values.map((v) => v | 0);
    default:
      return values;
  }
}

/** A decoded TensorProto. */
export interface NamedTensor {
  name: string;
  tensor: HostTensor;
}

/** Decodes one TensorProto (bytes of the message). */
export function decodeTensorProto(bytes: Uint8Array): NamedTensor {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  let external = false;
  const floats: number[] = [];
  const ints: number[] = [];
  const doubles: number[] = [];
  let sawStrings = false;
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case TENSOR.dims:
        dims.push(...decodePackedVarints(f));
        break;
      case TENSOR.dataType:
        dataType = f.value;
        break;
      case TENSOR.name:
        name = decodeString(f.bytes);
        break;
      case TENSOR.rawData:
        raw = f.bytes;
        break;
      case TENSOR.floatData:
        if (f.wireType === WireType.Fixed32) floats.push(f.value);
        else {
          const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
          for (let o = 0; o + 4 <= f.bytes.byteLength; o += 4) floats.push(view.getFloat32(o, true));
        }
        break;
      case TENSOR.doubleData:
        if (f.wireType === WireType.Fixed64) doubles.push(f.value);
        else {
          const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
          for (let o = 0; o + 8 <= f.bytes.byteLength; o += 8) doubles.push(view.getFloat64(o, true));
        }
        break;
      case TENSOR.int32Data:
      case TENSOR.int64Data:
      case TENSOR.uint64Data:
        ints.push(...decodePackedVarints(f));
        break;
      case TENSOR.stringData:
        sawStrings = true;
        break;
      case TENSOR.dataLocation:
        external = f.value === DATA_LOCATION_EXTERNAL;
        break;
      case TENSOR.externalData:
        external = true;
        break;
      default:
        break;
    }
  }
  const label = name || '(unnamed)';
  if (external) {
    throw new ModelError(
      `Tensor "${label}" keeps its data in an external file; export the model with weights inside the .onnx file`,
    );
  }
  const dtype = hostDTypeOf(dataType);
  if (!dtype || sawStrings) {
    throw new ModelError(`Tensor "${label}" has element type ${dataType}, which this backend cannot compute with`);
  }
  const count = sizeOf(dims);
  let values: ArrayLike<number>;
  if (raw !== undefined) values = decodeRaw(raw, dataType, count, label);
  else if (dataType === OnnxDataType.FLOAT) values = floats;
  else if (dataType === OnnxDataType.DOUBLE) values = doubles;
  else values = fromInt32Data(ints, dataType);
  if (dataType === OnnxDataType.UINT64 && raw === undefined) {
    // uint64_data is unsigned: undo the signed reading of values >= 2^63 (sentinels only).
    values = Array.from(values, (v) => (v < 0 ? v + 2 ** 64 : v));
  }
  if (values.length !== count) {
    throw new ModelError(`Tensor "${label}" holds ${values.length} values but its shape [${dims.join(', ')}] needs ${count}`);
  }
  return { name, tensor: hostTensor(dtype, dims, values) };
}
