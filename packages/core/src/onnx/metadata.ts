import { ModelError } from '../errors.js';
import { ProtoReader, decodeString } from './protobuf.js';

/** ModelProto field numbers (onnx.proto3). */
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
const MODEL_IR_VERSION = 1;

/** Reads `metadata_props` (key/value strings) from the bytes of an ONNX model. */
export function readOnnxMetadata(model: Uint8Array): Record<string, string> {
  const props: Record<string, string> = {};
  let sawGraph = false;
  let sawIr = false;
  try {
    for (const f of new ProtoReader(model).fields()) {
      if (f.field === MODEL_IR_VERSION) sawIr = true;
      if (f.field === MODEL_GRAPH) sawGraph = true;
      if (f.field !== MODEL_METADATA_PROPS) continue;
      let key = '';
      let value = '';
      for (const e of new ProtoReader(f.bytes).fields()) {
        if (e.field === 1) key = decodeString(e.bytes);
        else if (e.field === 2) value = decodeString(e.bytes);
      }
      props[key] = value;
    }
  } catch (err) {
    throw new ModelError('The model is not a valid ONNX file (protobuf decoding failed): check the path, or export the model again with training/export.py', { cause: err });
  }
  if (!sawGraph || !sawIr) {
    throw new ModelError('The model is not a valid ONNX file (no ir_version or graph found): check the path, or export the model again with training/export.py');
  }
  return props;
}
