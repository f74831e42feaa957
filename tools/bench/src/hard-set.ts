/**
 * The harder synthetic dev set, beside the Levin-kernel dev benchmark: project-made scenes and
 * camera paths only (core's `@sgenet/core/synthetic`), in groups that each stress one thing real
 * shake does and Levin's 13-27 px uniform kernels at 1% noise do not:
 *
 * | group | what |
 * | --- | --- |
 * | small 5-15 px | short, curled paths (mild shake, the kind called sharp before) |
 * | medium 17-49 px | |
 * | large 51-101 px | long paths; the estimator's size limit and coarse-to-fine depth |
 * | non-uniform | the frame blended across three kernels turned -θ, 0, +θ (θ 2-4°): in-plane rotation |
 * | saturated lights | bright lights (4-10x white in linear light) blurred, then clipped: streaks |
 * | JPEG 70-95 | the blurred photo JPEG-compressed by sharp |
 * | low light 2-5% | Gaussian noise σ 2-5% instead of 1% |
 *
 * Per group: PSNR raw and shift-aligned (best integer shift within ±5 px, 5 px border left out) of
 * the blurry photo, of the default pipeline's kernel stages (`estimateKernel`, then `deconvolve`
 * with the estimate, the photo as it was on an identity fallback) and of `deconvolve` with the true
 * kernel (the non-uniform group: the centre kernel); the misses; the error ratio (Levin et al.
 * 2009: aligned squared error with the estimate over that with the true kernel).
 *
 *   node tools/bench/dist/hard-set.js [--per-group 6] [--from 0] [--groups large,jpeg] [--json FILE]
 *
 * Never a test: a report. Blur is applied by FFT in linear or gamma-encoded light as the group says.
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { deconvolve, estimateKernel, reflectIndex } from '@sgenet/core';
import type { BlurKernel, EstimateKernelOptions, RawImage } from '@sgenet/core';
import { kernelSpectrum, nextFftSize, nextRealFftWidth, RealSpectrum } from '@sgenet/core/fft';
import { deadLeaves, psnr, psnrAligned, seededRandom, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
import sharp from 'sharp';

import type { Table } from './report.js';
import { num, pct, renderText } from './report.js';
import { median } from './stats.js';

export const HARD_GROUPS = ['small', 'medium', 'large', 'non-uniform', 'saturated', 'jpeg', 'low-light'] as const;
export type HardGroup = (typeof HARD_GROUPS)[number];

const GROUP_LABEL: Record<HardGroup, string> = {
  small: 'small 5-15 px', medium: 'medium 17-49 px', large: 'large 51-101 px', 'non-uniform': 'non-uniform (rotation)',
  saturated: 'saturated lights', jpeg: 'JPEG 70-95', 'low-light': 'low light 2-5%',
};

/** Kernel side range of each group (the others use moderate shake, 15-31 px). */
const SIDES: Record<HardGroup, [number, number]> = {
  small: [5, 15], medium: [17, 49], large: [51, 101], 'non-uniform': [15, 31], saturated: [15, 31], jpeg: [15, 31], 'low-light': [15, 31],
};

const W = 768;
const H = 512;

/** A project trajectory kernel whose side falls in [lo, hi]: path lengths are searched from the seed. */
export function kernelInRange(lo: number, hi: number, seed: number): BlurKernel {
  for (let attempt = 0; attempt < 400; attempt++) {
    const s = seed * 1000 + attempt;
    const rand = seededRandom(s);
    // Curled paths spread about a third of their length: aim the length at the target side.
    const target = lo + (hi - lo) * rand();
    const k = trajectoryKernel({ length: Math.max(3, target * (1.2 + 2.4 * rand())), seed: s });
    if (k.width >= lo && k.width <= hi) return k;
  }
  throw new Error(`no project kernel of side ${lo}-${hi} px from seed ${seed}`);
}

