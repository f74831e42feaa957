export { ProtoReader, WireType, decodeString, decodePackedVarints } from './protobuf.js';
export type { ProtoField } from './protobuf.js';
export { readOnnxMetadata } from './metadata.js';
