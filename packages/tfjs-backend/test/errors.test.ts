/** Typed errors: unsupported ops, bad options, bad models, misuse of sessions. */
import { SgenetError, readModelBytes, shippedModelPath } from '@sgenet/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

import { UnsupportedOpError, createBackend, loadOnnxGraph } from '../src/index.js';
import { encodeModel, oneNodeModel } from './helpers/onnx-builder.js';
import { randomData } from './helpers/reference.js';

describe('unsupported ops', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu'); // so tf.memory() can count from the start
  });

  const einsum = oneNodeModel({
    op: 'Einsum',
    inputs: [{ name: 'x0', dims: [2, 3] }, { name: 'x1', dims: [3, 4] }],
    attrs: { equation: { string: 'ij,jk->ik' } },
  });

  it('rejects the load with ERR_SGENET_UNSUPPORTED_OP naming the op, before allocating anything', async () => {
    const before = tf.memory().numTensors;
    const error = await loadOnnxGraph(einsum, { platform: 'cpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedOpError);
    expect(error).toBeInstanceOf(SgenetError);
    expect(error).toMatchObject({ code: 'ERR_SGENET_UNSUPPORTED_OP', opType: 'Einsum', nodeName: 'einsum_0' });
    expect((error as Error).message).toMatch(/Einsum/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails the same way through the Backend interface core uses', async () => {
    await expect(createBackend({ platform: 'wasm' }).load(einsum)).rejects.toMatchObject({
      code: 'ERR_SGENET_UNSUPPORTED_OP',
      opType: 'Einsum',
    });
  });

  it('names the domain of a custom op', async () => {
    const custom = encodeModel({
      nodes: [{ op: 'FusedGemm', domain: 'com.microsoft', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', dims: [2, 2] }],
      outputs: [{ name: 'y' }],
    });
    await expect(loadOnnxGraph(custom, { platform: 'cpu' })).rejects.toThrow(/com\.microsoft\.FusedGemm/);
  });

  it('rejects attribute values an op cannot honour (Resize cubic)', async () => {
    const cubic = oneNodeModel({
      op: 'Resize',
      inputs: [{ name: 'x0', dims: [1, 1, 4, 4] }],
      initializers: [{ name: 's', dtype: 'float32', dims: [4], values: [1, 1, 2, 2] }],
      nodeInputs: ['x0', '', 's'],
      attrs: { mode: { string: 'cubic' } },
    });
    await expect(loadOnnxGraph(cubic, { platform: 'cpu' })).rejects.toMatchObject({
      code: 'ERR_SGENET_UNSUPPORTED_OP',
      opType: 'Resize',
      message: expect.stringMatching(/cubic/),
    });
  });
});

describe('bad input', () => {
  it('rejects bytes that are not an ONNX model with ERR_SGENET_MODEL', async () => {
    await expect(loadOnnxGraph(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toMatchObject({ code: 'ERR_SGENET_MODEL' });
    await expect(loadOnnxGraph('/nonexistent/model.onnx')).rejects.toMatchObject({ code: 'ERR_SGENET_MODEL' });
  });

  it('validates the platform option sharp-style', () => {
    expect(() => createBackend({ platform: 'gpu' as never })).toThrow(
      /^Expected 'auto' or one of 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu' for platform but received "gpu" of type string$/,
    );
    expect(() => createBackend({ platform: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'ERR_SGENET_INVALID_OPTION' }));
  });

  it('validates core\'s providers wish list', async () => {
    const model = await readModelBytes(shippedModelPath('sgenet-s'));
    await expect(createBackend().load(model, { providers: ['cuda'] })).rejects.toMatchObject({
      code: 'ERR_SGENET_INVALID_OPTION',
    });
  });

  it('rejects a tensor whose length does not match its dims', async () => {
    const session = await createBackend({ platform: 'cpu' }).load(await readModelBytes(shippedModelPath('sgenet-s')));
    try {
      await expect(session.run(new Float32Array(10), [1, 3, 8, 8])).rejects.toMatchObject({
        code: 'ERR_SGENET_INVALID_OPTION',
      });
    } finally {
      await session.dispose();
    }
  });

  it('refuses to run after dispose', async () => {
    const session = await createBackend({ platform: 'cpu' }).load(await readModelBytes(shippedModelPath('sgenet-s')));
    await session.dispose();
    await session.dispose(); // idempotent
    await expect(session.run(randomData([1, 3, 8, 8], 1), [1, 3, 8, 8])).rejects.toMatchObject({
      code: 'ERR_SGENET_DISPOSED',
    });
  });
});
