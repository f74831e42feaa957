import { describe, expect, it } from 'vitest';

import { AbortError, createDeblurrer, InvalidImageError, InvalidOptionError } from '../src/index.js';
import type { RawImage } from '../src/index.js';
import { boxBlurBackend, functionBackend, identityBackend, maxInteriorDiff, noiseImage } from './helpers.js';

// These tests are about the network stage and its tiler: they run with kernel 'none' (the pipeline's
// kernel stages are tested in pipeline.test.ts, kernel.test.ts and deconvolve.test.ts).
describe('createDeblurrer with an identity model', () => {
  const cases: [string, RawImage][] = [
    ['1x1 RGB', noiseImage(1, 1, 3)],
    ['7x1000 grey', noiseImage(7, 1000, 1)],
    ['1000x7 grey+alpha', noiseImage(1000, 7, 2)],
    ['333x257 RGBA 8-bit', noiseImage(333, 257, 4)],
    ['129x65 RGB 16-bit', noiseImage(129, 65, 3, 16)],
    ['97x131 RGBA 16-bit', noiseImage(97, 131, 4, 16)],
  ];
  for (const [name, image] of cases) {
    it(`round-trips ${name} exactly through small tiles`, async () => {
      const d = await createDeblurrer({ kernel: 'none', backend: identityBackend(), tileSize: 96, overlap: 16 });
      const out = await d.deblur(image);
      expect(out.width).toBe(image.width);
      expect(out.height).toBe(image.height);
      expect(out.channels).toBe(image.channels);
      expect(out.data.constructor).toBe(image.data.constructor);
      expect(Array.from(out.data)).toEqual(Array.from(image.data));
    });
  }

  it('passes alpha through untouched while colour is changed', async () => {
    const invert = functionBackend((x) => x.map((v) => 1 - v));
    const d = await createDeblurrer({ kernel: 'none', backend: invert });
    const img = noiseImage(40, 30, 4);
    const out = await d.deblur(img);
    for (let i = 0; i < img.data.length; i += 4) {
      expect(out.data[i]).toBe(255 - img.data[i]!);
      expect(out.data[i + 3]).toBe(img.data[i + 3]);
    }
  });

  it('handles a 4001 x 3001 image (simulated cheaply with the identity model)', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend() });
    const img = noiseImage(4001, 3001, 3);
    let last = { done: 0, total: 0 };
    const out = await d.deblur(img, { onProgress: (p) => (last = p) });
    expect(last.done).toBe(last.total);
    expect(last.total).toBeGreaterThan(1);
    expect(Buffer.from(out.data.buffer).equals(Buffer.from(img.data.buffer))).toBe(true);
  });
});

describe('tiling against an untiled run', () => {
  it('equals the untiled result of a model with a known receptive field', async () => {
    // Box blur of radius 6: any overlap - feather >= 6 must reproduce the untiled result.
    const d = await createDeblurrer({ kernel: 'none', backend: boxBlurBackend(6) });
    const img = noiseImage(300, 220, 3);
    const untiled = await d.deblur(img, { tileSize: 1024 });
    const tiled = await d.deblur(img, { tileSize: 96, overlap: 24 });
    expect(maxInteriorDiff(untiled, tiled, 0)).toBeLessThanOrEqual(1);
  });
});

describe("the backend's preferred tile size", () => {
  const countTiles = async (d: Awaited<ReturnType<typeof createDeblurrer>>, opts = {}) => {
    let total = 0;
    await d.deblur(noiseImage(500, 300, 3), { ...opts, onProgress: (p) => (total = p.total) });
    return total;
  };

  it('is the default tile size, and an explicit tileSize still wins', async () => {
    const backend = { ...identityBackend(), preferredTileSize: 256 };
    const d = await createDeblurrer({ kernel: 'none', backend, overlap: 8 });
    // Cores of at most 256 - 2*8 - 2*8 = 224 px: ceil(500/224) x ceil(300/224) = 3 x 2 tiles.
    expect(await countTiles(d)).toBe(6);
    // 1024 px tiles hold the whole 500x300 image.
    expect(await countTiles(d, { tileSize: 1024 })).toBe(1);
    const explicit = await createDeblurrer({ kernel: 'none', backend, tileSize: 1024, overlap: 8 });
    expect(await countTiles(explicit)).toBe(1);
  });

  it('falls back to DEFAULT_TILE_SIZE (896 px) without one, and rejects a bad one', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend(), overlap: 8 });
    expect(await countTiles(d)).toBe(1);
    await expect(createDeblurrer({ kernel: 'none', backend: { ...identityBackend(), preferredTileSize: 10 } }))
      .rejects.toThrow(/backend.preferredTileSize/);
  });
});

