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
 * network (kernel 'none': v0.4.0 alone).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  createDeblurrer, DEFAULT_NETWORK_AFTER_DECONVOLUTION, deconvolve, estimateKernel, kernelToJson, validateKernel,
} from '@sgenet/core';
import type { BlurKernel, RawImage } from '@sgenet/core';
import sharp from 'sharp';

export const METHODS = ['wiener_true', 'ours_true', 'wiener_est', 'ours_est', 'ours_est_network', 'pipeline', 'network'] as const;

interface Entry { index: number; image: string; kernel: number; blurry: string }

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

function loadKernels(json: unknown): BlurKernel[] {
  const list = (json as { kernels?: { size: [number, number]; data: number[] }[] }).kernels;
  if (!Array.isArray(list)) throw new Error('kernels JSON has no "kernels" list');
  return list.map((k, i) => validateKernel({ width: k.size[1], height: k.size[0], data: k.data }, `kernel ${i + 1}`));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string' }, kernels: { type: 'string' }, out: { type: 'string' }, shard: { type: 'string', default: '0/1' },
      methods: { type: 'string', default: METHODS.join(',') },
    },
  });
  const { pairs, kernels: kernelFile, out: outDir } = values;
  if (!pairs || !kernelFile || !outDir) throw new Error('usage: restore-pairs --pairs DIR --kernels FILE --out DIR [--shard i/n] [--methods a,b]');
  const [shard, shards] = values.shard.split('/').map(Number) as [number, number];
  const methods = new Set(values.methods.split(','));
  const manifest = JSON.parse(await readFile(join(pairs, 'manifest.json'), 'utf8')) as { entries: Entry[] };
  const kernels = loadKernels(JSON.parse(await readFile(kernelFile, 'utf8')));
  await mkdir(outDir, { recursive: true });
  const deblurrer = ['pipeline', 'network', 'ours_est_network'].some((m) => methods.has(m)) ? await createDeblurrer() : undefined;
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
    const t0 = performance.now();
    const estimate = await estimateKernel(blurry);
    const estimateSeconds = (performance.now() - t0) / 1000;
    const kernel = estimate.kernel;
    const timings: Record<string, number> = { estimate: estimateSeconds };
    const run = async (name: string, f: () => Promise<RawImage>) => {
      if (!methods.has(name)) return;
      const t = performance.now();
      const out = await f();
      timings[name] = (performance.now() - t) / 1000;
      await writePng(out, join(outDir, `${stem}.${name}.png`));
    };
    await run('wiener_true', () => deconvolve(blurry, trueKernel, { method: 'wiener' }));
    await run('ours_true', () => deconvolve(blurry, trueKernel));
    await run('wiener_est', () => deconvolve(blurry, kernel, { method: 'wiener' }));
    await run('ours_est', () => deconvolve(blurry, kernel));
    await run('ours_est_network', () => deblurrer!.deblur(blurry, { kernel: estimate.identity ? 'none' : kernel, network: true }));
    // deblur(blurry, { kernel: 'auto' }) with the kernel just estimated (the estimator is
    // deterministic, so this equals the call without estimating twice). Without the network after
    // the deconvolution it is ours_est, except where the estimate fell back to the identity.
    if (methods.has('pipeline') && !estimate.identity && !DEFAULT_NETWORK_AFTER_DECONVOLUTION && methods.has('ours_est')) {
      await copyFile(join(outDir, `${stem}.ours_est.png`), join(outDir, `${stem}.pipeline.png`));
      timings.pipeline = timings.ours_est!;
    } else {
      await run('pipeline', () => deblurrer!.deblur(blurry, estimate.identity ? { kernel: 'none' } : { kernel, network: DEFAULT_NETWORK_AFTER_DECONVOLUTION }));
    }
    await run('network', () => deblurrer!.deblur(blurry, { kernel: 'none' }));
    const tmp = `${record}.tmp`;
    await writeFile(tmp, JSON.stringify({
      index: e.index, image: e.image, kernel_index: e.kernel, megapixels,
      estimated: JSON.parse(kernelToJson(kernel)) as unknown, confidence: estimate.confidence, identity: estimate.identity,
      seconds: timings,
    }));
    await rename(tmp, record);
    console.log(`[${n}/${mine.length}] ${stem}: kernel ${kernel.width}x${kernel.height} confidence ${estimate.confidence.toFixed(2)}` +
      ` estimate ${estimateSeconds.toFixed(1)} s`);
  }
  await deblurrer?.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
