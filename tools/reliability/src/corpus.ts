/**
 * The hostile-input corpus: every file is made here, from the project's own scenes and code, with
 * no third-party file. Broken, oversized, unusual-but-valid images; bad models; bad kernel files.
 *
 * `node tools/reliability/dist/corpus.js DIR` writes the corpus and its manifest.json to DIR.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

import { encodeSingleNodeModel } from '@sgenet/bench/onnx-writer';
import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import sharp from 'sharp';

/** What an entry is fed to. */
export type EntryKind = 'image' | 'model' | 'kernel';

/**
 * The outcome every entry point must give: a restored image (`ok`, with the size it must have) or
 * a typed error with this stable core code. HTTP status and code are the middleware's.
 */
export type Expected =
  | { ok: true; width: number; height: number; note?: string }
  | { code: string; http?: { status: number; code: string }; message: RegExp };

export interface CorpusEntry {
  id: string;
  file: string;
  kind: EntryKind;
  what: string;
  expected: Expected;
}

const SCENE_W = 96;
const SCENE_H = 72;

/** Deterministic bytes (xorshift32), so the corpus is the same on every machine. */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s & 255;
  }
  return out;
}

function scene(width = SCENE_W, height = SCENE_H, seed = 7): sharp.Sharp {
  const img = applyBlur(deadLeaves(width, height, seed), trajectoryKernel({ length: 7, seed }));
  return sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } });
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG whose header declares width x height (grey, 8-bit) with `rows` rows of real data. */
function pngDeclaring(width: number, height: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.alloc(rows * (width + 1), 255);
  for (let y = 0; y < rows; y++) raw[y * (width + 1)] = 0;
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The whole 20000 x 20000 white image: 400 MB of pixels in about 400 kB. */
function decompressionBomb(side: number): Buffer {
  return pngDeclaring(side, side, side);
}

const notImage = /not an image in a supported format/;
const undecodable = /corrupt|truncated|cannot be decoded|re-export|undecodable|premature|Decoding failed/i;

/** Writes the corpus into `dir`; returns its manifest. */
export async function buildCorpus(dir: string): Promise<CorpusEntry[]> {
  await mkdir(dir, { recursive: true });
  const entries: CorpusEntry[] = [];
  const add = async (id: string, name: string, kind: EntryKind, what: string, bytes: Uint8Array, expected: Expected) => {
    await writeFile(join(dir, name), bytes);
    entries.push({ id, file: name, kind, what, expected });
  };
  const jpeg = await scene().jpeg({ quality: 90 }).toBuffer();
  const png = await scene().png().toBuffer();
  const webp = await scene().webp({ quality: 90 }).toBuffer();
  const sceneOk: Expected = { ok: true, width: SCENE_W, height: SCENE_H };

  // ----------------------------------------------------------------------- broken files
  await add('zero-bytes', 'empty.jpg', 'image', 'zero bytes', Buffer.alloc(0),
    { code: 'ERR_SGENET_INVALID_IMAGE', http: { status: 400, code: 'ERR_SGENET_EMPTY_FILE' }, message: /empty/ });
  await add('text', 'notes.png', 'image', 'text with an image extension', Buffer.from('These are my holiday notes, not a picture.\n'),
    { code: 'ERR_SGENET_INVALID_IMAGE', http: { status: 415, code: 'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE' }, message: notImage });
  await add('random', 'random.jpg', 'image', 'random bytes', randomBytes(4096, 99),
    { code: 'ERR_SGENET_INVALID_IMAGE', http: { status: 415, code: 'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE' }, message: notImage });
  for (const [format, bytes] of [['jpeg', jpeg], ['png', png], ['webp', webp]] as const) {
    await add(`truncated-${format}`, `truncated.${format === 'jpeg' ? 'jpg' : format}`, 'image', `truncated ${format.toUpperCase()} (first half)`,
      bytes.subarray(0, Math.floor(bytes.length / 2)),
      { code: 'ERR_SGENET_INVALID_IMAGE', http: { status: 422, code: 'ERR_SGENET_UNDECODABLE_IMAGE' }, message: undecodable });
  }

  // ----------------------------------------------------------------------- oversized
  await add('huge-header', 'huge-header.png', 'image', 'PNG header declaring 50000 x 50000 (2.5 GP), 1 row of data', pngDeclaring(50000, 50000, 1),
    { code: 'ERR_SGENET_IMAGE_TOO_LARGE', http: { status: 413, code: 'ERR_SGENET_IMAGE_TOO_LARGE' }, message: /over the limit|more pixels than the limit/ });
  await add('bomb', 'bomb.png', 'image', 'decompression bomb: a valid 20000 x 20000 PNG of 400 kB', decompressionBomb(20000),
    { code: 'ERR_SGENET_IMAGE_TOO_LARGE', http: { status: 413, code: 'ERR_SGENET_IMAGE_TOO_LARGE' }, message: /over the limit|more pixels than the limit/ });

  // ----------------------------------------------------------------------- unusual but valid
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="96" height="72">
  <image href="http://127.0.0.1:9/tracker.png" width="96" height="72"/>
  <image xlink:href="file:///etc/passwd" width="96" height="72"/>
  <rect width="48" height="36" fill="#c33"/>
</svg>\n`;
  await add('svg-external', 'external.svg', 'image', 'SVG with external (http, file) references', Buffer.from(svg),
    { code: 'ERR_SGENET_INVALID_IMAGE', http: { status: 415, code: 'ERR_SGENET_UNSUPPORTED_MEDIA_TYPE' }, message: notImage });
  const frameA = await scene(SCENE_W, SCENE_H, 7).png().toBuffer();
  const frameB = await scene(SCENE_W, SCENE_H, 8).png().toBuffer();
  await add('animated-gif', 'animated.gif', 'image', 'animated GIF, 2 frames (the first is restored)',
    await sharp([frameA, frameB], { join: { animated: true } }).gif().toBuffer(),
    { ok: true, width: SCENE_W, height: SCENE_H, note: 'first frame' });
  await add('animated-webp', 'animated.webp', 'image', 'animated WebP, 2 frames (the first is restored)',
    await sharp([frameA, frameB], { join: { animated: true } }).webp().toBuffer(),
    { ok: true, width: SCENE_W, height: SCENE_H, note: 'first frame' });
  await add('png16', 'sixteen-bit.png', 'image', '16-bit RGB PNG (16-bit PNG out)', await scene().toColourspace('rgb16').png().toBuffer(),
    { ok: true, width: SCENE_W, height: SCENE_H, note: '16-bit kept' });
  await add('cmyk', 'cmyk.jpg', 'image', 'CMYK JPEG', await scene().toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer(), sceneOk);
  await add('grey-alpha', 'grey-alpha.png', 'image', 'greyscale with alpha',
    await scene().toColourspace('b-w').ensureAlpha(0.5).png().toBuffer(), { ok: true, width: SCENE_W, height: SCENE_H, note: 'grey and alpha kept' });
  await add('one-pixel', 'one-pixel.png', 'image', '1 x 1', await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer(),
    { ok: true, width: 1, height: 1 });
  await add('tall', 'tall.png', 'image', '1 x 10000', await sharp(randomBytes(10000 * 3, 5), { raw: { width: 1, height: 10000, channels: 3 } }).png().toBuffer(),
    { ok: true, width: 1, height: 10000 });
  await add('wide', 'wide.png', 'image', '10000 x 1', await sharp(randomBytes(10000 * 3, 6), { raw: { width: 10000, height: 1, channels: 3 } }).png().toBuffer(),
    { ok: true, width: 10000, height: 1 });
  await add('exif-rotated', 'rotated.jpg', 'image', 'EXIF orientation 6 (stored 96 x 72, shown 72 x 96)',
    await scene().jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(),
    { ok: true, width: SCENE_H, height: SCENE_W, note: 'upright' });

  // ----------------------------------------------------------------------- bad models
  await add('model-corrupt', 'corrupt.onnx', 'model', 'corrupted model file (random bytes)', randomBytes(20000, 3),
    { code: 'ERR_SGENET_MODEL', http: { status: 500, code: 'ERR_SGENET_INTERNAL' }, message: /model/i });
  await add('model-metadata', 'wrong-metadata.onnx', 'model', 'valid ONNX (Identity) whose metadata breaks the contract (multiple "eight")',
    encodeSingleNodeModel({
      opType: 'Identity',
      inputs: [{ name: 'input', shape: [1, 3, 'height', 'width'] }],
      outputs: [{ name: 'output', shape: [1, 3, 'height', 'width'] }],
      initializers: [],
      nodeInputs: ['input'],
      attributes: [],
      metadata: { name: 'not-sgenet', multiple: 'eight', receptive_field: '-3' },
    }),
    { code: 'ERR_SGENET_MODEL', http: { status: 500, code: 'ERR_SGENET_INTERNAL' }, message: /metadata/ });

  // ----------------------------------------------------------------------- bad kernel files
  const kernelError = (message: RegExp): Expected => ({ code: 'ERR_SGENET_INVALID_KERNEL', message });
  await add('kernel-empty', 'empty.psf.json', 'kernel', 'empty kernel file', Buffer.alloc(0), kernelError(/empty/));
  await add('kernel-zero', 'zero.psf.json', 'kernel', 'all-zero kernel', Buffer.from(JSON.stringify({ width: 3, height: 3, data: Array(9).fill(0) })), kernelError(/all values are zero/));
  await add('kernel-nan', 'nan.psf.json', 'kernel', 'NaN in the kernel (JSON has no NaN: the file is not JSON)', Buffer.from('{"width":1,"height":1,"data":[NaN]}'), kernelError(/not valid JSON/));
  await add('kernel-negative', 'negative.psf.json', 'kernel', 'negative value', Buffer.from(JSON.stringify({ width: 3, height: 1, data: [0.5, -0.2, 0.7] })), kernelError(/negative/));
  await add('kernel-huge', 'huge.psf.json', 'kernel', 'huge kernel (5000 x 5000 declared)', Buffer.from(JSON.stringify({ width: 5000, height: 5000, data: [1] })), kernelError(/between 1 and 1023/));
  await add('kernel-text', 'words.psf.json', 'kernel', 'non-numeric values', Buffer.from(JSON.stringify({ width: 2, height: 1, data: ['a', 'b'] })), kernelError(/not a number/));
  await add('kernel-too-big', 'too-big.psf.png', 'kernel', 'kernel PNG larger than the photo (120 x 120 for a 96 x 72 photo)',
    await sharp((() => {
      const grey = Buffer.alloc(120 * 120);
      for (let y = 58; y < 63; y++) grey.fill(255, y * 120 + 58, y * 120 + 63);
      return grey;
    })(), { raw: { width: 120, height: 120, channels: 1 } })
      .png().toBuffer(),
    kernelError(/larger than the 96 x 72 photo/));
  // The photo the kernel files are tried on.
  await writeFile(join(dir, 'photo-for-kernels.png'), png);
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(entries.map((e) => ({ ...e, expected: 'message' in e.expected ? { ...e.expected, message: String(e.expected.message) } : e.expected })), null, 2)}\n`);
  return entries;
}

/** The photo kernel-file entries are applied to. */
export const KERNEL_PHOTO = 'photo-for-kernels.png';

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node tools/reliability/dist/corpus.js DIR\n');
    process.exitCode = 2;
  } else {
    const entries = await buildCorpus(resolve(dir));
    process.stdout.write(`${entries.length} entries written to ${resolve(dir)} (manifest.json)\n`);
  }
}
