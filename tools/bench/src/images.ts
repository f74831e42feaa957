/**
 * Benchmark inputs, generated in memory: photo-like scenes (sky gradient, hills, buildings with
 * window grids, foliage, fences, signs with text) rendered from an SVG by sharp, plus light noise.
 * Nothing is read from disk and nothing third-party is used.
 */
import type { RawImage } from '@sgenet/core';
import { seededRandom } from '@sgenet/core/synthetic';
import sharp from 'sharp';

export interface ImageSize {
  /** Nominal size, e.g. "12 MP". */
  label: string;
  width: number;
  height: number;
  /** Actual megapixels (width x height / 1e6). */
  megapixels: number;
}

/** 4:3 sizes close to the nominal megapixels; 12 MP is the 4000 x 3000 photo of the budgets. */
const PRESETS: Readonly<Record<string, readonly [number, number]>> = {
  '0.25': [576, 432],
  '0.5': [816, 612],
  '1': [1152, 864],
  '2': [1632, 1224],
  '4': [2304, 1728],
  '12': [4000, 3000],
  '16': [4608, 3456],
};

export function sizeFor(mp: number): ImageSize {
  const preset = PRESETS[String(mp)];
  let width: number;
  let height: number;
  if (preset) {
    [width, height] = preset;
  } else {
    width = Math.max(8, Math.round(Math.sqrt((mp * 1e6 * 4) / 3) / 8) * 8);
    height = Math.max(8, Math.round((width * 3) / 4 / 8) * 8);
  }
  return { label: `${mp} MP`, width, height, megapixels: (width * height) / 1e6 };
}

export function sizeOf(width: number, height: number): ImageSize {
  const megapixels = (width * height) / 1e6;
  return { label: `${Number(megapixels.toFixed(1))} MP`, width, height, megapixels };
}

/** SVG of a made-up street scene in a 1600 x 1200 view box, stretched to width x height. */
export function sceneSvg(width: number, height: number, seed = 1): string {
  const rand = seededRandom(seed);
  const r = (a: number, b: number) => a + (b - a) * rand();
  const parts: string[] = [];
  // Hills.
  for (let i = 0; i < 3; i++) {
    const y0 = 520 + i * 70;
    let d = `M0 ${y0}`;
    for (let x = 0; x <= 1600; x += 100) d += ` L${x} ${(y0 - r(0, 120)).toFixed(0)}`;
    d += ' L1600 1200 L0 1200 Z';
    parts.push(`<path d="${d}" fill="hsl(${110 + i * 15},${35 + i * 10}%,${38 - i * 6}%)"/>`);
  }
  // Buildings with window grids.
  for (let b = 0; b < 9; b++) {
    const x = b * 175 + r(0, 30);
    const w = r(110, 160);
    const top = r(300, 560);
    const hue = Math.floor(r(0, 360));
    parts.push(`<rect x="${x.toFixed(0)}" y="${top.toFixed(0)}" width="${w.toFixed(0)}" height="${(900 - top).toFixed(0)}" fill="hsl(${hue},18%,${Math.floor(r(35, 70))}%)" stroke="#222" stroke-width="2"/>`);
    for (let wy = top + 20; wy < 860; wy += 34) {
      for (let wx = x + 12; wx < x + w - 22; wx += 26) {
        const lit = rand() < 0.35;
        parts.push(`<rect x="${wx.toFixed(0)}" y="${wy.toFixed(0)}" width="14" height="20" fill="${lit ? '#f4e3a1' : '#2b3440'}"/>`);
      }
    }
  }
  // Street, fence, lamp posts.
  parts.push('<rect x="0" y="900" width="1600" height="300" fill="#55585c"/>');
  for (let x = 0; x < 1600; x += 60) parts.push(`<rect x="${x}" y="1040" width="34" height="8" fill="#e8e8e0"/>`);
  for (let x = 0; x <= 1600; x += 12) parts.push(`<line x1="${x}" y1="880" x2="${x}" y2="930" stroke="#1d1d1d" stroke-width="3"/>`);
  parts.push('<line x1="0" y1="888" x2="1600" y2="888" stroke="#1d1d1d" stroke-width="4"/>');
  // Foliage.
  for (let i = 0; i < 70; i++) {
    parts.push(`<circle cx="${r(0, 1600).toFixed(0)}" cy="${r(820, 1180).toFixed(0)}" r="${r(10, 45).toFixed(0)}" fill="hsl(${Math.floor(r(80, 150))},${Math.floor(r(30, 70))}%,${Math.floor(r(20, 45))}%)" fill-opacity="0.85"/>`);
  }
  // Signs with text of several sizes.
  const words = ['SGENet', 'Motion Deblur', 'CAFE 24h', 'No Parking', 'Benchmark', 'Node.js', 'ONNX'];
  for (let i = 0; i < 8; i++) {
    const x = r(40, 1350);
    const y = r(640, 1100);
    const size = Math.floor(r(18, 64));
    const word = words[i % words.length]!;
    parts.push(`<rect x="${x.toFixed(0)}" y="${(y - size).toFixed(0)}" width="${(word.length * size * 0.62 + 20).toFixed(0)}" height="${(size * 1.35).toFixed(0)}" fill="#f7f4ea" stroke="#111" stroke-width="3"/>`);
    parts.push(`<text x="${(x + 10).toFixed(0)}" y="${(y + size * 0.1).toFixed(0)}" font-family="DejaVu Sans, sans-serif" font-weight="bold" font-size="${size}" fill="#1a1a1a">${word}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1600 1200" preserveAspectRatio="none">
<defs>
  <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#4a7fc1"/><stop offset="1" stop-color="#d9e6f2"/></linearGradient>
  <radialGradient id="sun"><stop offset="0" stop-color="#fff6cc"/><stop offset="1" stop-color="#fff6cc" stop-opacity="0"/></radialGradient>
</defs>
<rect width="1600" height="1200" fill="url(#sky)"/>
<circle cx="1250" cy="200" r="160" fill="url(#sun)"/>
${parts.join('\n')}
</svg>`;
}

/** A photo-like RGB image of the given size, generated in memory (SVG via sharp, plus noise). */
export async function syntheticPhoto(width: number, height: number, seed = 1): Promise<RawImage> {
  const { data, info } = await sharp(Buffer.from(sceneSvg(width, height, seed)), { limitInputPixels: false })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`syntheticPhoto: sharp rendered ${info.width}x${info.height}x${info.channels}, wanted ${width}x${height}x3`);
  }
  // Sensor-like noise (about +-3 levels) so flat areas are not perfectly flat.
  const rand = seededRandom(seed + 1000);
  const px = new Uint8Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < px.length; i++) {
    const v = px[i]! + Math.round((rand() - 0.5) * 6);
    px[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data: px, width, height, channels: 3 };
}
