/**
 * The before/after strip: sharp | blurred | restored, made only from what the project generates
 * (core's testChart plus an SVG with text, lines and shapes rendered by sharp), blurred with core's
 * camera-shake generator (trajectoryKernel + applyBlur; the true kernel inset on the blurred
 * panel) and restored by the default pipeline (the estimated kernel inset on the restored panel).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { kernelToGrey } from '@sgenet/core';
import { applyBlur, psnr, psnrAligned, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
import type { BlurKernel, Deblurrer, KernelUsed, RawImage } from '@sgenet/core';
import sharp from 'sharp';

import { escapeXml } from './svg-chart.js';

const PANEL_W = 298;
const PANEL_H = 270;
const GAP = 3;
const CAPTION_H = 30;
export const STRIP_W = 3 * PANEL_W + 2 * GAP; // 900
export const STRIP_H = PANEL_H + CAPTION_H; // 300

export const FIGURE_KERNEL = { length: 25, seed: 4 } as const;
export const FIGURE_NOISE = 0.005;

function overlaySvg(w: number, h: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <rect x="8" y="${h - 92}" width="132" height="84" fill="#fbfaf5" stroke="#1b1b1b" stroke-width="2"/>
  <text x="16" y="${h - 64}" font-family="DejaVu Sans, sans-serif" font-weight="bold" font-size="22" fill="#141414">SGENet</text>
  <text x="16" y="${h - 44}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#141414">motion deblurring</text>
  <text x="16" y="${h - 28}" font-family="DejaVu Sans Mono, monospace" font-size="10" fill="#141414">npm run bench 0123</text>
  <text x="16" y="${h - 15}" font-family="DejaVu Serif, serif" font-style="italic" font-size="10" fill="#7a1c1c">Aa Bb Cc 4567 xyz</text>
  <polygon points="${w * 0.56},${h * 0.06} ${w * 0.66},${h * 0.24} ${w * 0.5},${h * 0.22}" fill="#c8372d" stroke="#111" stroke-width="1.5"/>
  <line x1="${w * 0.52}" y1="${h - 12}" x2="${w - 10}" y2="${h * 0.8}" stroke="#111" stroke-width="1"/>
  <line x1="${w * 0.52}" y1="${h - 20}" x2="${w - 10}" y2="${h * 0.8 - 8}" stroke="#1d4fa0" stroke-width="2"/>
  <circle cx="${w * 0.9}" cy="${h * 0.12}" r="14" fill="none" stroke="#111" stroke-width="3"/>
</svg>`;
}

/** The sharp source: core's test chart with text, lines and shapes drawn over it. */
export async function figureScene(width = PANEL_W, height = PANEL_H): Promise<RawImage> {
  const chart = testChart(width, height);
  const { data } = await sharp(Buffer.from(chart.data), { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(overlaySvg(width, height)) }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 3 };
}

/** The kernel as a small greyscale picture (max weight white), magnified `scale` times. */
async function kernelInset(k: BlurKernel, scale: number): Promise<Buffer> {
  return sharp(Buffer.from(kernelToGrey(k)), { raw: { width: k.width, height: k.height, channels: 1 } })
    .resize(k.width * scale, k.height * scale, { kernel: 'nearest' })
    .extend({ top: 1, bottom: 1, left: 1, right: 1, background: '#ffffff' })
    .png()
    .toBuffer();
}

export interface BeforeAfterResult {
  file: string;
  bytes: number;
  width: number;
  height: number;
  kernelSize: number;
  psnrBlurred: number;
  psnrRestored: number;
  /** Shift-aligned (best integer shift within ±5 px, interior), as blind results are scored. */
  psnrBlurredAligned: number;
  psnrRestoredAligned: number;
  estimatedKernelSize: number | null;
}

export async function writeBeforeAfter(deblurrer: Deblurrer, file: string): Promise<BeforeAfterResult> {
  const sharpImg = await figureScene();
  const kernel = trajectoryKernel(FIGURE_KERNEL);
  const blurred = applyBlur(sharpImg, kernel, { noise: FIGURE_NOISE, seed: 1 });
  let used: KernelUsed | undefined;
  const restored = await deblurrer.deblur(blurred, { kernel: 'auto', onKernel: (u) => { used = u; } });
  const psnrBlurred = psnr(sharpImg, blurred);
  const psnrRestored = psnr(sharpImg, restored);
  const psnrBlurredAligned = psnrAligned(sharpImg, blurred);
  const psnrRestoredAligned = psnrAligned(sharpImg, restored);
  const estimated = used && !used.identity ? used.kernel : undefined;
  const panel = (img: RawImage) =>
    sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
      raw: { width: img.width, height: img.height, channels: 3 },
    }).png().toBuffer();
  const scale = Math.max(1, Math.min(4, Math.floor(72 / kernel.width)));
  const inset = await kernelInset(kernel, scale);
  const insetSide = kernel.width * scale + 2;
  const estScale = estimated ? Math.max(1, Math.min(4, Math.floor(72 / estimated.width))) : 1;
  const estInset = estimated ? await kernelInset(estimated, estScale) : undefined;
  const caption = `<svg xmlns="http://www.w3.org/2000/svg" width="${STRIP_W}" height="${CAPTION_H}">
  ${[
    'sharp (generated test chart)',
    `blurred (true kernel): ${psnrBlurredAligned.toFixed(2)} dB`,
    estimated
      ? `restored (kernel estimated): ${psnrRestoredAligned.toFixed(2)} dB`
      : `restored (no kernel found): ${psnrRestoredAligned.toFixed(2)} dB`,
  ]
    .map((t, i) => `<text x="${i * (PANEL_W + GAP) + PANEL_W / 2}" y="20" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#111">${escapeXml(t)}</text>`)
    .join('\n  ')}
</svg>`;
  const png = await sharp({ create: { width: STRIP_W, height: STRIP_H, channels: 3, background: '#ffffff' } })
    .composite([
      { input: await panel(sharpImg), left: 0, top: 0 },
      { input: await panel(blurred), left: PANEL_W + GAP, top: 0 },
      { input: inset, left: 2 * PANEL_W + GAP - insetSide - 4, top: 4 },
      { input: await panel(restored), left: 2 * (PANEL_W + GAP), top: 0 },
      ...(estInset && estimated ? [{ input: estInset, left: STRIP_W - (estimated.width * estScale + 2) - 4, top: 4 }] : []),
      { input: Buffer.from(caption), left: 0, top: PANEL_H },
    ])
    // Palette-quantised (256 colours) to keep the committed figure small; PSNRs use the exact pixels.
    .png({ palette: true, colours: 256, effort: 10, compressionLevel: 9 })
    .toBuffer();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, png);
  return {
    file, bytes: png.length, width: STRIP_W, height: STRIP_H, kernelSize: kernel.width, psnrBlurred, psnrRestored,
    psnrBlurredAligned, psnrRestoredAligned, estimatedKernelSize: estimated ? estimated.width : null,
  };
}
