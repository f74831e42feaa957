import { Readable } from 'node:stream';

import { createDeblurrer } from '@sgenet/core';
import { psnrAligned } from '@sgenet/core/synthetic';
import type { Deblurrer, RawImage } from '@sgenet/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ImageDecodeError, deblur } from '../src/index.js';
import { chartPair, laplacianVariance, rawOf } from './helpers.js';

let deblurrer: Deblurrer;

beforeAll(async () => {
  // One model for the whole file; 1 thread because the machine is shared.
  deblurrer = await createDeblurrer({ backend: 'ort', threads: 1 });
});
afterAll(async () => {
  await deblurrer?.dispose();
});

async function rawRgb(image: sharp.Sharp): Promise<RawImage> {
  const { data, info } = await image.clone().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

function meanOf(img: RawImage, channel: number, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      sum += img.data[(y * img.width + x) * img.channels + channel]!;
      n++;
    }
  }
  return sum / n;
}

describe('deblur(sharp(input)) returns a sharp instance the chain continues on', () => {
  it('continues with resize().webp() and leaves the input instance untouched', async () => {
    const { blurred } = chartPair(96, 64);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    const input = sharp(png).resize(48); // queued before deblur: applied first
    const result = await deblur(input, { deblurrer });
    expect(result).not.toBe(input);
    expect(result).toBeInstanceOf(sharp);
    const webp = await result.resize(24).webp({ quality: 80 }).toBuffer();
    const meta = await sharp(webp).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([24, 16]);
    // The original instance still renders its own pipeline.
    const again = await sharp(await input.png().toBuffer()).metadata();
    expect([again.width, again.height]).toEqual([48, 32]);
  });

  it('reports progress and does not dispose a deblurrer it was given', async () => {
    const { blurred } = chartPair(96, 64);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    const seen: { done: number; total: number }[] = [];
    await deblur(sharp(png), { deblurrer, onProgress: (p) => seen.push({ ...p }) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total);
    // Still usable afterwards.
    await expect(deblur(sharp(png), { deblurrer })).resolves.toBeInstanceOf(sharp);
  });

  it('creates (and disposes) its own deblurrer from backend/model options', async () => {
    const { blurred } = chartPair(64, 48);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    const result = await deblur(sharp(png), { backend: 'ort', threads: 1, tileSize: 128 });
    const meta = await result.metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([64, 48, 3]);
  });

  it('reads stream input', async () => {
    const { blurred } = chartPair(64, 48);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    const fromStream = sharp();
    Readable.from([png.subarray(0, 100), png.subarray(100)]).pipe(fromStream);
    const result = await deblur(fromStream, { deblurrer });
    expect((await result.metadata()).width).toBe(64);
  });
});

describe('image properties survive', () => {
  it('applies EXIF orientation first and resets it to 1', async () => {
    // 96x64 stored sideways: red block top-left as stored; Orientation 6 = rotate 90° clockwise.
    const w = 96;
    const h = 64;
    const data = new Uint8Array(w * h * 3).fill(235);
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 3; x++) {
        const i = (y * w + x) * 3;
        data[i] = 220; data[i + 1] = 30; data[i + 2] = 30;
      }
    }
    const jpeg = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .withExif({ IFD0: { Copyright: 'SGENet test' } })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const result = await deblur(sharp(jpeg), { deblurrer });
    const meta = await result.metadata();
    expect([meta.width, meta.height]).toEqual([64, 96]); // upright
    expect(meta.orientation ?? 1).toBe(1);
    const px = await rawRgb(result);
    // After a 90° clockwise turn the stored top-left block sits at the top right.
    const topRightRed = meanOf(px, 0, 40, 4, 60, 28) - meanOf(px, 1, 40, 4, 60, 28);
    const topLeftRed = meanOf(px, 0, 4, 4, 24, 28) - meanOf(px, 1, 4, 4, 24, 28);
    expect(topRightRed).toBeGreaterThan(100);
    expect(Math.abs(topLeftRed)).toBeLessThan(40);
    // Other EXIF travels with the result (written because keepMetadata defaults to true).
    const out = await sharp(await result.jpeg().toBuffer()).metadata();
    expect(out.exif?.includes(Buffer.from('SGENet test'))).toBe(true);
    expect(out.orientation ?? 1).toBe(1);
    // keepMetadata: false drops EXIF, still upright.
    const bare = await deblur(sharp(jpeg), { deblurrer, keepMetadata: false });
    const bareMeta = await bare.metadata();
    expect(bareMeta.exif).toBeUndefined();
    expect([bareMeta.width, bareMeta.height]).toEqual([64, 96]);
  });

  it('keeps the ICC profile of an RGB input, and only carries it with keepMetadata: false', async () => {
    const { blurred } = chartPair(64, 48);
    const p3 = await sharp(blurred.data, rawOf(blurred)).withIccProfile('p3').png().toBuffer();
    const icc = (await sharp(p3).metadata()).icc!;
    expect(icc.length).toBeGreaterThan(0);

    const kept = await deblur(sharp(p3), { deblurrer });
    expect((await sharp(await kept.png().toBuffer()).metadata()).icc?.equals(icc)).toBe(true);

    const stripped = await deblur(sharp(p3), { deblurrer, keepMetadata: false });
    expect((await stripped.metadata()).icc?.equals(icc)).toBe(true); // still there for colour conversion
    expect((await sharp(await stripped.png().toBuffer()).metadata()).hasProfile).toBe(false); // sharp's default
  });

  it('preserves alpha exactly', async () => {
    const { blurred } = chartPair(64, 48);
    const rgba = new Uint8Array(64 * 48 * 4);
    for (let i = 0; i < 64 * 48; i++) {
      rgba.set(blurred.data.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = (i % 64) * 4; // horizontal alpha ramp
    }
    const png = await sharp(rgba, { raw: { width: 64, height: 48, channels: 4 } }).png().toBuffer();
    const result = await deblur(sharp(png), { deblurrer });
    const meta = await result.metadata();
    expect(meta.channels).toBe(4);
    expect(meta.hasAlpha).toBe(true);
    const px = await rawRgb(result);
    expect(px.channels).toBe(4);
    for (let i = 0; i < 64 * 48; i++) expect(px.data[i * 4 + 3]).toBe(rgba[i * 4 + 3]);
  });

  it('preserves 16-bit depth and precision', async () => {
    const { blurred } = chartPair(64, 48);
    const u16 = new Uint16Array(blurred.data.length);
    for (let i = 0; i < u16.length; i++) u16[i] = Math.min(65535, blurred.data[i]! * 257 + ((i * 37) % 200));
    const png16 = await sharp(u16, rawOf(blurred)).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');

    const result = await deblur(sharp(png16), { deblurrer });
    expect((await result.metadata()).depth).toBe('ushort');
    // Written as 16-bit the way any sharp pipeline writes 16-bit PNG.
    const out16 = await result.clone().toColourspace('rgb16').png().toBuffer();
    expect((await sharp(out16).metadata()).depth).toBe('ushort');
    const { data, info } = await sharp(out16).toColourspace('rgb16').raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    expect((info as sharp.OutputInfo & { depth?: string }).depth).toBe('ushort');
    const values = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    // An 8-bit round trip would make every value a multiple of 257.
    let fine = 0;
    for (const v of values) if (v % 257 !== 0) fine++;
    expect(fine / values.length).toBeGreaterThan(0.5);
  });

  it('converts CMYK to sRGB the way sharp does, then deblurs', async () => {
    const { blurred } = chartPair(64, 48);
    const cmyk = await sharp(blurred.data, rawOf(blurred)).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const result = await deblur(sharp(cmyk), { deblurrer });
    const meta = await result.metadata();
    expect(meta.channels).toBe(3);
    expect(meta.space).toBe('srgb');
    const px = await rawRgb(result);
    // Same as deblurring sharp's own CMYK -> sRGB conversion of the file.
    const srgb = await rawRgb(sharp(cmyk));
    const viaSrgb = await rawRgb(await deblur(sharp(srgb.data, rawOf(srgb)), { deblurrer }));
    let diff = 0;
    for (let i = 0; i < px.data.length; i++) diff += Math.abs(px.data[i]! - viaSrgb.data[i]!);
    expect(diff / px.data.length).toBeLessThan(0.5);
    // And the colours are those of the sRGB original, not of raw CMYK numbers.
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(meanOf(srgb, c, 0, 0, 64, 48) - meanOf(blurred, c, 0, 0, 64, 48))).toBeLessThan(12);
    }
  });

  it('keeps grayscale as one channel, and grey + alpha as two', async () => {
    const { blurred } = chartPair(64, 48);
    const grey = new Uint8Array(64 * 48);
    for (let i = 0; i < grey.length; i++) grey[i] = blurred.data[i * 3 + 1]!;
    const greyPng = await sharp(grey, { raw: { width: 64, height: 48, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(greyPng).metadata()).channels).toBe(1);
    const result = await deblur(sharp(greyPng), { deblurrer });
    const meta = await result.metadata();
    expect(meta.channels).toBe(1);
    expect(meta.space).toBe('b-w');
    const rgb = await rawRgb(result);
    for (let i = 0; i < 64 * 48; i += 97) {
      expect(rgb.data[i * 3]).toBe(rgb.data[i * 3 + 1]);
      expect(rgb.data[i * 3]).toBe(rgb.data[i * 3 + 2]);
    }

    const ga = new Uint8Array(64 * 48 * 2);
    for (let i = 0; i < grey.length; i++) {
      ga[i * 2] = grey[i]!;
      ga[i * 2 + 1] = 255 - (i % 200);
    }
    const gaPng = await sharp(ga, { raw: { width: 64, height: 48, channels: 2 } }).toColourspace('b-w').png().toBuffer();
    const gaResult = await deblur(sharp(gaPng), { deblurrer });
    const gaMeta = await gaResult.metadata();
    expect(gaMeta.channels).toBe(2);
    expect(gaMeta.hasAlpha).toBe(true);
    const rgba = await rawRgb(gaResult);
    for (let i = 0; i < 64 * 48; i++) expect(rgba.data[i * 4 + 3]).toBe(ga[i * 2 + 1]);
  });
});

