import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

import type { RawImage } from '@sgenet/core';
import sharp from 'sharp';

/** Variance of the 4-neighbour Laplacian of the luma: the usual focus/sharpness measure. */
export function laplacianVariance(img: RawImage): number {
  const { width: w, height: h, channels: c, data } = img;
  const g = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    g[i] = c >= 3 ? 0.299 * data[i * c]! + 0.587 * data[i * c + 1]! + 0.114 * data[i * c + 2]! : data[i * c]!;
  }
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const l = g[(y - 1) * w + x]! + g[(y + 1) * w + x]! + g[y * w + x - 1]! + g[y * w + x + 1]! - 4 * g[y * w + x]!;
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const m = s / n;
  return s2 / n - m * m;
}

export async function decodeRgb(bytes: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