/** The kernel turned by `degrees` about its centre (bilinear), renormalised. */
export function rotateKernel(k: BlurKernel, degrees: number): BlurKernel {
  const side = Math.ceil(Math.hypot(k.width, k.height)) | 1;
  const a = (degrees * Math.PI) / 180;
  const c = (side - 1) / 2, cy = (k.height - 1) / 2, cx = (k.width - 1) / 2;
  const data = new Float32Array(side * side);
  let sum = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sy = Math.cos(a) * (y - c) - Math.sin(a) * (x - c) + cy;
      const sx = Math.sin(a) * (y - c) + Math.cos(a) * (x - c) + cx;
      const y0 = Math.floor(sy), x0 = Math.floor(sx), fy = sy - y0, fx = sx - x0;
      let v = 0;
      for (const [dy, dx, w] of [[0, 0, (1 - fy) * (1 - fx)], [0, 1, (1 - fy) * fx], [1, 0, fy * (1 - fx)], [1, 1, fy * fx]] as const) {
        const yy = y0 + dy, xx = x0 + dx;
        if (yy >= 0 && yy < k.height && xx >= 0 && xx < k.width) v += w * k.data[yy * k.width + xx]!;
      }
      data[y * side + x] = v;
      sum += v;
    }
  }
  for (let i = 0; i < data.length; i++) data[i]! /= sum;
  return { width: side, height: side, data };
}

/** Float planes [c][h][w] of an 8-bit RGB image, optionally in linear light. */
function toPlanes(img: RawImage, linear: boolean): Float64Array[] {
  const planes = [0, 1, 2].map(() => new Float64Array(img.width * img.height));
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) {
      const v = img.data[i * img.channels + c]! / 255;
      planes[c]![i] = linear ? (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4) : v;
    }
  }
  return planes;
}

function fromPlanes(planes: Float64Array[], w: number, h: number, linear: boolean, noise: number, seed: number): RawImage {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) {
      let v = Math.min(1, Math.max(0, planes[c]![i]!));
      if (linear) v = v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
      data[i * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, v + noise * gauss())));
    }
  }
  return { data, width: w, height: h, channels: 3 };
}

/** True convolution of a plane with `k` (reflected border) by FFT. */
export function blurPlane(plane: Float64Array, w: number, h: number, k: BlurKernel): Float64Array {
  const px = k.width, py = k.height;
  const fw = nextRealFftWidth(w + 2 * px), fh = nextFftSize(h + 2 * py);
  const field = new Float64Array(fw * fh);
  // The plane sits at (px, py) in the field; the margins are reflections, so the wrap never reaches it.
  for (let y = 0; y < fh; y++) {
    const sy = reflectIndex(y - py, h);
    for (let x = 0; x < fw; x++) field[y * fw + x] = plane[sy * w + reflectIndex(x - px, w)]!;
  }
  const spectrum = new RealSpectrum(fw, fh).forward(field);
  const otf = kernelSpectrum(k.data, k.width, k.height, fw, fh);
  for (let i = 0; i < spectrum.re.length; i++) {
    const a = spectrum.re[i]!, b = spectrum.im[i]!, c = otf.re[i]!, d = otf.im[i]!;
    spectrum.re[i] = a * c - b * d;
    spectrum.im[i] = a * d + b * c;
  }
  const out = spectrum.inverse();
  const result = new Float64Array(w * h);
  for (let y = 0; y < h; y++) result.set(out.subarray((y + py) * fw + px, (y + py) * fw + px + w), y * w);
  return result;
}

export interface HardCase {
  group: HardGroup;
  index: number;
  sharp: RawImage;
  blurry: RawImage;
  /** The kernel at the centre of the frame. */
  kernel: BlurKernel;
}

