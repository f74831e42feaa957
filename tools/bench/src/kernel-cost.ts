/**
 * Cost of the kernel stages at 1 MP, in process, on the idle machine: `estimateKernel` and
 * `deconvolve` on a project-made scene (core's `deadLeaves(1155, 866, 11)`, blurred by a project
 * camera path and noise σ 0.01), medians of several runs. The budget it checks (issue #15):
 * estimation ≤ 5 s for a 1 MP photo on the 2-core machine. Never a timed test: a report.
 *
 *   node tools/bench/dist/kernel-cost.js [--runs 5]
 */
import { pathToFileURL } from 'node:url';

import { deconvolve, estimateKernel } from '@sgenet/core';
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

/** Times `runs` estimations and deconvolutions of the same photo (the estimator is deterministic). */
export async function measureKernelCost(runs = 5, width = 1155, height = 866): Promise<KernelCost> {
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new RangeError(`Expected an integer between 1 and 50 for runs but received ${runs}`);
  const sharp = deadLeaves(width, height, 11);
  const kernel = trajectoryKernel({ length: 23, seed: 5 });
  const blurry = applyBlur(sharp, kernel, { noise: 0.01, seed: 3 });
  const estimationSeconds: number[] = [];
  const deconvolutionSeconds: number[] = [];
  let estimatedKernel = 0;
  let restoredAligned = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const estimate = await estimateKernel(blurry);
    estimationSeconds.push((performance.now() - t) / 1000);
    t = performance.now();
    const restored = await deconvolve(blurry, estimate.kernel);
    deconvolutionSeconds.push((performance.now() - t) / 1000);
    estimatedKernel = estimate.width;
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
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Number(process.argv[at + 1]) : 5;
  console.log(renderText(kernelCostTable(await measureKernelCost(runs))));
}
