/**
 * Capture-like dev pairs: the dev benchmark's photos (Kodak24) and kernels (Levin et al. 2009),
 * blurred the way a camera blurs rather than the way the dev benchmark does. The dev benchmark
 * blurs gamma-encoded values and adds 1% noise; a camera integrates light (blur in linear light,
 * then gamma-encoded), a real photo reads as 0.3-2.2/255 of noise, and most are JPEGs. Per pair,
 * seeded: blur in linear light, Gaussian noise of 0.25, 0.5 or 1 per 255, JPEG quality 80-95.
 *
 * Per pair, `deblur()` (the default model) as a user runs it (`kernel: 'auto'`: the blind estimate,
 * or the network alone where it falls back to the identity), and given a kernel: the true one, the
 * dev benchmark's recorded perturbation of it (`--wrong-kernels`, written by training/evaluate.py)
 * and the blind estimate where it is not the identity; each once per deconvolution noise floor
 * asked (`deconvolution.noiseFloor`); and the hyper-Laplacian `deconvolve()` with the true kernel:
 * PSNR shift-aligned (best integer shift within ±5 px, 5 px border left out).
 *
 *   node tools/bench/dist/capture-like.js [--images 1,3,5] [--kernel-offsets 0,4] [--seed 1000]
 *       [--floors 0,0.0058823529] [--wrong-kernels FILE] [--json FILE]
 *
 * `--floors` takes σ in [0, 1] units (default 0 and core's DEFAULT_NOISE_FLOOR); reports name
 * them in 1/255 units.
 *
 * Pair (image i, kernel (i + offset) mod 8) is the dev benchmark's pair (i − 1)·8 + kernel, whose
 * perturbed kernel it takes from `--wrong-kernels`. Never a test: a report. Reads the photos and
 * kernels from beside the repository; writes nothing inside it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { createDeblurrer, deconvolve, DEFAULT_NOISE_FLOOR, estimateKernel } from '@sgenet/core';
import type { BlurKernel, KernelGrid, RawImage } from '@sgenet/core';
import { psnrAligned, seededRandom } from '@sgenet/core/synthetic';
import sharp from 'sharp';

import { blurPlane } from './hard-set.js';
import { REPO_ROOT } from './options.js';
import { loadKernels, readRgb } from './read.js';
import type { Table } from './report.js';
import { num, renderText } from './report.js';

const DATASETS = join(REPO_ROOT, '..', 'shared', 'datasets');

/** Noise σ a pair draws from, per 255. */
export const CAPTURE_NOISE_LEVELS = [0.25, 0.5, 1] as const;
/** JPEG quality range a pair draws from. */
export const CAPTURE_JPEG_QUALITY: readonly [number, number] = [80, 95];

/** sRGB decoding and encoding (IEC 61966-2-1). */
export const srgbToLinear = (v: number): number => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
export const linearToSrgb = (v: number): number => (v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055);

export interface CaptureSettings {
  /** Noise σ in [0, 1] units. */
  noise: number;
  /** JPEG quality, or null for none. */
  quality: number | null;
}

/** A pair's seeded noise level and JPEG quality. */
export function captureSettings(seed: number): CaptureSettings {
  const rand = seededRandom(seed);
  const noise = CAPTURE_NOISE_LEVELS[Math.floor(rand() * CAPTURE_NOISE_LEVELS.length)]! / 255;
  const [lo, hi] = CAPTURE_JPEG_QUALITY;
  return { noise, quality: lo + Math.floor(rand() * (hi - lo + 1)) };
}

/**
 * An 8-bit RGB photo blurred as a camera does: decoded to linear light, convolved with `kernel`
 * (reflected border), encoded again, with Gaussian noise of `settings.noise` (seeded) and JPEG at
 * `settings.quality`.
 */
