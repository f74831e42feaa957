import { AbortError, applyBlur, testChart, trajectoryKernel } from '@sgenet/core';
import type { Deblurrer, DeblurOptions, RawImage } from '@sgenet/core';
import sharp from 'sharp';

export { laplacianVariance } from '@sgenet/core';

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

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  let c = 0xffffffff;
  for (const b of out.subarray(4, 8 + data.length)) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/**
 * A valid, fully decodable white greyscale PNG of any size that compresses to almost nothing
 * (20000x20000 is about 400 kB and takes about half a second), for pixel-limit tests.
 */
export async function hugeWhitePng(width: number, height: number): Promise<Buffer> {
  const { createDeflate, constants } = await import('node:zlib');
  const deflate = createDeflate({ level: 9, strategy: constants.Z_RLE });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const row = Buffer.alloc(width + 1, 255);
  row[0] = 0; // filter: none
  for (let y = 0; y < height; y++) deflate.write(row);
  deflate.end();
  await ended;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(parts)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
