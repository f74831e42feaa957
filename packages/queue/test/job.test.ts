import { InvalidImageError, InvalidKernelError, StorageError } from '@sgenet/core';
import { deblurUpload } from '@sgenet/express';
import { deblur, encodeImage } from '@sgenet/sharp';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { checkJobData, decodeFailure, encodeFailure, formatOfLocation } from '../src/job.js';
import { redisUrlOptions } from '../src/options.js';

describe('job data', () => {
  it('keeps the known fields and turns a PSF into plain numbers summing to 1', () => {
    const data = checkJobData({
      input: 'in/a.jpg', output: 'out/a.webp', quality: 80, network: true, overwrite: false,
      kernel: { width: 3, height: 1, data: new Float32Array([1, 2, 1]) },
    });
    expect(data).toEqual({ input: 'in/a.jpg', output: 'out/a.webp', quality: 80, network: true, overwrite: false, kernel: { width: 3, height: 1, data: [0.25, 0.5, 0.25] } });
    // What travels through Redis is JSON: the kernel must survive it.
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });
  it('keeps a maxKernelSize up to 401', () => {
    expect(checkJobData({ input: 'a.png', output: 'b.png', maxKernelSize: 401 })).toMatchObject({ maxKernelSize: 401 });
  });
  it('keeps effort, one of standard and best', () => {
    expect(checkJobData({ input: 'a.png', output: 'b.png', effort: 'best' })).toEqual({ input: 'a.png', output: 'b.png', effort: 'best' });
  });
  it.each([
    [{ input: 'a.png', output: 'b.png', effort: 'max' }, /Expected one of 'standard', 'best' for effort/],
    [{ input: 'a.png' }, /output/],
    [{ input: 'a.png', output: 'a.png' }, /other than the input/],
    [{ input: '../a.png', output: 'b.png' }, /no "\.\."/],
    [{ input: 'a.png', output: 'b.png', quality: 0 }, /quality/],
    [{ input: 'a.png', output: 'b.png', maxKernelSize: 20 }, /odd/],
    [{ input: 'a.png', output: 'b.png', maxKernelSize: 403 }, /between 5 and 401 for maxKernelSize/],
    [{ input: 'a.png', output: 'b.png', format: 'gif' }, /format/],
    [{ input: 'a.png', output: 'b.png', network: 'yes' }, /network/],
    [{ input: 'a.png', output: 'b.png', rm: true }, /job field/],
    [{ input: 'a.png', output: 'b.png', kernel: { width: 2, height: 1, data: [0, 0] } }, /all values are zero/],
    [{ input: 'a.png', output: 'b.png', kernel: { width: 1, height: 1, data: [Number.NaN] } }, /NaN/],
    [null, /an object/],
  ])('refuses %j', (data, message) => {
    expect(() => checkJobData(data)).toThrow(message);
  });
  it('reads the output format from the extension', () => {
    expect(formatOfLocation('x/y.JPG')).toBe('jpeg');
    expect(formatOfLocation('x/y.webp')).toBe('webp');
    expect(formatOfLocation('x/y.tif')).toBe('png');
  });
});

describe('failures through failedReason', () => {
  it.each([
    new InvalidImageError('The input is empty: send an image'),
    new InvalidKernelError('k.json: value 3 is negative'),
    new StorageError('Nothing is stored at "a": check the path'),
  ])('keeps the code and message of %s', (err) => {
    expect(decodeFailure(encodeFailure(err))).toEqual({ code: err.code, message: err.message });
  });
  it('labels foreign errors ERR_SGENET_JOB_FAILED', () => {
    expect(decodeFailure(encodeFailure(new Error('ECONNRESET\nstack')))).toEqual({ code: 'ERR_SGENET_JOB_FAILED', message: 'ECONNRESET' });
    expect(decodeFailure('job stalled more than allowable limit').code).toBe('ERR_SGENET_JOB_FAILED');
  });
});

describe('Redis URLs', () => {
  it('parses host, port, credentials and database', () => {
    expect(redisUrlOptions('redis://u:p%40ss@10.0.0.2:6390/3')).toEqual({ host: '10.0.0.2', port: 6390, username: 'u', password: 'p@ss', db: 3, maxRetriesPerRequest: null });
    expect(redisUrlOptions('rediss://cache')).toMatchObject({ host: 'cache', port: 6379, tls: {} });
  });
  it.each(['http://x', 'localhost:6379', 'redis://h/abc'])('refuses %s', (url) => {
    expect(() => redisUrlOptions(url)).toThrow(/Redis URL/);
  });
});

describe('one set of checks: a job refuses a bad value as the sharp plugin and the middleware do', () => {
  /** The error a call throws (or its promise rejects with), as code and message. */
  async function refusal(call: () => unknown): Promise<{ code: string; message: string }> {
    try {
      await call();
    } catch (err) {
      const { code, message } = err as { code: string; message: string };
      return { code, message };
    }
    throw new Error('expected a refusal');
  }
  const job = (extra: object) => () => checkJobData({ input: 'a.png', output: 'b.png', ...extra });
  const image = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } });

  it('format: the job\'s and encodeImage\'s, from core\'s OUTPUT_FORMATS', async () => {
    const fromJob = await refusal(job({ format: 'gif' }));
    expect(fromJob).toEqual({ code: 'ERR_SGENET_INVALID_OPTION', message: `Expected one of 'png', 'jpeg', 'webp' for format but received "gif" of type string` });
    expect(await refusal(() => encodeImage(image(), 'gif' as never))).toEqual(fromJob);
  });

  it.each([{ quality: 0 }, { quality: 1.5 }])('%j: the job, encodeImage and the middleware', async (bad) => {
    const fromJob = await refusal(job(bad));
    expect(fromJob.code).toBe('ERR_SGENET_INVALID_OPTION');
    expect(await refusal(() => encodeImage(image(), 'png', bad))).toEqual(fromJob);
    expect(await refusal(() => deblurUpload(bad))).toEqual(fromJob);
  });

  it.each([{ tileSize: 32 }, { tileSize: 9000 }, { overlap: -1 }, { overlap: 2000 }])('%j: the job, the sharp plugin and the middleware', async (bad) => {
    const fromJob = await refusal(job(bad));
    expect(fromJob.code).toBe('ERR_SGENET_INVALID_OPTION');
    expect(await refusal(() => deblur(image(), bad))).toEqual(fromJob);
    expect(await refusal(() => deblurUpload(bad))).toEqual(fromJob);
  });
});
