/** Values flowing through the interpreter: device tensors with a layout, or host tensors. */
import * as tf from '@tensorflow/tfjs-core';

import { hostTensor, sizeOf } from './host-tensor.js';
import { transposeFast } from './kernel-choice.js';
import type { HostDType, HostTensor } from './host-tensor.js';
import { identityPerm, isIdentity, logicalShape, relayoutIsReshape, relayoutPerm, samePerm } from './layout.js';
import type { Perm } from './layout.js';

/** A TensorFlow.js tensor holding a logical ONNX tensor stored with `perm` (see layout.ts). */
export interface DeviceValue {
  readonly kind: 'device';
  readonly tensor: tf.Tensor;
  readonly perm: Perm;
  /** The same value in other layouts, made for consumers that needed them; freed with it. */
  relayouts?: Map<string, tf.Tensor>;
}

/** A tensor in JavaScript memory (shape arithmetic, constants). */
export interface HostValue {
  readonly kind: 'host';
  readonly host: HostTensor;
  /** Session-owned device copy of a constant, uploaded once at load. */
  readonly uploaded?: tf.Tensor;
}

export type RuntimeValue = DeviceValue | HostValue;

export function deviceValue(tensor: tf.Tensor, perm?: Perm): DeviceValue {
  return { kind: 'device', tensor, perm: perm ?? identityPerm(tensor.rank) };
}

export function hostValue(host: HostTensor, uploaded?: tf.Tensor): HostValue {
  return uploaded ? { kind: 'host', host, uploaded } : { kind: 'host', host };
}

/** Logical (ONNX) shape. */
export function shapeOf(value: RuntimeValue): number[] {
  return value.kind === 'host' ? [...value.host.dims] : logicalShape(value.tensor.shape, value.perm);
}

export function dtypeOf(value: RuntimeValue): HostDType {
  if (value.kind === 'host') return value.host.dtype;
  return value.tensor.dtype === 'int32' ? 'int' : value.tensor.dtype === 'bool' ? 'bool' : 'float32';
}

export function sizeOfValue(value: RuntimeValue): number {
  return value.kind === 'host' ? sizeOf(value.host.dims) : value.tensor.size;
}

export function deviceDType(dtype: HostDType): 'float32' | 'int32' | 'bool' {
  return dtype === 'int' ? 'int32' : dtype;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Copies a host tensor to the active TensorFlow.js backend (int64 saturates to int32). */
export function upload(host: HostTensor): tf.Tensor {
  switch (host.dtype) {
    case 'float32':
      return tf.tensor(host.data, [...host.dims], 'float32');
    case 'int':
      return tf.tensor(
        Int32Array.from(host.data, (v) => Math.min(INT32_MAX, Math.max(INT32_MIN, v))),
        [...host.dims],
        'int32',
      );
    case 'bool':
      return tf.tensor(host.data, [...host.dims], 'bool');
  }
}

/** Reads a device value back into a host tensor (logical layout). */
export function download(value: DeviceValue): HostTensor {
  const logical = tf.tidy(() => relayout(value.tensor, value.perm, identityPerm(value.perm.length)));
  try {
    const dtype = dtypeOf(value);
    return hostTensor(dtype, logical.shape, logical.dataSync());
  } finally {
    if (logical !== value.tensor) logical.dispose();
  }
}

/** `tensor` (stored with `from`) stored with `to`. Returns `tensor` itself when nothing changes. */
export function relayout(tensor: tf.Tensor, from: Perm, to: Perm): tf.Tensor {
  const transpose = relayoutPerm(from, to);
  if (isIdentity(transpose)) return tensor;
  if (relayoutIsReshape(tensor.shape, transpose)) {
    return tf.reshape(tensor, transpose.map((axis) => tensor.shape[axis]!));
  }
  return transposeFast(tensor, transpose);
}

/**
 * The value as a tensor stored with `perm`. Host values are uploaded (temporarily, unless they are
 * session constants). A device value moved to another layout is cached on the value, so several
 * consumers wanting NHWC pay for one transpose; the cache is kept out of the caller's tidy scope
 * and freed with the value.
 */
export function inLayout(value: RuntimeValue, perm: Perm): tf.Tensor {
  if (value.kind === 'host') {
    const base = value.uploaded ?? upload(value.host);
    return relayout(base, identityPerm(value.host.dims.length), perm);
  }
  if (samePerm(value.perm, perm)) return value.tensor;
  const key = perm.join(',');
  const cached = value.relayouts?.get(key);
  if (cached) return cached;
  // tidy: a relayout may take several steps, and this can run outside any scope (read-back).
  const moved = tf.keep(tf.tidy(() => relayout(value.tensor, value.perm, perm)));
  (value.relayouts ??= new Map()).set(key, moved);
  return moved;
}

/** Frees a per-run device value and its cached relayouts. Host values own nothing per run. */
export function disposeValue(value: RuntimeValue): void {
  if (value.kind !== 'device') return;
  value.tensor.dispose();
  value.relayouts?.forEach((t) => t.dispose());
  value.relayouts = undefined;
}
