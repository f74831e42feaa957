/** Typed access to node attributes with ONNX defaults; wrong kinds are model errors. */
import { ModelError } from '@sgenet/core';

import type { OnnxAttribute, OnnxNode } from '../onnx/model.js';
import type { HostTensor } from './host-tensor.js';

type Kind = OnnxAttribute['kind'];
type ValueOf<K extends Kind> = Extract<OnnxAttribute, { kind: K }> extends { value: infer V } ? V : never;

function get<K extends Kind>(node: OnnxNode, name: string, kind: K): ValueOf<K> | undefined {
  const attribute = node.attributes.get(name);
  if (attribute === undefined) return undefined;
  if (attribute.kind !== kind) {
    throw new ModelError(
      `${node.opType} node "${node.name}": attribute "${name}" should be ${kind} but is ${attribute.kind}`,
    );
  }
  return (attribute as unknown as { value: ValueOf<K> }).value;
}

export function attrInt(node: OnnxNode, name: string, fallback: number): number;
export function attrInt(node: OnnxNode, name: string): number | undefined;
export function attrInt(node: OnnxNode, name: string, fallback?: number): number | undefined {
  return get(node, name, 'int') ?? fallback;
}

export function attrFloat(node: OnnxNode, name: string, fallback: number): number;
export function attrFloat(node: OnnxNode, name: string): number | undefined;
export function attrFloat(node: OnnxNode, name: string, fallback?: number): number | undefined {
  return get(node, name, 'float') ?? fallback;
}

export function attrString(node: OnnxNode, name: string, fallback: string): string;
export function attrString(node: OnnxNode, name: string): string | undefined;
export function attrString(node: OnnxNode, name: string, fallback?: string): string | undefined {
  return get(node, name, 'string') ?? fallback;
}

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  return get(node, name, 'ints');
}

export function attrFloats(node: OnnxNode, name: string): number[] | undefined {
  return get(node, name, 'floats');
}

export function attrTensor(node: OnnxNode, name: string): HostTensor | undefined {
  return get(node, name, 'tensor');
}
