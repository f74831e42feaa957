/**
 * Cost of the kernel stages at 1 MP, in process, on the idle machine: `estimateKernel` and
 * `deconvolve` on a project-made scene (core's `deadLeaves(1155, 866, 11)`, blurred by a project
 * camera path and noise σ 0.01), medians of several runs. The budget it checks (issue #15):
 * estimation ≤ 5 s for a 1 MP photo on the 2-core machine. Never a timed test: a report.
 *
 *   node tools/bench/dist/kernel-cost.js [--runs 5] [--estimate JSON] [--large-path]
 *
 * `--large-path` plants a 95 px camera path ({@link LARGE_PATH}) instead of the 13 px one: the
 * 75-101 px case, where the estimator goes past its start size (issue 26 asks for it separately).
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

import { deconvolve, estimateKernel } from '@sgenet/core';
import type { EstimateKernelOptions } from '@sgenet/core';
import { applyBlur, deadLeaves, psnrAligned, trajectoryKernel } from '@sgenet/core/synthetic';

import type { Table } from './report.js';
import { num, renderText } from './report.js';
import { median } from './stats.js';

export interface KernelCost {
  width: number;
  height: number;
  trueKernel: number;
  estimatedKernel: number;
  runs: number;
  estimationSeconds: number[];
  deconvolutionSeconds: number[];
  blurryAligned: number;
  restoredAligned: number;
}

/** The default camera path: 13 px. */
export const SMALL_PATH = { length: 23, seed: 5 } as const;
/** The 75-101 px case: a 95 px path (core's planted-kernel test uses the same). */
export const LARGE_PATH = { length: 300, seed: 1002 } as const;

/**
 * Times `runs` estimations (with `estimate`'s options) and deconvolutions of the same photo (the
 * estimator is deterministic).
 */
export async function measureKernelCost(
  runs = 5, width = 1155, height = 866, estimate?: EstimateKernelOptions, path: { length: number; seed: number } = SMALL_PATH,
): Promise<KernelCost> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new RangeError(`Expected an integer between 1 and 50 for runs but received ${runs}`);
  const sharp = deadLeaves(width, height, 11);
  const kernel = trajectoryKernel(path);
  const blurry = applyBlur(sharp, kernel, { noise: 0.01, seed: 3 });
  const estimationSeconds: number[] = [];
  const deconvolutionSeconds: number[] = [];
  let estimatedKernel = 0;
  let restoredAligned = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const found = await estimateKernel(blurry, estimate);
    estimationSeconds.push((performance.now() - t) / 1000);
    t = performance.now();
    const restored = await deconvolve(blurry, found.kernel);
    deconvolutionSeconds.push((performance.now() - t) / 1000);
    estimatedKernel = found.width;
    restoredAligned = psnrAligned(restored, sharp);
  }
  return {
    width, height, trueKernel: kernel.width, estimatedKernel, runs, estimationSeconds, deconvolutionSeconds,
    blurryAligned: psnrAligned(blurry, sharp), restoredAligned,
  };
}

/** The section's table: one row per stage. */
export function kernelCostTable(c: KernelCost): Table {
  const list = (v: number[]) => v.map((s) => num(s, 2)).join(', ');
  return {
    title: `Kernel stages, ${c.width}x${c.height}`,
    columns: ['stage', 'median s', 'runs (s)'],
    rows: [
      ['estimation (`estimateKernel`)', num(median(c.estimationSeconds), 2), list(c.estimationSeconds)],
      ['deconvolution (`deconvolve`)', num(median(c.deconvolutionSeconds), 2), list(c.deconvolutionSeconds)],
    ],
    notes: [`${c.trueKernel} px project kernel, ${c.estimatedKernel} px estimated; aligned PSNR blurry ${num(c.blurryAligned, 2)} dB, deconvolved ${num(c.restoredAligned, 2)} dB.`],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, estimate: { type: 'string' }, 'large-path': { type: 'boolean' } } });
  const estimate = values.estimate ? JSON.parse(values.estimate) as EstimateKernelOptions : undefined;
  console.log(renderText(kernelCostTable(await measureKernelCost(Number(values.runs), 1155, 866, estimate, values['large-path'] ? LARGE_PATH : SMALL_PATH))));
}