describe('the result is sharper than the blurred input', () => {
  // Moderate camera shake (9 px paths) on the project's test chart, through the default pipeline
  // (estimated kernel, deconvolution; the network when the estimate falls back to the identity).
  const cases = [11, 13].map((seed) => chartPair(192, 128, 9, seed));
  // Each chart goes through the sharp chain once; both tests read the same results.
  let restored: RawImage[] = [];
  beforeAll(async () => {
    restored = await Promise.all(cases.map(async ({ blurred }) => {
      const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
      return rawRgb(await deblur(sharp(png), { deblurrer, tileSize: 256 }));
    }));
  });

  it('raises the variance of the Laplacian', () => {
    cases.forEach(({ blurred }, i) => {
      const result = restored[i]!;
      expect(result.data).not.toEqual(blurred.data);
      expect(laplacianVariance(result)).toBeGreaterThan(1.25 * laplacianVariance(blurred));
    });
  });

  it('raises PSNR against the sharp original (shift-aligned: a blind kernel is known up to a translation)', () => {
    cases.forEach(({ sharp: original, blurred }, i) => {
      expect(psnrAligned(original, restored[i]!)).toBeGreaterThan(psnrAligned(original, blurred) + 0.3);
    });
  });
});

describe('errors are typed and say what to do', () => {
  it('validates options sharp-style', async () => {
    const img = sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } });
    await expect(deblur(img, { tileSize: 'big' as unknown as number })).rejects.toMatchObject({
      code: 'ERR_SGENET_INVALID_OPTION',
      message: 'Expected an integer between 64 and 8192 for tileSize but received "big" of type string',
    });
    await expect(deblur(img, { overlap: -1 })).rejects.toThrow(
      'Expected an integer between 0 and 1024 for overlap but received -1 of type number',
    );
    await expect(deblur(img, { concurrency: 1.5 })).rejects.toThrow(
      'Expected an integer between 1 and 16 for concurrency but received 1.5 of type number',
    );
    await expect(deblur(img, { tileSize: 64, overlap: 32 })).rejects.toThrow(
      'Expected an integer of at least 3 x overlap (96) for tileSize but received 64 of type number',
    );
    await expect(deblur(img, { onProgress: 5 as unknown as () => void })).rejects.toThrow(
      'Expected a function for onProgress but received 5 of type number',
    );
    await expect(deblur(img, { signal: {} as AbortSignal })).rejects.toThrow(
      'Expected an AbortSignal for signal but received [object Object] of type object',
    );
    await expect(deblur(img, { keepMetadata: 'yes' as unknown as boolean })).rejects.toThrow(
      'Expected a boolean for keepMetadata but received "yes" of type string',
    );
    await expect(deblur(img, { backend: 'cuda' as unknown as 'ort' })).rejects.toThrow(
      `Expected a Backend object, 'ort', 'tfjs' or 'auto' for backend but received "cuda" of type string`,
    );
    await expect(deblur(img, { deblurrer, backend: 'ort' })).rejects.toThrow(/for backend but received "ort"/);
    await expect(deblur(img, { tilesize: 256 } as unknown as object)).rejects.toThrow(
      /Expected one of deblurrer, .*keepMetadata, kernel, network, effort, estimation, deconvolution, onKernel for option name but received "tilesize" of type string/,
    );
    await expect(deblur('photo.jpg' as unknown as sharp.Sharp)).rejects.toThrow(
      'Expected a sharp instance, as returned by sharp(input) for image but received "photo.jpg" of type string',
    );
  });

  it('rejects non-images and truncated images with ImageDecodeError', async () => {
    const text = deblur(sharp(Buffer.from('this is not an image, just text\n')), { deblurrer });
    await expect(text).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(text).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_IMAGE', reason: 'unsupported-format' });

    const { blurred } = chartPair(96, 64);
    const jpeg = await sharp(blurred.data, rawOf(blurred)).jpeg().toBuffer();
    const truncated = deblur(sharp(jpeg.subarray(0, Math.floor(jpeg.length / 2))), { deblurrer });
    await expect(truncated).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_IMAGE', reason: 'undecodable' });
    await expect(truncated).rejects.toThrow(/truncated or corrupt/);
  });

  it('maps sharp limitInputPixels to ImageTooLargeError', async () => {
    const { blurred } = chartPair(96, 64);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    await expect(deblur(sharp(png, { limitInputPixels: 1000 }), { deblurrer })).rejects.toMatchObject({
      code: 'ERR_SGENET_IMAGE_TOO_LARGE',
    });
  });

  it('aborts before starting and between tiles', async () => {
    const { blurred } = chartPair(256, 192);
    const png = await sharp(blurred.data, rawOf(blurred)).png().toBuffer();
    const early = new AbortController();
    early.abort();
    await expect(deblur(sharp(png), { deblurrer, signal: early.signal })).rejects.toMatchObject({
      code: 'ERR_SGENET_ABORTED',
    });
    const mid = new AbortController();
    let tiles = 0;
    await expect(
      deblur(sharp(png), {
        deblurrer,
        tileSize: 64,
        signal: mid.signal,
        onProgress: () => {
          tiles++;
          mid.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'ERR_SGENET_ABORTED' });
    expect(tiles).toBeLessThan(12);
  });
});
