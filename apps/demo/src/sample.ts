/**
 * The built-in sample: a test chart with text, fine lines, a siren star and colour patches,
 * drawn here as SVG, rendered by sharp, then blurred with the project's own camera-shake
 * generator (`trajectoryKernel` + `applyBlur` from @sgenet/core). No third-party image involved.
 */
import { applyBlur, trajectoryKernel } from '@sgenet/core/synthetic';
import type { RawImage } from '@sgenet/core';
import sharp from 'sharp';

/** Options of {@link renderSample}. */
export interface SampleOptions {
  width?: number;
  height?: number;
  /** Camera-shake path length in pixels (default 13). */
  blurLength?: number;
  /** Seed of the shake trajectory (default 7). */
  seed?: number;
  /** Gaussian noise sigma in [0, 1] units (default 0.004), as a real sensor adds. */
  noise?: number;
}

function sirenStar(cx: number, cy: number, r: number, spokes: number): string {
  const wedges: string[] = [];
  for (let i = 0; i < spokes; i++) {
    const a0 = (i * 2 * Math.PI) / spokes;
    const a1 = a0 + Math.PI / spokes;
    const p = (a: number) => `${(cx + r * Math.cos(a)).toFixed(2)},${(cy + r * Math.sin(a)).toFixed(2)}`;
    wedges.push(`<polygon points="${cx},${cy} ${p(a0)} ${p(a1)}"/>`);
  }
  return `<g fill="#151515">${wedges.join('')}</g>`;
}

function lineGroup(x: number, y: number, w: number, h: number, spacing: number, vertical: boolean): string {
  const lines: string[] = [];
  if (vertical) {
    for (let i = x; i < x + w; i += spacing) lines.push(`<line x1="${i + 0.5}" y1="${y}" x2="${i + 0.5}" y2="${y + h}"/>`);
  } else {
    for (let j = y; j < y + h; j += spacing) lines.push(`<line x1="${x}" y1="${j + 0.5}" x2="${x + w}" y2="${j + 0.5}"/>`);
  }
  return `<g stroke="#111" stroke-width="1">${lines.join('')}</g>`;
}

/** The sharp chart as SVG source (scaled to any size via the viewBox). */
export function sampleSvg(width = 320, height = 224): string {
  const font = `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"`;
  const patches = ['#c62828', '#2e7d32', '#1565c0', '#f9a825', '#6a1b9a', '#00838f']
    .map((c, i) => `<rect x="${12 + i * 24}" y="196" width="22" height="18" fill="${c}"/>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 320 224">
  <rect width="320" height="224" fill="#f1efe9"/>
  <text x="12" y="34" ${font} font-size="28" font-weight="bold" fill="#111">SGENet</text>
  <text x="12" y="54" ${font} font-size="13" fill="#111">Motion deblurring demo chart</text>
  <text x="12" y="70" ${font} font-size="10" fill="#222">The quick brown fox jumps over</text>
  <text x="12" y="82" ${font} font-size="10" fill="#222">the lazy dog. 0123456789</text>
  <text x="12" y="92" ${font} font-size="7" fill="#222">Fine print: sharp edges make small text readable.</text>
  ${lineGroup(12, 102, 40, 36, 2, true)}
  ${lineGroup(58, 102, 40, 36, 3, true)}
  ${lineGroup(104, 102, 40, 36, 4, true)}
  ${lineGroup(12, 146, 62, 40, 3, false)}
  <g stroke="#111" stroke-width="1" fill="none">
    ${[4, 8, 12, 16, 20].map((r) => `<circle cx="112" cy="166" r="${r}"/>`).join('')}
  </g>
  <g stroke="#111" stroke-width="1.5">
    ${[0, 6, 12, 18, 24, 30].map((d) => `<line x1="${140 + d}" y1="146" x2="${158 + d}" y2="186"/>`).join('')}
  </g>
  ${sirenStar(250, 100, 60, 24)}
  ${patches}
  <text x="170" y="210" ${font} font-size="9" fill="#111">synthetic camera shake</text>
</svg>`;
}

/** Renders the chart to 8-bit RGB pixels with sharp. */
export async function renderSharpSample(width = 320, height = 224): Promise<RawImage> {
  const { data, info } = await sharp(Buffer.from(sampleSvg(width, height)))
    .resize(width, height, { fit: 'fill' })
    .flatten({ background: '#f1efe9' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

/** The blurred sample as PNG bytes: what the "Try the sample" button uploads. */
export async function renderSample(options: SampleOptions = {}): Promise<Buffer> {
  const sharpChart = await renderSharpSample(options.width ?? 320, options.height ?? 224);
  const kernel = trajectoryKernel({ length: options.blurLength ?? 13, seed: options.seed ?? 7 });
  const blurred = applyBlur(sharpChart, kernel, { noise: options.noise ?? 0.004, seed: 11 });
  return sharp(blurred.data, { raw: { width: blurred.width, height: blurred.height, channels: 3 } })
    .png()
    .toBuffer();
}