describe('progress and cancellation', () => {
  it('reports every tile and reaches the total', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend(), tileSize: 64, overlap: 8 });
    const seen: number[] = [];
    let total = 0;
    await d.deblur(noiseImage(200, 150, 3), { onProgress: (p) => { seen.push(p.done); total = p.total; } });
    // Cores of at most 64 - 2*8 - 2*8 = 32 px: ceil(200/32) x ceil(150/32) = 7 x 5 tiles.
    expect(total).toBe(35);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('stops within one tile of an abort', async () => {
    const stats = { runs: 0 };
    const backend = functionBackend((x) => new Float32Array(x), stats);
    const d = await createDeblurrer({ kernel: 'none', backend, tileSize: 64, overlap: 8 });
    const controller = new AbortController();
    const run = d.deblur(noiseImage(200, 150, 3), {
      signal: controller.signal,
      onProgress: (p) => { if (p.done === 3) controller.abort(); },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    await expect(run).rejects.toMatchObject({ code: 'ERR_SGENET_ABORTED' });
    expect(stats.runs).toBe(3);
  });

  it('rejects at once when the signal has already fired', async () => {
    const stats = { runs: 0 };
    const d = await createDeblurrer({ kernel: 'none', backend: functionBackend((x) => x, stats) });
    await expect(d.deblur(noiseImage(10, 10, 3), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(stats.runs).toBe(0);
  });
});

describe('input validation', () => {
  it('rejects malformed images with clear messages', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend(), maxPixels: 10_000 });
    const bad: [unknown, RegExp, typeof InvalidOptionError | typeof InvalidImageError][] = [
      [null, /Expected an object/, InvalidOptionError],
      [{ data: new Uint8Array(3), width: 0, height: 1, channels: 3 }, /image.width/, InvalidOptionError],
      [{ data: new Uint8Array(3), width: 1.5, height: 1, channels: 3 }, /image.width/, InvalidOptionError],
      [{ data: new Uint8Array(3), width: 1, height: 1, channels: 5 }, /image.channels/, InvalidOptionError],
      [{ data: new Float32Array(3), width: 1, height: 1, channels: 3 }, /Uint8Array, Uint8ClampedArray or Uint16Array/, InvalidOptionError],
      [{ data: new Uint8Array(5), width: 1, height: 2, channels: 3 }, /has 5 samples but 1x2x3 needs 6/, InvalidImageError],
    ];
    for (const [img, msg, cls] of bad) {
      const run = d.deblur(img as RawImage);
      await expect(run).rejects.toThrow(msg);
      await expect(run).rejects.toBeInstanceOf(cls);
    }
    // Over maxPixels: the dedicated class, checked before a sample is read.
    await expect(d.deblur(noiseImage(200, 200, 3))).rejects.toMatchObject({ code: 'ERR_SGENET_IMAGE_TOO_LARGE' });
  });

  it('rejects out-of-range options sharp-style', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend() });
    const img = noiseImage(16, 16, 3);
    await expect(d.deblur(img, { tileSize: 10 })).rejects.toThrow('Expected an integer between 64 and 8192 for tileSize but received 10 of type number');
    await expect(d.deblur(img, { tileSize: 128, overlap: 64 })).rejects.toThrow(/at least 3 x overlap/);
    await expect(d.deblur(img, { concurrency: 0 })).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_OPTION' });
    await expect(d.deblur(img, { onProgress: 'x' as never })).rejects.toThrow(/a function for onProgress/);
    await expect(createDeblurrer({ kernel: 'none', backend: 'gpu' as never })).rejects.toThrow(/'ort', 'tfjs' or 'auto'/);
  });

  it('refuses use after dispose', async () => {
    const d = await createDeblurrer({ kernel: 'none', backend: identityBackend() });
    await d.dispose();
    await expect(d.deblur(noiseImage(8, 8, 3))).rejects.toMatchObject({ code: 'ERR_SGENET_DISPOSED' });
  });
});
