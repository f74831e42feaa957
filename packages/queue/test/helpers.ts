import { randomUUID } from 'node:crypto';

import { describeKernelUsed } from '@sgenet/core';
import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import type { Deblurrer, DeblurOptions, RawImage } from '@sgenet/core';
import { deblur, encodeImage, openImage } from '@sgenet/sharp';
import sharp from 'sharp';

/** A project-made scene (dead leaves) blurred by a project-made camera-shake kernel, as PNG. */
export async function blurredScenePng(width = 160, height = 120, seed = 5): Promise<Buffer> {
  const img = applyBlur(deadLeaves(width, height, seed), trajectoryKernel({ length: 9, seed }));
  return sharp(Buffer.from(img.data), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export async function decodeRgb(bytes: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

/** The same restoration run in this process, without any queue: the truth a job must match. */
export async function deblurDirectly(
  bytes: Buffer, deblurrer: Deblurrer, options: Pick<DeblurOptions, 'kernel' | 'effort'> = {},
): Promise<RawImage> {
  const opened = await openImage(bytes);
  const out = await encodeImage(await deblur(opened.image, { deblurrer, ...options }), 'png', { metadata: opened.metadata });
  return decodeRgb(out);
}

/** How an in-process `deblur()` with the defaults describes the kernel it used (as job results do). */
export async function kernelUsedDirectly(bytes: Buffer, deblurrer: Deblurrer): Promise<string> {
  const opened = await openImage(bytes);
  let used = 'unreported';
  await deblur(opened.image, { deblurrer, onKernel: (u) => { used = describeKernelUsed(u); } });
  return used;
}

export function maxDifference(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

/** A queue name of its own per test, so tests never see each other's jobs. */
export function uniqueQueue(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
