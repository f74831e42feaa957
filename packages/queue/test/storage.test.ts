import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { StorageError } from '@sgenet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkLocation, fileStorage } from '../src/storage.js';

let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sgenet-storage-'));
  outside = await mkdtemp(join(tmpdir(), 'sgenet-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not yours');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('locations', () => {
  it.each([
    ['', /1 to 1024 characters/],
    ['/etc/passwd', /not absolute/],
    ['C:/x.png', /not absolute/],
    ['a/../../x', /no "\.\."/],
    ['..', /no "\.\."/],
    ['a//b', /no empty segment/],
    ['a\0b', /NUL/],
    ['out/.x.png.123.sgenet-tmp', /temporary files/],
    [42, /relative path/],
    ['x'.repeat(1025), /1 to 1024/],
  ])('refuses %j', (location, message) => {
    expect(() => checkLocation(location)).toThrow(message);
  });
  it('normalises separators and "." segments', () => {
    expect(checkLocation('a\\b/./c.png')).toBe('a/b/c.png');
  });
});

describe('fileStorage', () => {
  it('writes atomically: the output appears whole and no temporary file stays', async () => {
    const storage = fileStorage({ root });
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 255;
    await storage.write('deep/er/out.bin', data, { owner: 'job-1' });
    expect((await readFile(join(root, 'deep/er/out.bin'))).equals(data)).toBe(true);
    expect(await readdir(join(root, 'deep/er'))).toEqual(['out.bin']);
    expect(await storage.exists('deep/er/out.bin')).toBe(true);
    expect((await storage.read('deep/er/out.bin')).equals(data)).toBe(true);
  });

  it('removes what a killed attempt of the same job left before writing', async () => {
    const storage = fileStorage({ root });
    await mkdir(join(root, 'k'), { recursive: true });
    await writeFile(join(root, 'k/.out.png.job-7.sgenet-tmp'), 'half a file');
    await storage.write('k/out.png', Buffer.from('whole'), { owner: 'job-7' });
    expect(await readdir(join(root, 'k'))).toEqual(['out.png']);
    expect(await readFile(join(root, 'k/out.png'), 'utf8')).toBe('whole');
  });

  it('refuses a symbolic link that leads outside the root', async () => {
    await symlink(outside, join(root, 'escape'));
    const storage = fileStorage({ root });
    await expect(storage.read('escape/secret.txt')).rejects.toThrow(/outside the storage root/);
    await expect(storage.write('escape/new.png', Buffer.from('x'))).rejects.toBeInstanceOf(StorageError);
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('reports a missing input as a permanent StorageError and a large one against maxBytes', async () => {
    const storage = fileStorage({ root });
    const missing = await storage.read('nope.png').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StorageError);
    expect((missing as StorageError).permanent).toBe(true);
    expect((missing as StorageError).code).toBe('ERR_SGENET_STORAGE');
    await storage.write('big.bin', new Uint8Array(1000));
    await expect(storage.read('big.bin', { maxBytes: 999 })).rejects.toThrow(/1000 bytes, over the limit of 999/);
    await expect(storage.read('deep')).rejects.toThrow(/not a file/);
  });

  it('maps paths inside the root to locations and refuses the others', () => {
    const storage = fileStorage({ root });
    expect(storage.locationOf(join(root, 'a', 'b.png'))).toBe('a/b.png');
    expect(() => storage.locationOf(join(outside, 'b.png'))).toThrow(/outside the storage root/);
  });

  it('remove() is idempotent', async () => {
    const storage = fileStorage({ root });
    await storage.write('gone.png', Buffer.from('x'));
    await storage.remove('gone.png');
    await storage.remove('gone.png');
    expect(await storage.exists('gone.png')).toBe(false);
  });
});
