import { applyBlur, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
import type { RawImage } from '@sgenet/core';

import { pngChunk } from '../src/container.js';

export { laplacianVariance } from '@sgenet/core/synthetic';

/** The project's sharp test chart and a camera-shake-blurred copy of it (8-bit RGB). */
export function chartPair(width = 96, height = 64, length = 9, seed = 3): { sharp: RawImage; blurred: RawImage } {
  const chart = testChart(width, height);
  return { sharp: chart, blurred: applyBlur(chart, trajectoryKernel({ length, seed })) };
}

/** Sharp's raw input descriptor for a RawImage. */
export function rawOf(img: RawImage): { raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 } } {
  return { raw: { width: img.width, height: img.height, channels: img.channels } };
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
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(parts)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
