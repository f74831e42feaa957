/**
 * The before/after figure's scene under other camera paths: how typical is the README picture?
 * The street scene of before-after.ts (2400x1600) is blurred by eight project camera paths
 * (lengths 120 and 150, seeds 1-4; the figure's is 120/4) with its noise, then `estimateKernel`
 * and `deconvolve` run with their defaults (or `--estimate`), against `deconvolve` given the true
 * kernel. Prints one markdown row per path: aligned PSNR of the blurry photo, the pipeline's gain
 * over it, the true kernel's gain, and the share; writes nothing. `--scene` swaps the street for
 * another project scene of the same size (core's dead leaves, seed 21, or its test chart): the
 * held-out scenes of the wide window's rule (training log, session 16).
 *
 * `--paths` replaces the eight paths with others (`length/seed,...`): the longer paths of the
 * default `maxSize`'s rule (lengths 200 and 250: kernels of 91-201 px, most past the start size's 101).
 *
 *   node tools/bench/dist/figure-paths.js [--scene street|dead-leaves|chart] [--estimate JSON] [--paths 200/1,250/2]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { deconvolve, estimateKernel } from '@sgenet/core';
import type { EstimateKernelOptions, RawImage } from '@sgenet/core';
import { deadLeaves, psnrAligned, testChart, trajectoryKernel } from '@sgenet/core/synthetic';

import { blurLikeFigure, figureScene, SCENE_H, SCENE_W } from './before-after.js';

/** The paths measured: the figure's length and a longer one, four seeds each. */
export const FIGURE_PATHS: readonly { length: number; seed: number }[] = [120, 150].flatMap((length) => [1, 2, 3, 4].map((seed) => ({ length, seed })));

/** `--paths`' value, `length/seed` pairs separated by commas. */
export function parsePaths(text: string): { length: number; seed: number }[] {
  return text.split(',').map((item) => {
    const [length, seed] = item.split('/').map(Number);
    if (!Number.isInteger(length) || !Number.isInteger(seed) || length! < 1 || length! > 1000 || seed! < 0) {
      throw new Error(`--paths: expected length/seed pairs (integers, length 1 to 1000) separated by commas, got ${JSON.stringify(item)}`);
    }
    return { length: length!, seed: seed! };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { estimate: { type: 'string' }, scene: { type: 'string', default: 'street' }, paths: { type: 'string' } } });
  const paths = values.paths ? parsePaths(values.paths) : FIGURE_PATHS;
  const estimate = values.estimate ? (JSON.parse(values.estimate) as EstimateKernelOptions) : undefined;
  const scenes: Record<string, () => RawImage | Promise<RawImage>> = {
    street: () => figureScene(),
    'dead-leaves': () => deadLeaves(SCENE_W, SCENE_H, 21),
    chart: () => testChart(SCENE_W, SCENE_H),
  };
  const make = scenes[values.scene];
  if (!make) throw new Error(`--scene: expected one of ${Object.keys(scenes).join(', ')}, got ${values.scene}`);
  const scene = await make();
  console.log('| length | seed | true px | found px | confidence | blurry dB | gain dB | true-kernel gain dB | share | estimation s |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const path of paths) {
    const kernel = trajectoryKernel(path);
    const blurry = blurLikeFigure(scene, kernel);
    const started = performance.now();
    const found = await estimateKernel(blurry, estimate);
    const seconds = (performance.now() - started) / 1000;
    const restored = found.identity ? blurry : await deconvolve(blurry, found.kernel);
    const base = psnrAligned(scene, blurry);
    const gain = psnrAligned(scene, restored) - base;
    const trueGain = psnrAligned(scene, await deconvolve(blurry, kernel)) - base;
    console.log(`| ${path.length} | ${path.seed} | ${kernel.width} | ${found.identity ? 'none' : found.width} | ${found.confidence.toFixed(2)} | ` +
      `${base.toFixed(2)} | ${gain.toFixed(2)} | ${trueGain.toFixed(2)} | ${Math.round((100 * gain) / trueGain)}% | ${seconds.toFixed(1)} |`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
