import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { ImageDecodeError, openImage, sniffImageFormat } from '../src/index.js';
import { hugeWhitePng } from './helpers.js';

const small = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#5080c0' } });

describe('sniffImageFormat', () => {
  it('recognises raster formats by magic bytes and nothing else', async () => {
    expect(sniffImageFormat(await small().png().toBuffer())).toBe('png');
    expect(sniffImageFormat(await small().jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImageFormat(await small().webp().toBuffer())).toBe('webp');
    expect(sniffImageFormat(await small().gif().toBuffer())).toBe('gif');
    expect(sniffImageFormat(await small().tiff().toBuffer())).toBe('tiff');
    expect(sniffImageFormat(await small().avif({ effort: 0 }).toBuffer())).toBe('avif');
    expect(sniffImageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffImageFormat(Buffer.from('BM\0\0\0\0'))).toBeUndefined();
    expect(sniffImageFormat(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('openImage', () => {
  it('returns a sharp instance, metadata and upright size', async () => {
    const jpeg = await small().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const opened = await openImage(jpeg, { limitInputPixels: 10_000 });
    expect(opened.format).toBe('jpeg');
    expect([opened.width, opened.height]).toEqual([30, 40]);
    expect(opened.metadata.orientation).toBe(6);
    expect((await opened.image.metadata()).width).toBe(40);
  });

  it('types every failure', async () => {
    await expect(openImage(Buffer.alloc(0))).rejects.toMatchObject({ code: 'ERR_SGENET_INVALID_IMAGE', reason: 'empty' });
    await expect(openImage(Buffer.from('hello, world\n'))).rejects.toMatchObject({
      reason: 'unsupported-format',
      message: expect.stringMatching(/not an image in a supported format \(JPEG, PNG, WEBP, GIF, TIFF, AVIF, HEIF\)/),
    });
    const gif = await small().gif().toBuffer();
    await expect(openImage(gif, { formats: ['jpeg', 'png'] })).rejects.toThrow(
      'GIF images are not accepted here: send JPEG, PNG',
    );
    const png = await small().png().toBuffer();
    const headerOnly = png.subarray(0, 20); // signature + part of IHDR
    const broken = openImage(headerOnly);
    await expect(broken).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(broken).rejects.toMatchObject({ reason: 'undecodable' });
  });

  it('rejects a 20000x20000 PNG from its header with ImageTooLargeError', async () => {
    const huge = await hugeWhitePng(20000, 20000);
    expect(huge.length).toBeLessThan(2_000_000);
    expect((await sharp(huge, { limitInputPixels: false }).metadata()).width).toBe(20000);
    const started = Date.now();
    await expect(openImage(huge, { limitInputPixels: 24_000_000 })).rejects.toMatchObject({
      code: 'ERR_SGENET_IMAGE_TOO_LARGE',
      message: 'The image is 20000x20000 = 400000000 pixels, over the limit of 24000000 pixels: downscale it first',
    });
    // sharp's own default limit (268 MP) applies when none is given.
    await expect(openImage(huge)).rejects.toMatchObject({ code: 'ERR_SGENET_IMAGE_TOO_LARGE' });
    expect(Date.now() - started).toBeLessThan(5000); // header only, nothing decoded
  });

  it('validates its options', async () => {
    const png = await small().png().toBuffer();
    await expect(openImage(png, { limitInputPixels: -5 })).rejects.toThrow(
      'Expected a positive integer or false for limitInputPixels but received -5 of type number',
    );
    await expect(openImage(png, { formats: ['bmp'] as unknown as ['png'] })).rejects.toThrow(/for formats but received bmp/);
    await expect(openImage('x.png' as unknown as Buffer)).rejects.toThrow(
      'Expected a Buffer or Uint8Array for input but received "x.png" of type string',
    );
  });
});
