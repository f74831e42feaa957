/** Platform selection, and the backend as @sgenet/core uses it. */
import { createRequire } from 'node:module';

import { createDeblurrer, readModelBytes, resolveBackend, shippedModelPath } from '@sgenet/core';
import { seededRandom } from '@sgenet/core/synthetic';
import type { RawImage } from '@sgenet/core';
import { createBackend as createOrtBackend } from '@sgenet/ort-backend';
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { TFJS_PLATFORMS, TFJS_TILE_SIZE, createBackend } from '../src/index.js';
import type { TfjsSession } from '../src/index.js';

const require = createRequire(import.meta.url);
const installed = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

let model: Uint8Array;
beforeAll(async () => {
  model = await readModelBytes(shippedModelPath('sgenet-s'));
});

describe('platform selection', () => {
  it('runs on the cpu platform without tfjs\'s "Hi, looks like you are running TensorFlow.js in Node.js" banner', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    try {
      const session = await createBackend({ platform: 'cpu' }).load(model);
      expect(session.provider).toBe('cpu');
      const out = await session.run(new Float32Array(3 * 16 * 16).fill(0.5), [1, 3, 16, 16]);
      expect(out.length).toBe(3 * 16 * 16);
      await session.dispose();
      const printed = [...warn.mock.calls, ...log.mock.calls].map((args) => args.join(' ')).join('\n');
      expect(printed).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });

  it('loads the wasm binaries from node_modules, never from the network', async () => {
    const fetchSpy = vi.fn(() => Promise.reject(new Error('network access in a test')));
    vi.stubGlobal('fetch', fetchSpy);
    try {
      const session = await createBackend({ platform: 'wasm' }).load(model);
      expect(session.provider).toBe('wasm');
      expect(fetchSpy).not.toHaveBeenCalled();
      const features = await (session as TfjsSession).wasmFeatures();
      // Node has no wasm threads in TensorFlow.js; SIMD is used where the runtime has it.
      expect(features).toEqual({ simd: expect.any(Boolean), threads: false });
      await session.dispose();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it(`'auto' takes the best installed platform (${nativeInstalled ? 'tensorflow' : 'wasm'} here)`, async () => {
    const session = await createBackend().load(model);
    expect(TFJS_PLATFORMS).toContain(session.provider);
    if (!nativeInstalled) expect(session.provider).toBe('wasm');
    await session.dispose();
  });

  it('honours a forced platform', async () => {
    const session = await createBackend({ platform: 'cpu' }).load(model);
    expect(session.provider).toBe('cpu');
    await session.dispose();
  });

  it.skipIf(nativeInstalled)('reports a forced native platform that is not installed', async () => {
    await expect(createBackend({ platform: 'tensorflow' }).load(model)).rejects.toMatchObject({
      code: 'ERR_SGENET_BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/tensorflow: .*tfjs-node/),
    });
    await expect(createBackend({ platform: 'tensorflow-gpu' }).load(model)).rejects.toMatchObject({
      code: 'ERR_SGENET_BACKEND_UNAVAILABLE',
    });
  });

  it.skipIf(nativeInstalled)('treats core\'s providers option as a wish list and falls back along it', async () => {
    const session = await createBackend({ platform: 'wasm' }).load(model, { providers: ['tensorflow', 'cpu'] });
    expect(session.provider).toBe('cpu');
    await session.dispose();
  });
});

describe('with @sgenet/core', () => {
  it("is what core's resolver returns for backend: 'tfjs'", async () => {
    const backend = await resolveBackend('tfjs');
    expect(backend.name).toBe('tfjs');
    // Smaller tiles than ORT's 896: the WebAssembly heap keeps the largest tile's working set.
    expect(backend.preferredTileSize).toBe(TFJS_TILE_SIZE);
    expect(TFJS_TILE_SIZE).toBe(640);
  });

  it('deblurs an image through createDeblurrer like the ort backend does', async () => {
    const rand = seededRandom(11);
    const width = 56;
    const height = 40;
    const image: RawImage = {
      data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rand() * 256)),
      width,
      height,
      channels: 3,
    };
    const [tfjs, ort] = await Promise.all([
      createDeblurrer({ backend: createBackend({ platform: 'wasm' }), tileSize: 64 }),
      createDeblurrer({ backend: createOrtBackend({ providers: ['cpu'] }), tileSize: 64 }),
    ]);
    try {
      expect(tfjs.backend).toBe('tfjs');
      expect(tfjs.provider).toBe('wasm');
      const [a, b] = [await tfjs.deblur(image, { kernel: 'none' }), await ort.deblur(image, { kernel: 'none' })];
      expect(a.width).toBe(width);
      let worst = 0;
      for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
      // Float differences of ~1e-7 can flip a rounding: at most one 8-bit level.
      expect(worst).toBeLessThanOrEqual(1);
    } finally {
      await Promise.all([tfjs.dispose(), ort.dispose()]);
    }
  });
});