/** The `index`-th photo of a group: deterministic for (group, index). */
export async function makeCase(group: HardGroup, index: number): Promise<HardCase> {
  const seed = 101 + 37 * HARD_GROUPS.indexOf(group) + index;
  const scene = index % 2 === 0 ? deadLeaves(W, H, seed) : testChart(W, H);
  const [lo, hi] = SIDES[group];
  const kernel = kernelInRange(lo, hi, seed);
  const rand = seededRandom(seed + 7);
  const linear = group === 'saturated';
  const planes = toPlanes(scene, linear);
  if (group === 'saturated') {
    // Lights: small discs 4-10x brighter than white, which the blur smears into streaks before the sensor clips.
    for (let n = 0; n < 14; n++) {
      const cx = rand() * W, cy = rand() * H, r = 2 + 4 * rand(), gain = 4 + 6 * rand();
      for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(H - 1, Math.ceil(cy + r)); y++) {
        for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(W - 1, Math.ceil(cx + r)); x++) {
          if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) for (const p of planes) p[y * W + x] = gain;
        }
      }
    }
  }
  let blurred: Float64Array[];
  if (group === 'non-uniform') {
    const theta = 2 + 2 * rand();
    const ks = [rotateKernel(kernel, -theta), kernel, rotateKernel(kernel, theta)];
    const versions = ks.map((k) => planes.map((p) => blurPlane(p, W, H, k)));
    // Piecewise-linear weights across the frame: -θ at the left edge, 0 in the middle, +θ at the right.
    blurred = planes.map((_, c) => {
      const out = new Float64Array(W * H);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const t = (2 * x) / (W - 1) - 1;
          const i = y * W + x;
          out[i] = t < 0 ? -t * versions[0]![c]![i]! + (1 + t) * versions[1]![c]![i]! : (1 - t) * versions[1]![c]![i]! + t * versions[2]![c]![i]!;
        }
      }
      return out;
    });
  } else {
    blurred = planes.map((p) => blurPlane(p, W, H, kernel));
  }
  const noise = group === 'low-light' ? 0.02 + 0.03 * rand() : 0.01;
  let blurry = fromPlanes(blurred, W, H, linear, noise, seed + 13);
  const sharpImage = linear ? fromPlanes(planes, W, H, true, 0, 0) : scene;
  if (group === 'jpeg') {
    const quality = 70 + Math.floor(26 * rand());
    const { data, info } = await sharp(Buffer.from(blurry.data), { raw: { width: W, height: H, channels: 3 } })
      .jpeg({ quality }).toBuffer().then((b) => sharp(b).raw().toBuffer({ resolveWithObject: true }));
    blurry = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
  }
  return { group, index, sharp: sharpImage, blurry, kernel };
}

export interface HardResult {
  group: HardGroup;
  index: number;
  trueSide: number;
  foundSide: number;
  identity: boolean;
  confidence: number;
  blurry: { raw: number; aligned: number };
  estimated: { raw: number; aligned: number };
  trueKernel: { raw: number; aligned: number };
  errorRatio: number;
  seconds: number;
}

/**
 * Runs photos `from` to `perGroup` − 1 of each group (`from` > 0: photos a rule read from are left
 * out, for a held-out check).
 */
export async function runHardSet(opts: { groups?: readonly HardGroup[]; perGroup?: number; from?: number; estimate?: EstimateKernelOptions;
  onCase?: (r: HardResult) => void; } = {}): Promise<HardResult[]> {
  const results: HardResult[] = [];
  for (const group of opts.groups ?? HARD_GROUPS) {
    for (let index = opts.from ?? 0; index < (opts.perGroup ?? 6); index++) {
      const c = await makeCase(group, index);
      const t = performance.now();
      const e = await estimateKernel(c.blurry, opts.estimate);
      const seconds = (performance.now() - t) / 1000;
      // What the pipeline deconvolves: per-region kernels where the estimate found them.
      const restored = e.identity ? c.blurry : await deconvolve(c.blurry, e.grid ?? e.kernel);
      const ideal = await deconvolve(c.blurry, c.kernel);
      const score = (img: RawImage) => ({ raw: psnr(img, c.sharp), aligned: psnrAligned(img, c.sharp) });
      const est = score(restored), tru = score(ideal);
      const r: HardResult = {
        group, index, trueSide: c.kernel.width, foundSide: e.kernel.width, identity: e.identity, confidence: e.confidence,
        blurry: score(c.blurry), estimated: est, trueKernel: tru,
        // PSNR difference → ratio of squared errors.
        errorRatio: 10 ** ((tru.aligned - est.aligned) / 10), seconds,
      };
      results.push(r);
      opts.onCase?.(r);
    }
  }
  return results;
}

