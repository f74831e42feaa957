import { AbortError } from '@sgenet/core';
import { applyBlur, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
import type { Deblurrer, DeblurOptions, RawImage } from '@sgenet/core';
import sharp from 'sharp';

export { laplacianVariance } from '@sgenet/core/synthetic';

/** The project's test chart, blurred with its camera-shake generator. */
export function blurredChart(width = 64, height = 48): RawImage {
  return applyBlur(testChart(width, height), trajectoryKernel({ length: 9, seed: 3 }));
}

export async function encodeChart(format: 'png' | 'jpeg' | 'webp', width = 64, height = 48): Promise<Buffer> {
  const img = blurredChart(width, height);
  const s = sharp(img.data, { raw: { width, height, channels: 3 } });
  return format === 'png' ? s.png().toBuffer() : format === 'jpeg' ? s.jpeg({ quality: 95 }).toBuffer() : s.webp({ lossless: true }).toBuffer();
}

export async function decodeRaw(bytes: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

/** Incompressible bytes in a valid PNG, to exceed byte limits with few pixels. */
export async function noisePng(width: number, height: number): Promise<Buffer> {
  const data = new Uint8Array(width * height * 3);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export interface Controlled {
  deblurrer: Deblurrer;
  /** Resolves when the next deblur call has started. */
  started: () => Promise<DeblurOptions | undefined>;
  /** Lets one held call (present or future) run the real model. */
  release: () => void;
  /** Signals seen by calls, in order. */
  signals: AbortSignal[];
}

/**
 * Wraps a real deblurrer so each call waits for a permit from `release()` (to fill the queue,
 * or disconnect mid-job); a call whose signal fires while it waits rejects as the real one would
 * between tiles.
 */
export function controlledDeblurrer(real: Deblurrer): Controlled {
  let permits = 0;
  const held: (() => void)[] = [];
  const waiters: ((o: DeblurOptions | undefined) => void)[] = [];
  const signals: AbortSignal[] = [];
  const deblurrer: Deblurrer = {
    model: real.model,
    backend: real.backend,
    provider: real.provider,
    async deblur(image, options) {
      if (options?.signal) signals.push(options.signal);
      waiters.shift()?.(options);
      const signal = options?.signal;
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new AbortError());
        if (permits > 0) {
          permits--;
          return resolve();
        }
        const go = () => resolve();
        held.push(go);
        signal?.addEventListener(
          'abort',
          () => {
            const i = held.indexOf(go);
            if (i >= 0) held.splice(i, 1);
            reject(new AbortError());
          },
          { once: true },
        );
      });
      return real.deblur(image, options);
    },
    dispose: async () => {},
  };
  return {
    deblurrer,
    started: () => new Promise((resolve) => waiters.push(resolve)),
    release: () => {
      const next = held.shift();
      if (next) next();
      else permits++;
    },
    signals,
  };
}

// The 20000x20000 PNG fixture is shared with the sharp adapter's tests.
export { hugeWhitePng } from '../../sharp-plugin/test/helpers.js';
