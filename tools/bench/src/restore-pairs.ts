/**
 * The Node half of the restoration benchmark: runs the product's kernel estimator, deconvolution
 * and network over a folder of blurry benchmark pairs and writes each method's output as PNG, so
 * that training/evaluate.py scores them (one estimator, one deconvolution: this code; Python only
 * measures). Resumable: a pair whose outputs and record exist is skipped.
 *
 *   node tools/bench/dist/restore-pairs.js --pairs DIR --kernels levin09.json --out DIR [--shard i/n]
 *
 * DIR/manifest.json is what training/make_benchmark_pairs.py --out writes. Outputs, per pair
 * `<stem>`: `<stem>.<method>.png` and `<stem>.json` (the estimated kernel, its confidence, timings).
 * Methods: wiener_true, ours_true (the true kernel, non-blind), wiener_est, ours_est (the estimated
 * kernel), ours_est_network (then the network), pipeline (deblur with kernel 'auto'),
 * network (kernel 'none': the network alone). With a noise-conditioned model (`--model`, SGENet-σ):
 * prior_true (deblur with the true kernel: one-pass plug-and-play HQS), prior_hl_true (the
 * hyper-Laplacian deconvolution, then the network at the same σ), and with `--wrong-kernels FILE`
 * (one perturbed kernel per pair index, written by training/evaluate.py) ours_wrong and prior_wrong.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  createDeblurrer, deconvolve, estimateKernel, kernelToJson, validateKernel,
} from '@sgenet/core';
import type { BlurKernel, DeconvolveOptions, EstimateKernelOptions, RawImage } from '@sgenet/core';
import sharp from 'sharp';

import { loadKernels } from './read.js';

export const METHODS = ['wiener_true', 'ours_true', 'wiener_est', 'ours_est', 'ours_est_network', 'pipeline', 'network'] as const;

interface Entry { index: number; image: string; kernel: number; blurry: string }

/** What a pair's `<stem>.json` holds: its estimate (when a method needed one) and timings in s. */
interface PairRecord {
  index: number; image: string; kernel_index: number; megapixels: number;
  estimated?: { width: number; height: number; data: number[] } | unknown; confidence?: number; identity?: boolean;
  seconds: Record<string, number>;
}

/** Methods that need the blind estimate. */
const ESTIMATE_METHODS = ['wiener_est', 'ours_est', 'ours_est_network', 'pipeline'];