/** Tables: per group, and the error-ratio distribution. */
export function hardSetTables(results: HardResult[]): Table[] {
  const groups = HARD_GROUPS.filter((g) => results.some((r) => r.group === g));
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const rows = groups.map((g) => {
    const rs = results.filter((r) => r.group === g);
    const gain = (k: 'estimated' | 'trueKernel', m: 'raw' | 'aligned') => mean(rs.map((r) => r[k][m] - r.blurry[m]));
    const share = gain('trueKernel', 'aligned') > 0 ? gain('estimated', 'aligned') / gain('trueKernel', 'aligned') : Number.NaN;
    return [
      GROUP_LABEL[g], String(rs.length), `${rs.filter((r) => r.identity).length}`,
      num(mean(rs.map((r) => r.blurry.aligned)), 2),
      `${num(gain('estimated', 'aligned'), 2)} / ${num(gain('estimated', 'raw'), 2)}`,
      `${num(gain('trueKernel', 'aligned'), 2)} / ${num(gain('trueKernel', 'raw'), 2)}`,
      Number.isFinite(share) ? pct(share) : '-',
      num(median(rs.map((r) => r.errorRatio)), 2),
    ];
  });
  const ratios = results.map((r) => r.errorRatio);
  const at = (t: number) => pct(ratios.filter((x) => x <= t).length / ratios.length);
  const worst = [...results].sort((a, b) => (a.estimated.aligned - a.blurry.aligned) - (b.estimated.aligned - b.blurry.aligned)).slice(0, 5)
    .map((r) => `${GROUP_LABEL[r.group]} #${r.index} (${r.trueSide} px, found ${r.identity ? 'identity' : `${r.foundSide} px`}): ${num(r.estimated.aligned - r.blurry.aligned, 2)} dB`);
  return [
    {
      title: 'Harder synthetic set (project scenes and kernels, 768x512)',
      columns: ['group', 'photos', 'misses', 'blurry aligned dB', 'pipeline gain aligned / raw', 'true kernel gain aligned / raw', 'share of true-kernel gain', 'error ratio median'],
      rows,
      notes: [`Worst photos (pipeline aligned gain): ${worst.join('; ')}.`],
    },
    {
      title: 'Error ratio distribution (all groups)',
      columns: ['≤ 1.5', '≤ 2', '≤ 3', '≤ 5', 'max'],
      rows: [[at(1.5), at(2), at(3), at(5), num(Math.max(...ratios), 2)]],
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { 'per-group': { type: 'string' }, from: { type: 'string' }, groups: { type: 'string' }, json: { type: 'string' }, estimate: { type: 'string' } } });
  const groups = (values.groups?.split(',') ?? [...HARD_GROUPS]) as HardGroup[];
  for (const g of groups) if (!HARD_GROUPS.includes(g)) throw new Error(`--groups: ${g} is not one of ${HARD_GROUPS.join(', ')}`);
  const results = await runHardSet({
    groups,
    perGroup: values['per-group'] ? Number(values['per-group']) : 6,
    from: values.from ? Number(values.from) : 0,
    ...(values.estimate ? { estimate: JSON.parse(values.estimate) as EstimateKernelOptions } : {}),
    onCase: (r) => process.stderr.write(`${r.group} #${r.index}: ${r.trueSide} px -> ${r.identity ? 'identity' : `${r.foundSide} px`} ` +
      `c=${r.confidence.toFixed(2)}; aligned blurry ${r.blurry.aligned.toFixed(2)} est ${r.estimated.aligned.toFixed(2)} true ${r.trueKernel.aligned.toFixed(2)} dB (${r.seconds.toFixed(1)} s)\n`),
  });
  for (const t of hardSetTables(results)) console.log(renderText(t));
  if (values.json) await writeFile(values.json, JSON.stringify(results, null, 1));
}
