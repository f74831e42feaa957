import { describe, expect, it } from 'vitest';

import {
  createDeblurrer,
  InvalidOptionError,
  defaultModelPath,
  modelInfoFromBytes,
  readModelBytes,
  shippedModelPath,
} from '@sgenet/core';
import type { Deblurrer, RawImage } from '@sgenet/core';
import * as ort from 'onnxruntime-node';

import { createBackend } from '../src/index.js';

function syntheticPhoto(width: number, height: number): RawImage {
  // Smooth shading plus edges and texture, like a photo; deterministic.
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const edge = (Math.floor(x / 37) + Math.floor(y / 29)) % 2 ? 60 : 0;
      data[i] = 90 + edge + 60 * Math.sin(x / 23) * Math.cos(y / 31);
      data[i + 1] = 110 + 50 * Math.sin((x + y) / 17) + (edge >> 1);
      data[i + 2] = 140 + 70 * Math.cos(x / 9) * Math.sin(y / 13) - edge;
    }
  }
  return { data, width, height, channels: 3 };
}

/**
 * The network alone on `image`, untiled and in tiles of 3 x overlap + 16 (overlap from the
 * receptive field): how many tiles, and the largest difference 16 px or more from the border.
 */
async function tiledAgainstUntiled(d: Deblurrer, image: RawImage): Promise<{ tiles: number; max: number }> {
  const untiled = await d.deblur(image, { tileSize: 1024, kernel: 'none' });
  const overlap = d.model.receptiveField <= 96 ? 128 : 160;
  let tiles = 0;
  const tiled = await d.deblur(image, { tileSize: 3 * overlap + 16, overlap, kernel: 'none', onProgress: (p) => (tiles = p.total) });
  let max = 0;
  const margin = 16;
  for (let y = margin; y < image.height - margin; y++) {
    for (let x = margin; x < image.width - margin; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * image.width + x) * 3 + c;
        max = Math.max(max, Math.abs(untiled.data[i]! - tiled.data[i]!));
      }
    }
  }
  return { tiles, max };
}

describe('ORT backend with the shipped model', () => {
  it('reads the export contract metadata of both shipped models', async () => {
    // The default: SGENet-σ, noise-conditioned and guided (the file holds sgenet-m-sigma-g).
    const prior = modelInfoFromBytes(await readModelBytes(defaultModelPath()));
    expect(prior.name).toBe('sgenet-m-sigma-g');
    expect([prior.sigmaInput, prior.guideInput]).toEqual([true, true]);
    const plain = modelInfoFromBytes(await readModelBytes(shippedModelPath('sgenet-s')));
    expect(plain.name).toBe('sgenet-s');
    expect([plain.sigmaInput, plain.guideInput]).toEqual([false, false]);
    for (const info of [prior, plain]) {
      expect(info.multiple).toBe(8);
      expect(info.receptiveField).toBeGreaterThan(0);
      expect(info.gflopPerMegapixel).toBeLessThanOrEqual(150);
    }
  });

  it('loads with zero configuration and reports its provider', async () => {
    const d = await createDeblurrer();
    expect(d.backend).toBe('ort');
    expect(d.provider).toBe('cpu');
    await d.dispose();
  });

  it('returns exactly what ONNX Runtime returns for the same tensor (v0.4.0)', async () => {
    const bytes = await readModelBytes(shippedModelPath('sgenet-s'));
    const session = await createBackend({ providers: ['cpu'] }).load(bytes);
    const input = new Float32Array(3 * 48 * 64).map((_, i) => ((i * 2654435761) % 1000) / 1000);
    const ours = await session.run(input, [1, 3, 48, 64]);
    const reference = await ort.InferenceSession.create(bytes);
    const ref = await reference.run({ blurry: new ort.Tensor('float32', input, [1, 3, 48, 64]) });
    expect(Array.from(ours)).toEqual(Array.from(ref.restored!.data as Float32Array));
    await session.dispose();
    await reference.release();
  });

  it('gives a tiled result equal to the untiled one within 1/255 away from the border', async () => {
    const d = await createDeblurrer({ backend: createBackend({ providers: ['cpu'] }) });
    const image = syntheticPhoto(720, 560);
    const { tiles, max } = await tiledAgainstUntiled(d, image);
    expect(tiles).toBeGreaterThanOrEqual(4);
    expect(max).toBeLessThanOrEqual(1);
    await d.dispose();
  });

  it('rejects an unknown provider with a precise message', () => {
    expect(() => createBackend({ providers: ['tpu' as never] })).toThrow(/'cuda', 'cpu'/);
  });

  it('checks every backend option once, with typed errors that name it', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ memoryArena: false }, /ORT backend option/],
      [{ threads: 0 }, /threads/],
      [{ threads: 2.5 }, /threads/],
      [{ graphOptimizationLevel: 'max' }, /'disabled', 'basic', 'extended', 'all'/],
      [{ provider: ['cpu'] }, /ORT backend option/],
      [{ providers: 'cpu' }, /providers/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        createBackend(options as never);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).code).toBe('ERR_SGENET_INVALID_OPTION');
      expect((error as Error).message).toMatch(message);
    }
    expect(() => createBackend(null as never)).toThrow(InvalidOptionError);
    await expect(createBackend({ providers: ['cpu'] }).load(new Uint8Array(8), { threads: 0 })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
  });

  it('fails with a typed error on a file that is not a model', async () => {
    await expect(createDeblurrer({ model: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: 'ERR_SGENET_MODEL' });
  });
});