export async function captureBlur(photo: RawImage, kernel: BlurKernel, settings: CaptureSettings, seed: number): Promise<RawImage> {
  const { width: w, height: h, channels } = photo;
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const out = new Uint8Array(w * h * 3);
  for (let c = 0; c < 3; c++) {
    const plane = new Float64Array(w * h);
    for (let i = 0; i < w * h; i++) plane[i] = srgbToLinear(photo.data[i * channels + c]! / 255);
    const blurred = blurPlane(plane, w, h, kernel);
    for (let i = 0; i < w * h; i++) {
      const v = linearToSrgb(Math.min(1, Math.max(0, blurred[i]!))) + settings.noise * gauss();
      out[i * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
  }
  const raw: RawImage = { data: out, width: w, height: h, channels: 3 };
  return settings.quality === null ? raw : readRgb(await sharp(out, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: settings.quality }).toBuffer());
}

/** `auto`: `deblur()` as a user runs it; the others: `deblur()` given that kernel. */
export type CaptureKind = 'auto' | 'true' | 'wrong' | 'est';
export const CAPTURE_KINDS: readonly CaptureKind[] = ['auto', 'true', 'wrong', 'est'];

export interface CaptureResult {
  pair: string;
  noise: number;
  quality: number | null;
  /** Whether the blind estimate fell back to the identity. */
  identity: boolean;
  blurry: number;
  /** Aligned PSNR per kind and floor (`${kind}@${floorKey(floor)}`); absent where the kind has no kernel. */
  deblur: Record<string, number>;
  /** The hyper-Laplacian with the true kernel, per floor (`floorKey(floor)`). */
  hyperLaplacian: Record<string, number>;
}

export interface CaptureOptions {
  images: readonly number[];
  kernelOffsets: readonly number[];
  seed: number;
  floors: readonly number[];
  wrongKernels?: BlurKernel[];
  onPair?: (r: CaptureResult) => void;
}

/** Runs every pair: `deblur()` per kind and floor, the hyper-Laplacian per floor. */
export async function runCaptureLike(opts: CaptureOptions): Promise<CaptureResult[]> {
  const kernels = loadKernels(JSON.parse(await readFile(join(DATASETS, 'kernels', 'levin09.json'), 'utf8')));
  const deblurrer = await createDeblurrer();
  const results: CaptureResult[] = [];
  try {
    for (const image of opts.images) {
      const name = `kodim${String(image).padStart(2, '0')}`;
      const photo = await readRgb(join(DATASETS, 'val', 'Kodak24', `${name}.png`));
      for (const offset of opts.kernelOffsets) {
        const k = (image + offset) % kernels.length;
        const pairIndex = (image - 1) * kernels.length + k;
        const settings = captureSettings(opts.seed + pairIndex);
        const blurry = await captureBlur(photo, kernels[k]!, settings, opts.seed + pairIndex + 7919);
        const estimate = await estimateKernel(blurry);
        // The estimate is made once and handed to every kind that needs it: `auto` is what
        // `deblur()` does with it (its own estimate is the same: estimation is deterministic).
        const given: Record<CaptureKind, BlurKernel | KernelGrid | 'none' | undefined> = {
          auto: estimate.identity ? 'none' : estimate.grid ?? estimate.kernel,
          true: kernels[k], wrong: opts.wrongKernels?.[pairIndex], est: estimate.identity ? undefined : estimate.grid ?? estimate.kernel,
        };
        const r: CaptureResult = {
          pair: `${name}_k${k + 1}`, noise: settings.noise, quality: settings.quality, identity: estimate.identity,
          blurry: psnrAligned(blurry, photo), deblur: {}, hyperLaplacian: {},
        };
        for (const kind of CAPTURE_KINDS) {
          const kernel = given[kind];
          if (!kernel) continue;
          for (const floor of opts.floors) {
            // Work done once: on an identity fallback `auto` is the network alone, which no floor
            // touches; elsewhere `est` is the same call as `auto`.
            const score = kind === 'auto' && kernel === 'none' && floor !== opts.floors[0]
              ? r.deblur[`auto@${floorKey(opts.floors[0]!)}`]!
              : kind === 'est'
                ? r.deblur[`auto@${floorKey(floor)}`]!
                : psnrAligned(await deblurrer.deblur(blurry, { kernel, deconvolution: { noiseFloor: floor } }), photo);
            r.deblur[`${kind}@${floorKey(floor)}`] = score;
          }
        }
        for (const floor of opts.floors) r.hyperLaplacian[floorKey(floor)] = psnrAligned(await deconvolve(blurry, kernels[k]!, { noiseFloor: floor }), photo);
        results.push(r);
        opts.onPair?.(r);
      }
    }
  } finally {
    await deblurrer.dispose();
  }
  return results;
}

/** A floor as the reports name it: in 1/255 units, two decimals ("1.50"). */
export const floorKey = (floor: number): string => (floor * 255).toFixed(2);

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);

