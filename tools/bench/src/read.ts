/**
 * Reading the benchmarks' inputs, shared by the reports: a photo as 8-bit RGB, and the dev
 * benchmark's kernel list (Levin et al. 2009, `levin09.json`, or a perturbed copy of it).
 */
import { validateKernel } from '@sgenet/core';
import type { BlurKernel, RawImage } from '@sgenet/core';
import sharp from 'sharp';

/** A photo (a file or an encoded buffer) as 8-bit sRGB, alpha dropped. */
export async function readRgb(input: string | Buffer): Promise<RawImage> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** The kernels of a `{ kernels: [{ size: [h, w], data }] }` JSON, each checked as core checks a kernel. */
export function loadKernels(json: unknown): BlurKernel[] {
  const list = (json as { kernels?: { size: [number, number]; data: number[] }[] }).kernels;
  if (!Array.isArray(list)) throw new Error('kernels JSON has no "kernels" list');
  return list.map((k, i) => validateKernel({ width: k.size[1], height: k.size[0], data: k.data }, `kernel ${i + 1}`));
}
