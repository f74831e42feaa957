/**
 * The before/after figure: sharp | blurred | restored, made only from what the project generates.
 * The scene is a street front drawn as an SVG (buildings, windows, a shop sign with text, a street
 * sign, a lamp) over core's dead-leaves field (the flower bed, and a weathering grain over
 * everything), rendered by sharp at 2400x1600, the size of a phone photo cut down: at that size
 * camera shake is tens of pixels long. It is blurred with core's camera-shake generator
 * (trajectoryKernel + applyBlur; a 63 px kernel, inset on the blurred panel) and restored by the
 * default pipeline (the estimated kernel inset on the restored panel). Top row: the whole photos,
 * 1/8 scale; bottom row: the shop sign, 1/2 scale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { kernelToGrey } from '@sgenet/core';
import { applyBlur, deadLeaves, psnr, psnrAligned, trajectoryKernel } from '@sgenet/core/synthetic';
import type { BlurKernel, Deblurrer, KernelUsed, RawImage } from '@sgenet/core';
import sharp from 'sharp';

import { escapeXml } from './svg-chart.js';

/** The scene's size: 3:2, the drawing's own units are 1200x800. */
export const SCENE_W = 2400;
export const SCENE_H = 1600;
const PANEL_W = 298;
/** Top row: the whole photo at 1/8 (2400x1600 → 298x199). */
const OVERVIEW_H = Math.round((PANEL_W * SCENE_H) / SCENE_W);
/** Bottom row: a 596x400 detail of the photo at 1/2, its top-left corner at DETAIL_X, DETAIL_Y. */
const DETAIL_H = 200;
const DETAIL_X = 620;
const DETAIL_Y = 900;
const GAP = 3;
const CAPTION_H = 30;
export const STRIP_W = 3 * PANEL_W + 2 * GAP; // 900
export const STRIP_H = OVERVIEW_H + GAP + DETAIL_H + CAPTION_H; // 432

/**
 * The figure's camera path (its kernel is 63x63 px): on this scene the estimate comes out 65 px and
 * restores most of the true kernel's gain. Not every path does as well: figure-paths.ts runs this
 * scene under eight paths of 57-123 px (BENCHMARKS.md, "Before / after").
 */
export const FIGURE_KERNEL = { length: 120, seed: 4 } as const;
export const FIGURE_NOISE = 0.005;

/** The figure's shake on a scene: `kernel` applied by core's `applyBlur` with the figure's noise and seed. */
export function blurLikeFigure(scene: RawImage, kernel: BlurKernel): RawImage {
  return applyBlur(scene, kernel, { noise: FIGURE_NOISE, seed: 1 });
}

/** The street front, in the drawing's units (1200x800), scaled to the output by the viewBox. */
function streetSvg(width: number, height: number): string {
  // A fixed linear congruential sequence: the same street every time.
  let state = 7;
  const rnd = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const parts: string[] = [
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#6f93c4"/><stop offset="1" stop-color="#e9d6b8"/></linearGradient>
    <linearGradient id="glass" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2d3e52"/><stop offset="1" stop-color="#8fa7bf"/></linearGradient></defs>`,
    '<rect width="1200" height="800" fill="url(#sky)"/>',
  ];
  const facades = ['#b9826a', '#d8c7a3', '#8d8f96', '#c46f52', '#e2dccd', '#7d6a5d'];
  for (let x = -20, i = 0; x < 1200; i++) {
    const bw = 140 + Math.floor(rnd() * 160), top = 90 + Math.floor(rnd() * 200);
    parts.push(`<rect x="${x}" y="${top}" width="${bw}" height="800" fill="${facades[i % facades.length]}" stroke="#2a2522" stroke-width="3"/>`);
    const ww = 18 + Math.floor(rnd() * 10), wh = 26 + Math.floor(rnd() * 12);
    for (let y = top + 24; y < 560; y += wh + 22) {
      for (let wx = x + 16; wx + ww < x + bw - 10; wx += ww + 16) {
        parts.push(`<rect x="${wx}" y="${y}" width="${ww}" height="${wh}" fill="url(#glass)" stroke="#f4f1ea" stroke-width="3"/>`,
          `<line x1="${wx + ww / 2}" y1="${y}" x2="${wx + ww / 2}" y2="${y + wh}" stroke="#f4f1ea" stroke-width="2"/>`);
      }
    }
    x += bw + 6;
  }
  const sans = 'DejaVu Sans, sans-serif';
  parts.push(
    '<rect x="300" y="470" width="520" height="170" fill="#233a2f" stroke="#111" stroke-width="4"/>',
    '<rect x="320" y="485" width="480" height="62" fill="#f3ead2" stroke="#111" stroke-width="3"/>',
    '<text x="560" y="533" text-anchor="middle" font-family="DejaVu Serif, serif" font-weight="bold" font-size="44" fill="#8a1f17">SGENet BAKERY</text>',
    `<text x="560" y="580" text-anchor="middle" font-family="${sans}" font-size="22" fill="#f3ead2">OPEN 7 - 19 · fresh bread daily</text>`,
    '<rect x="340" y="595" width="200" height="45" fill="#d9e3e8" stroke="#111" stroke-width="2"/>',
    '<rect x="580" y="595" width="200" height="45" fill="#d9e3e8" stroke="#111" stroke-width="2"/>',
    '<rect x="980" y="300" width="10" height="420" fill="#1e1e1e"/><circle cx="985" cy="295" r="22" fill="#f6e7a8" stroke="#1e1e1e" stroke-width="5"/>',
    '<rect x="880" y="380" width="210" height="46" rx="6" fill="#1f5fa8" stroke="#fff" stroke-width="4"/>',
    `<text x="985" y="412" text-anchor="middle" font-family="${sans}" font-weight="bold" font-size="24" fill="#fff">Kodak Street</text>`,
    '<polygon points="120,420 170,505 70,505" fill="#f2c230" stroke="#111" stroke-width="4"/>',
    `<text x="120" y="495" text-anchor="middle" font-family="${sans}" font-weight="bold" font-size="40" fill="#111">!</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1200 800">${parts.join('')}</svg>`;
}

/** A project image as a sharp pipeline input (8-bit RGB, raw). */
function rawSharp(img: RawImage): sharp.Sharp {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  });
}

