/**
 * PSF files for `sgenet kernel -o` and `sgenet deblur --kernel FILE`: PNG (or any image sharp
 * reads, as greyscale, black = zero) and the JSON format of `@sgenet/core`. Every failure is an
 * `InvalidKernelError` naming the file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';

import { InvalidKernelError, kernelFromGrey, kernelToGrey, kernelToJson, parseKernelJson } from '@sgenet/core';
import type { BlurKernel } from '@sgenet/core';
import sharp from 'sharp';

/** Reads a PSF file. */
export async function readKernelFile(file: string): Promise<BlurKernel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new InvalidKernelError(`${file}: cannot read the kernel file (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { cause });
  }
  if (bytes.length === 0) throw new InvalidKernelError(`${file}: the kernel file is empty; give a PSF as PNG or JSON`);
  if (extname(file).toLowerCase() === '.json' || bytes[0] === 0x7b /* { */) return parseKernelJson(bytes.toString('utf8'), file);
  let decoded;
  try {
    decoded = await sharp(bytes, { failOn: 'error' }).greyscale().raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new InvalidKernelError(`${file}: not a readable PSF image or JSON kernel (${(cause as Error).message.split('\n')[0]})`, { cause });
  }
  const { data, info } = decoded;
  // greyscale() keeps an alpha channel when there is one: take the grey samples only.
  const grey = info.channels === 1 ? data : data.filter((_, i) => i % info.channels === 0);
  return kernelFromGrey(grey, info.width, info.height, file);
}

/** Writes a PSF: `.json` as the JSON format, anything else as an 8-bit greyscale PNG (peak 255). */
export async function writeKernelFile(kernel: BlurKernel, file: string): Promise<void> {
  if (extname(file).toLowerCase() === '.json') {
    await writeFile(file, `${kernelToJson(kernel)}\n`);
    return;
  }
  await sharp(Buffer.from(kernelToGrey(kernel)), { raw: { width: kernel.width, height: kernel.height, channels: 1 } })
    .png()
    .toFile(file);
}