describe('ORT backend with the shipped noise-conditioned model (SGENet-σ, guided)', () => {
  it('feeds sigma and the guide beside the image and returns what ONNX Runtime returns; the output depends on σ and on the guide', async () => {
    const bytes = await readModelBytes(shippedModelPath('sgenet-s-sigma'));
    expect(modelInfoFromBytes(bytes).sigmaInput).toBe(true);
    expect(modelInfoFromBytes(bytes).guideInput).toBe(true);
    const session = await createBackend({ providers: ['cpu'] }).load(bytes, { threads: 1 });
    const reference = await ort.InferenceSession.create(bytes);
    expect(reference.inputNames).toEqual(['blurry', 'sigma', 'guide']);
    const input = new Float32Array(3 * 40 * 56).map((_, i) => ((i * 2654435761) % 1000) / 1000);
    const photos = [input.map((v) => 0.5 * v + 0.25), input.map((v) => 1 - v)];
    const outputs: Float32Array[] = [];
    for (const [sigma, guide] of [[0.01, photos[0]!], [0.1, photos[0]!], [0.1, photos[1]!]] as const) {
      const ours = await session.run(input, [1, 3, 40, 56], { sigma, guide });
      const ref = await reference.run({
        blurry: new ort.Tensor('float32', input, [1, 3, 40, 56]),
        sigma: new ort.Tensor('float32', Float32Array.of(sigma), [1]),
        guide: new ort.Tensor('float32', guide, [1, 3, 40, 56]),
      });
      expect(Array.from(ours)).toEqual(Array.from(ref.restored!.data as Float32Array));
      outputs.push(ours);
    }
    expect(Array.from(outputs[0]!)).not.toEqual(Array.from(outputs[1]!));
    expect(Array.from(outputs[1]!)).not.toEqual(Array.from(outputs[2]!));
    await reference.release();
    await session.dispose();
  });

  it('rejects a run without a valid σ or guide, with ERR_SGENET_INVALID_OPTION and nothing run', async () => {
    const session = await createBackend({ providers: ['cpu'] }).load(shippedModelPath('sgenet-s-sigma'), { threads: 1 });
    const input = new Float32Array(3 * 16 * 16);
    for (const sigma of [undefined, -0.1, 1.5, Number.NaN]) {
      await expect(session.run(input, [1, 3, 16, 16], sigma === undefined ? { guide: input } : { sigma, guide: input }))
        .rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
    }
    for (const guide of [undefined, new Float32Array(10)]) {
      await expect(session.run(input, [1, 3, 16, 16], guide === undefined ? { sigma: 0.1 } : { sigma: 0.1, guide }))
        .rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
    }
    await session.dispose();
  });

  it('loads by name; tiled equals untiled within 1/255 away from the border (one σ for every tile)', async () => {
    const d = await createDeblurrer({ model: 'sgenet-s-sigma', backend: createBackend({ providers: ['cpu'] }) });
    expect(d.model.sigmaInput).toBe(true);
    const image = syntheticPhoto(480, 400);
    const { tiles, max } = await tiledAgainstUntiled(d, image);
    expect(tiles).toBeGreaterThanOrEqual(4);
    expect(max).toBeLessThanOrEqual(1);
    await d.dispose();
  });
});
