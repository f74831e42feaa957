/**
 * The shipped SGENet model on this backend vs ONNX Runtime, on random inputs of several sizes
 * (non-square, multiples of 8, and one tile-sized input), and its tensor bookkeeping.
 */
import { readModelBytes, shippedModelPath } from '@sgenet/core';
import type { ImageTensorDims, Session } from '@sgenet/core';
import { createBackend as createOrtBackend } from '@sgenet/ort-backend';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createBackend } from '../src/index.js';
import { encodeModel } from './helpers/onnx-builder.js';
import { randomData } from './helpers/reference.js';

const TOLERANCE = { cpu: 1e-4, wasm: 1e-3 } as const;
/** Non-square, square, narrow; all multiples of 8 (the model's contract). */
const SMALL_SIZES: Array<[number, number]> = [[48, 80], [64, 64], [72, 24]];
const TILE: [number, number] = [256, 256];

let model: Uint8Array;
let reference: Session;

beforeAll(async () => {
  model = await readModelBytes(shippedModelPath('sgenet-s'));
  reference = await createOrtBackend({ providers: ['cpu'] }).load(model, { threads: 1 });
});

afterAll(async () => {
  await reference.dispose();
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

async function parity(session: Session, [h, w]: [number, number], seed: number): Promise<number> {
  const dims: ImageTensorDims = [1, 3, h, w];
  const input = randomData(dims, seed, 0, 1);
  const [expected, actual] = [await reference.run(input, dims), await session.run(input, dims)];
  expect(actual).toHaveLength(expected.length);
  expect(actual.every(Number.isFinite)).toBe(true);
  return maxAbsDiff(actual, expected);
}

describe.each(['cpu', 'wasm'] as const)('shipped model on %s', (platform) => {
  let session: Session;

  beforeAll(async () => {
    session = await createBackend({ platform }).load(model);
  });

  afterAll(async () => {
    await session.dispose();
  });

  it('reports the platform it runs on', () => {
    expect(session.provider).toBe(platform);
  });

  it.each(SMALL_SIZES)(`matches ONNX Runtime on a %ix%i input (max abs diff < ${TOLERANCE[platform]})`, async (h, w) => {
    const diff = await parity(session, [h, w], h * 1000 + w);
    console.info(`[parity] ${platform} ${h}x${w}: max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE[platform]);
  });

  it(`matches ONNX Runtime on a tile-sized ${TILE[0]}x${TILE[1]} input`, async () => {
    const diff = await parity(session, TILE, 7);
    console.info(`[parity] ${platform} ${TILE[0]}x${TILE[1]}: max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE[platform]);
  });

  it('frees every intermediate tensor: 20 consecutive runs leave the tensor count unchanged', async () => {
    const dims: ImageTensorDims = [1, 3, 16, 24];
    const input = randomData(dims, 3, 0, 1);
    const baseline = tf.memory().numTensors;
    let first: Float32Array | undefined;
    for (let run = 0; run < 20; run++) {
      const out = await session.run(input, dims);
      first ??= out;
      expect(tf.memory().numTensors).toBe(baseline);
    }
    // Same input, same result: nothing carried over between runs.
    expect(maxAbsDiff(await session.run(input, dims), first!)).toBe(0);
  });
});

describe('session lifetime', () => {
  it('uploads the weights once at load and frees them on dispose', async () => {
    const before = tf.memory().numTensors;
    const session = await createBackend({ platform: 'wasm' }).load(model);
    const loaded = tf.memory().numTensors;
    expect(loaded).toBeGreaterThan(before);
    await session.run(randomData([1, 3, 16, 16], 1), [1, 3, 16, 16]);
    expect(tf.memory().numTensors).toBe(loaded);
    await session.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees what a failed run allocated', async () => {
    const session = await createBackend({ platform: 'wasm' }).load(model);
    try {
      const baseline = tf.memory().numTensors;
      // 20x28 is not a multiple of 8: the U-Net's skip connections cannot line up.
      await expect(session.run(randomData([1, 3, 20, 28], 2), [1, 3, 20, 28])).rejects.toMatchObject({
        code: 'ERR_SGENET_BACKEND',
      });
      expect(tf.memory().numTensors).toBe(baseline);
    } finally {
      await session.dispose();
    }
  });

  it('serialises concurrent runs of sessions on different platforms', async () => {
    const dims: ImageTensorDims = [1, 3, 16, 32];
    const input = randomData(dims, 5, 0, 1);
    const [cpu, wasm] = await Promise.all([
      createBackend({ platform: 'cpu' }).load(model),
      createBackend({ platform: 'wasm' }).load(model),
    ]);
    try {
      const expected = await reference.run(input, dims);
      const outputs = await Promise.all([cpu.run(input, dims), wasm.run(input, dims), cpu.run(input, dims)]);
      for (const out of outputs) expect(maxAbsDiff(out, expected)).toBeLessThan(TOLERANCE.wasm);
    } finally {
      await Promise.all([cpu.dispose(), wasm.dispose()]);
    }
  });
});

describe.each(['cpu', 'wasm'] as const)('shipped noise-conditioned, guided model (SGENet-σ) on %s', (platform) => {
  it.each([0.01, 0.15])('matches ONNX Runtime at σ = %f, the same σ fed to both', async (sigma) => {
    const bytes = await readModelBytes(shippedModelPath('sgenet-s-sigma'));
    const ref = await createOrtBackend({ providers: ['cpu'] }).load(bytes, { threads: 1 });
    const session = await createBackend({ platform }).load(bytes);
    const dims: ImageTensorDims = [1, 3, 48, 64];
    const input = randomData(dims, 11, 0, 1);
    const guide = randomData(dims, 12, 0, 1);
    const diff = maxAbsDiff(await session.run(input, dims, { sigma, guide }), await ref.run(input, dims, { sigma, guide }));
    console.info(`[parity] σ model ${platform} σ ${sigma}: max abs diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE[platform]);
    await expect(session.run(input, dims, { guide })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
    await expect(session.run(input, dims, { sigma })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
    await session.dispose();
    await ref.dispose();
  });
});

/**
 * The export contract's three inputs on a hand-built graph (the shipped models have no guide):
 * restored = blurry + sigma x (guide - blurry). Both backends must feed each input by name.
 */
function guidedAffineModel(): Uint8Array {
  const image = { name: 'blurry', dims: [1, 3, 'height', 'width'] as const };
  return encodeModel({
    nodes: [
      { op: 'Sub', inputs: ['guide', 'blurry'], outputs: ['d'] },
      { op: 'Mul', inputs: ['d', 'sigma'], outputs: ['m'] },
      { op: 'Add', inputs: ['blurry', 'm'], outputs: ['restored'] },
    ],
    inputs: [image, { name: 'sigma', dims: [1] }, { ...image, name: 'guide' }],
    outputs: [{ name: 'restored', dims: [1, 3, 'height', 'width'] }],
  });
}

describe.each(['cpu', 'wasm'] as const)('a guided model (inputs blurry, sigma, guide) on %s', (platform) => {
  it('feeds the guide by name, as ONNX Runtime does, and refuses a run without it or of the wrong length', async () => {
    const bytes = guidedAffineModel();
    const ref = await createOrtBackend({ providers: ['cpu'] }).load(bytes, { threads: 1 });
    const session = await createBackend({ platform }).load(bytes);
    const dims: ImageTensorDims = [1, 3, 8, 16];
    const input = randomData(dims, 3, 0, 1);
    const guide = randomData(dims, 4, 0, 1);
    const sigma = 0.25;
    const ours = await session.run(input, dims, { sigma, guide });
    const theirs = await ref.run(input, dims, { sigma, guide });
    for (let i = 0; i < input.length; i++) {
      const truth = input[i]! + sigma * (guide[i]! - input[i]!);
      expect(ours[i]).toBeCloseTo(truth, 5);
      expect(theirs[i]).toBeCloseTo(truth, 5);
    }
    for (const s of [session, ref]) {
      await expect(s.run(input, dims, { sigma })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
      await expect(s.run(input, dims, { sigma, guide: guide.subarray(1) })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
      await s.dispose();
    }
  });
});