/**
 * The sharp source: the street front above a flower bed of dead leaves (its bottom 17.5%), and a
 * second dead-leaves field, greyscale, soft-light over everything as weathering grain.
 */
export async function figureScene(width = SCENE_W, height = SCENE_H): Promise<RawImage> {
  const bed = await rawSharp(deadLeaves(width, height, 11)).modulate({ saturation: 0.45, hue: 40 }).linear(0.8, 10).png().toBuffer();
  const keep = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${Math.round(height * 0.825)}" fill="#fff"/></svg>`;
  const street = await sharp(Buffer.from(streetSvg(width, height))).composite([{ input: Buffer.from(keep), blend: 'dest-in' }]).png().toBuffer();
  const grain = await rawSharp(deadLeaves(width, height, 12)).greyscale().ensureAlpha(0.35).png().toBuffer();
  const { data } = await sharp(bed)
    .composite([{ input: street }, { input: grain, blend: 'soft-light' }])
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
  const blurred = blurLikeFigure(sharpImg, kernel);
  let used: KernelUsed | undefined;
  const restored = await deblurrer.deblur(blurred, { kernel: 'auto', onKernel: (u) => { used = u; } });
  const psnrBlurred = psnr(sharpImg, blurred);
  const psnrRestored = psnr(sharpImg, restored);
  const psnrBlurredAligned = psnrAligned(sharpImg, blurred);
  const psnrRestoredAligned = psnrAligned(sharpImg, restored);
  const estimated = used && !used.identity ? used.kernel : undefined;
  const overview = (img: RawImage) => rawSharp(img).resize(PANEL_W, OVERVIEW_H, { kernel: 'lanczos3' }).png().toBuffer();
  const detail = (img: RawImage) => rawSharp(img).extract({ left: DETAIL_X, top: DETAIL_Y, width: 2 * PANEL_W, height: 2 * DETAIL_H }).resize(PANEL_W, DETAIL_H, { kernel: 'lanczos3' }).png().toBuffer();
  // Each kernel magnified to about 72 px (at most 4x), with its 1 px frame.
  const inset = async (k: BlurKernel) => {
    const scale = Math.max(1, Math.min(4, Math.floor(72 / k.width)));
    return { png: await kernelInset(k, scale), side: k.width * scale + 2 };
  };
  const trueInset = await inset(kernel);
  const estInset = estimated ? await inset(estimated) : undefined;
  const caption = `<svg xmlns="http://www.w3.org/2000/svg" width="${STRIP_W}" height="${CAPTION_H}">
  ${[
    `sharp (project-made, ${SCENE_W}x${SCENE_H})`,
    `blurred (true kernel ${kernel.width} px): ${psnrBlurredAligned.toFixed(2)} dB`,
    estimated
      ? `restored (estimated ${estimated.width} px): ${psnrRestoredAligned.toFixed(2)} dB`
      : `restored (no kernel found): ${psnrRestoredAligned.toFixed(2)} dB`,
  ]
    .map((t, i) => `<text x="${i * (PANEL_W + GAP) + PANEL_W / 2}" y="20" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#111">${escapeXml(t)}</text>`)
    .join('\n  ')}
</svg>`;
  const column = (i: number) => i * (PANEL_W + GAP);
  const insetAt = (i: number, k: { png: Buffer; side: number }) => ({ input: k.png, left: column(i) + PANEL_W - k.side - 4, top: 4 });
  const images = [sharpImg, blurred, restored];
  const png = await sharp({ create: { width: STRIP_W, height: STRIP_H, channels: 3, background: '#ffffff' } })
    .composite([
      ...(await Promise.all(images.map(async (img, i) => ({ input: await overview(img), left: column(i), top: 0 })))),
      ...(await Promise.all(images.map(async (img, i) => ({ input: await detail(img), left: column(i), top: OVERVIEW_H + GAP })))),
      insetAt(1, trueInset),
      ...(estInset ? [insetAt(2, estInset)] : []),
      { input: Buffer.from(caption), left: 0, top: OVERVIEW_H + GAP + DETAIL_H },
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