/** Mean aligned PSNR per kind and floor, the gain over blurry, and how many pairs end below blurry. */
export function captureTables(results: CaptureResult[], floors: readonly number[]): Table[] {
  const rows: string[][] = [];
  const blurryMean = mean(results.map((r) => r.blurry));
  const label: Record<CaptureKind, string> = {
    auto: "deblur(), kernel 'auto' (the default)", true: 'deblur(), true kernel', wrong: 'deblur(), perturbed kernel', est: 'deblur(), estimated kernel (not the identity)',
  };
  for (const kind of CAPTURE_KINDS) {
    for (const floor of floors) {
      const key = `${kind}@${floorKey(floor)}`;
      const scored = results.filter((r) => r.deblur[key] !== undefined);
      if (scored.length === 0) continue;
      const v = scored.map((r) => r.deblur[key]!);
      rows.push([label[kind], floorKey(floor), String(scored.length),
        num(mean(v), 2), num(mean(scored.map((r) => r.deblur[key]! - r.blurry)), 2), String(scored.filter((r) => r.deblur[key]! < r.blurry).length)]);
    }
  }
  for (const floor of floors) {
    const v = results.map((r) => r.hyperLaplacian[floorKey(floor)]!);
    rows.push(['hyper-Laplacian, true kernel', floorKey(floor), String(results.length), num(mean(v), 2), num(mean(results.map((r) => r.hyperLaplacian[floorKey(floor)]! - r.blurry)), 2),
      String(results.filter((r) => r.hyperLaplacian[floorKey(floor)]! < r.blurry).length)]);
  }
  return [{
    title: `Capture-like pairs (${results.length}; blurry ${num(blurryMean, 2)} dB aligned; the estimate the identity on ${results.filter((r) => r.identity).length})`,
    columns: ['method', 'noise floor (/255)', 'pairs', 'aligned dB', 'gain over blurry', 'below blurry'],
    rows,
  }];
}

const list = (s: string | undefined, fallback: number[]): number[] => (s ? s.split(',').map(Number) : fallback);

/** Checks the command line's numbers once, before anything runs. */
export function checkCaptureArgs(a: { images: number[]; kernelOffsets: number[]; seed: number; floors: number[] }): void {
  for (const i of a.images) if (!(Number.isInteger(i) && i >= 1 && i <= 24)) throw new Error(`--images: ${i} is not a Kodak24 index 1-24`);
  for (const o of a.kernelOffsets) if (!(Number.isInteger(o) && o >= 0 && o <= 7)) throw new Error(`--kernel-offsets: ${o} is not an integer 0-7`);
  if (!Number.isSafeInteger(a.seed)) throw new Error(`--seed: ${a.seed} is not an integer`);
  for (const f of a.floors) if (!(f >= 0 && f <= 0.05)) throw new Error(`--floors: ${f} is not in [0, 0.05] (σ in [0, 1] units)`);
  if (new Set(a.floors.map(floorKey)).size !== a.floors.length) throw new Error(`--floors: ${a.floors.join(',')} name the same floor twice in 1/255 units`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: {
    images: { type: 'string' }, 'kernel-offsets': { type: 'string' }, seed: { type: 'string' }, floors: { type: 'string' },
    'wrong-kernels': { type: 'string' }, json: { type: 'string' },
  } });
  const args = {
    floors: list(values.floors, [0, DEFAULT_NOISE_FLOOR]),
    images: list(values.images, Array.from({ length: 24 }, (_, i) => i + 1)),
    kernelOffsets: list(values['kernel-offsets'], [0, 4]),
    seed: values.seed ? Number(values.seed) : 1000,
  };
  checkCaptureArgs(args);
  const { floors } = args;
  const results = await runCaptureLike({
    ...args,
    ...(values['wrong-kernels'] ? { wrongKernels: loadKernels(JSON.parse(await readFile(values['wrong-kernels'], 'utf8'))) } : {}),
    onPair: (r) => process.stderr.write(`${r.pair} (noise ${num(r.noise * 255, 2)}/255, JPEG ${r.quality ?? '-'}): blurry ${num(r.blurry, 2)} ` +
      Object.entries(r.deblur).map(([k, v]) => `${k} ${num(v, 2)}`).join(' ') + ' (kind@floor/255)' + '\n'),
  });
  for (const t of captureTables(results, floors)) console.log(renderText(t));
  if (values.json) await writeFile(values.json, JSON.stringify(results, null, 1));
}
