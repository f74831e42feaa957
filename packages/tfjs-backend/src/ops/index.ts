/** The operator table: every ONNX op (default domain) this backend runs. */
import { ELEMENTWISE_OPS } from './elementwise.js';
import { LINEAR_OPS } from './linear.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_PAD_OPS } from './resize-pad.js';
import { SHAPE_OPS } from './shape-ops.js';
import { INTERNAL_OPS, SPATIAL_OPS } from './spatial.js';
import { INTERNAL_DOMAIN } from '../runtime/rewrites.js';
import type { OpDefinition, OpTable } from './types.js';

export const OPS: OpTable = {
  ...ELEMENTWISE_OPS,
  ...SHAPE_OPS,
  ...SPATIAL_OPS,
  ...REDUCE_OPS,
  ...RESIZE_PAD_OPS,
  ...LINEAR_OPS,
};

/** The implementation of `opType` in `domain`, if this backend has one. */
export function findOp(opType: string, domain: string): OpDefinition | undefined {
  if (domain === INTERNAL_DOMAIN) return Object.hasOwn(INTERNAL_OPS, opType) ? INTERNAL_OPS[opType] : undefined;
  if (domain !== '' && domain !== 'ai.onnx') return undefined;
  return Object.hasOwn(OPS, opType) ? OPS[opType] : undefined;
}

export type { OpDefinition } from './types.js';