async function readRgb(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

async function writePng(img: RawImage, file: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).png().toFile(tmp);
  await rename(tmp, file);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string' }, kernels: { type: 'string' }, out: { type: 'string' }, shard: { type: 'string', default: '0/1' },
      methods: { type: 'string', default: METHODS.join(',') },
      model: { type: 'string' }, 'wrong-kernels': { type: 'string' },
      // Options of every deconvolve() call (JSON), e.g. '{"clipLevel":0.98}' for a run to compare
      // against; the deblur() methods (pipeline, ours_est_network, prior_*) keep their own.
      deconvolution: { type: 'string', default: '{}' },
      // Options of the estimateKernel() call behind the *_est methods (JSON), e.g.
      // '{"maxSize":101}' for an estimator setting to compare against the defaults.
      estimate: { type: 'string', default: '{}' },
    },
  });
  const { pairs, kernels: kernelFile, out: outDir } = values;
  if (!pairs || !kernelFile || !outDir) throw new Error('usage: restore-pairs --pairs DIR --kernels FILE --out DIR [--shard i/n] [--methods a,b]');
  const [shard, shards] = values.shard.split('/').map(Number) as [number, number];
  const methods = new Set(values.methods.split(','));
  const manifest = JSON.parse(await readFile(join(pairs, 'manifest.json'), 'utf8')) as { entries: Entry[] };
  const kernels = loadKernels(JSON.parse(await readFile(kernelFile, 'utf8')));
  const dopts = JSON.parse(values.deconvolution) as DeconvolveOptions;
  const eopts = JSON.parse(values.estimate) as EstimateKernelOptions;
  await mkdir(outDir, { recursive: true });
  const wrongKernels = values['wrong-kernels'] ? loadKernels(JSON.parse(await readFile(values['wrong-kernels'], 'utf8'))) : undefined;
  if (['ours_wrong', 'prior_wrong'].some((m) => methods.has(m)) && !wrongKernels) throw new Error('ours_wrong/prior_wrong need --wrong-kernels FILE');
  const needsNetwork = ['pipeline', 'network', 'ours_est_network', 'prior_true', 'prior_hl_true', 'prior_wrong'].some((m) => methods.has(m));
  const deblurrer = needsNetwork ? await createDeblurrer(values.model ? { model: values.model } : {}) : undefined;
  if (['prior_true', 'prior_hl_true', 'prior_wrong'].some((m) => methods.has(m)) && !deblurrer!.model.sigmaInput) {
    throw new Error('prior_* methods need a noise-conditioned model (--model sgenet-s-sigma.onnx)');
  }
  const mine = manifest.entries.filter((e) => e.index % shards === shard);
  let n = 0;
  for (const e of mine) {
    n++;
    const stem = e.blurry.replace(/\.png$/, '');
    const record = join(outDir, `${stem}.json`);
    const want = [...methods].map((m) => join(outDir, `${stem}.${m}.png`));
    if (existsSync(record) && want.every((f) => existsSync(f))) continue;
    const blurry = await readRgb(join(pairs, e.blurry));
    const megapixels = (blurry.width * blurry.height) / 1e6;
    const trueKernel = kernels[e.kernel]!;
    // A record from an earlier run keeps its estimate and timings: methods added later run alone.
    const earlier = existsSync(record) ? JSON.parse(await readFile(record, 'utf8')) as PairRecord : undefined;
    const timings: Record<string, number> = { ...earlier?.seconds };
    let estimate: { kernel: BlurKernel; confidence: number; identity: boolean } | undefined;
    if (earlier?.estimated) {
      estimate = { kernel: validateKernel(earlier.estimated, 'the recorded estimate'), confidence: earlier.confidence!, identity: earlier.identity! };
    } else if (ESTIMATE_METHODS.some((m) => methods.has(m))) {
      const t0 = performance.now();
      estimate = await estimateKernel(blurry, eopts);
      timings.estimate = (performance.now() - t0) / 1000;
    }
    const kernel = estimate?.kernel;
    const run = async (name: string, f: () => Promise<RawImage>) => {
      const file = join(outDir, `${stem}.${name}.png`);
      if (!methods.has(name) || existsSync(file)) return;
      const t = performance.now();
      const out = await f();
      timings[name] = (performance.now() - t) / 1000;
      await writePng(out, file);
    };
    await run('wiener_true', () => deconvolve(blurry, trueKernel, { ...dopts, method: 'wiener' }));
    await run('ours_true', () => deconvolve(blurry, trueKernel, dopts));
    await run('wiener_est', () => deconvolve(blurry, kernel!, { ...dopts, method: 'wiener' }));
    await run('ours_est', () => deconvolve(blurry, kernel!, dopts));
    await run('ours_est_network', () => deblurrer!.deblur(blurry, { kernel: estimate!.identity ? 'none' : kernel!, network: true }));
    await run('prior_true', () => deblurrer!.deblur(blurry, { kernel: trueKernel, network: true }));
    await run('prior_hl_true', () => deblurrer!.deblur(blurry, { kernel: trueKernel, network: true, deconvolution: { method: 'hyper-laplacian' } }));
    await run('ours_wrong', () => deconvolve(blurry, wrongKernels![e.index]!, dopts));
    await run('prior_wrong', () => deblurrer!.deblur(blurry, { kernel: wrongKernels![e.index]!, network: true }));
    // deblur(blurry, { kernel: 'auto' }) with the kernel just estimated (the estimator is
    // deterministic, so this equals the call without estimating twice). Without the network after
    // the deconvolution it is ours_est, except where the estimate fell back to the identity.
    const networkAfter = deblurrer?.networkAfterDeconvolution ?? false;
    if (methods.has('pipeline') && !estimate!.identity && !networkAfter && methods.has('ours_est')) {
      await copyFile(join(outDir, `${stem}.ours_est.png`), join(outDir, `${stem}.pipeline.png`));
      timings.pipeline = timings.ours_est!;
    } else {
      await run('pipeline', () => deblurrer!.deblur(blurry, estimate!.identity ? { kernel: 'none' } : { kernel: kernel!, network: networkAfter }));
    }
    await run('network', () => deblurrer!.deblur(blurry, { kernel: 'none' }));
    const tmp = `${record}.tmp`;
    await writeFile(tmp, JSON.stringify({
      index: e.index, image: e.image, kernel_index: e.kernel, megapixels,
      ...(estimate ? { estimated: JSON.parse(kernelToJson(estimate.kernel)) as unknown, confidence: estimate.confidence, identity: estimate.identity } : {}),
      seconds: timings,
    } satisfies PairRecord));
    await rename(tmp, record);
    console.log(`[${n}/${mine.length}] ${stem}: ` + (estimate
      ? `kernel ${estimate.kernel.width}x${estimate.kernel.height} confidence ${estimate.confidence.toFixed(2)}` : 'no estimate') +
      ` ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
  }
  await deblurrer?.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
