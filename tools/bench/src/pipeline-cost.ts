/**
 * What `kernel: 'auto'` costs against the network alone on a large photo, in process: rounds of
 * `deblur(photo, { kernel: 'none' })` then `deblur(photo, { kernel: 'auto' })` on a project-made
 * scene (core's `deadLeaves`, blurred by a project camera path of about 65 px and noise σ 0.01),
 * each call's time split by stage from its progress events. The budget it checks (the learned-prior
 * issue): a 12 MP default `deblur` (kernel, data step, SGENet-σ) in at most 2x the network-only
 * time (it was 1.5x while the default ran no network after the deconvolution). With the default
 * pair, `kernel: 'none'` runs v0.4.0; `--model sgenet-s-sigma` times SGENet-σ alone on both
 * calls, the network the budget is about. The ratio is taken
 * within each round (the two calls back to back), and the median over rounds is reported. Never
 * a timed test: a report.
 *
 *   node tools/bench/dist/pipeline-cost.js [--rounds 2] [--width 4000 --height 3000] [--model NAME|FILE]
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { createDeblurrer } from '@sgenet/core';
import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
import type { BlurKernel, KernelUsed } from '@sgenet/core';

import type { Table } from './report.js';
import { num, renderText } from './report.js';
import { median } from './stats.js';

export interface PipelineRound {
  noneSeconds: number;
  autoSeconds: number;
  /** Seconds per stage of the `'auto'` call ('kernel', 'deconvolve', 'network'), from progress events. */
  autoStages: Record<string, number>;
  peakRssMiB: number;
}

export interface PipelineCost {
  width: number;
  height: number;
  trueKernel: number;
  estimatedKernel: number;
  rounds: PipelineRound[];
}

/** A project camera path at least `side` px wide (the generator's length sets the path, not the box). */
function pathKernel(side: number): BlurKernel {
  for (let length = side; length < 8 * side; length += 4) {
    const k = trajectoryKernel({ length, seed: 6 });
    if (k.width >= side) return k;
  }
  throw new RangeError(`no project path reaches ${side} px`);
}

/** Runs `rounds` rounds of network-only then `'auto'` on one photo. */
export async function measurePipelineCost(rounds = 2, width = 4000, height = 3000, model?: string): Promise<PipelineCost> {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new RangeError(`Expected an integer between 1 and 10 for rounds but received ${rounds}`);
  const kernel = pathKernel(61);
  const blurry = applyBlur(deadLeaves(width, height, 7), kernel, { noise: 0.01, seed: 2 });
  const deblurrer = await createDeblurrer(model ? { model } : {});
  const out: PipelineRound[] = [];
  let estimatedKernel = 0;
  let peak = 0;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, 200);
  try {
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      await deblurrer.deblur(blurry, { kernel: 'none' });
      const noneSeconds = (performance.now() - t) / 1000;
      const autoStages: Record<string, number> = {};
      let stage: string | undefined;
      let last = performance.now();
      t = last;
      let used: KernelUsed | undefined;
      await deblurrer.deblur(blurry, {
        kernel: 'auto',
        onKernel: (u) => { used = u; },
        onProgress: (p) => {
          const now = performance.now();
          // Time up to a stage's first event belongs to that stage (its first step).
          const at = p.stage ?? 'network';
          autoStages[at] = (autoStages[at] ?? 0) + (now - last) / 1000;
          stage = at;
          last = now;
        },
      });
      const autoSeconds = (performance.now() - t) / 1000;
      if (stage) autoStages[stage]! += (performance.now() - last) / 1000;
      estimatedKernel = used?.identity ? 1 : used?.kernel.width ?? 0;
      sample();
      out.push({ noneSeconds, autoSeconds, autoStages, peakRssMiB: peak / 2 ** 20 });
    }
  } finally {
    clearInterval(timer);
    await deblurrer.dispose();
  }
  return { width, height, trueKernel: kernel.width, estimatedKernel, rounds: out };
}

/** One row per round and the median ratio. */
export function pipelineCostTable(c: PipelineCost): Table {
  const ratios = c.rounds.map((r) => r.autoSeconds / r.noneSeconds);
  const stage = (r: PipelineRound, s: string) => num(r.autoStages[s] ?? 0, 1);
  return {
    title: `deblur at ${c.width}x${c.height}: kernel 'auto' vs 'none'`,
    columns: ['round', "'none' s", "'auto' s", 'estimation s', 'deconvolution s', 'ratio', 'peak RSS MiB'],
    rows: c.rounds.map((r, i) => [String(i + 1), num(r.noneSeconds, 1), num(r.autoSeconds, 1), stage(r, 'kernel'), stage(r, 'deconvolve'),
      `${num(ratios[i]!, 2)}x`, num(r.peakRssMiB, 0)]),
    notes: [
      `${c.trueKernel} px project path, ${c.estimatedKernel} px estimated; median ratio ${num(median(ratios), 2)}x (budget 2x).`,
      'Peak RSS is the process so far (both calls, sampled every 200 ms).',
    ],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' }, model: { type: 'string' } } });
  const c = await measurePipelineCost(Number(values.rounds ?? 2), Number(values.width ?? 4000), Number(values.height ?? 3000), values.model);
  console.log(renderText(pipelineCostTable(c)));
}
