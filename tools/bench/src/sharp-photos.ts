/**
 * Sharp, noisy photos through the pipeline: does the kernel stage leave a sharp photo alone? Each
 * photo of a folder (Kodak24 from ../shared, read in place) gets Gaussian noise σ 0.01 (seeded,
 * 8-bit), then goes through `deblur()` with `kernel: 'auto'` and with `kernel: 'none'` (the
 * v0.4.0 network alone). Prints PSNR per photo and the means; writes nothing.
 *
 *   node tools/bench/dist/sharp-photos.js --data ../shared/datasets/val/Kodak24 [--limit N] [--model NAME|FILE]
 *
 * `--model` (a shipped model's name or an ONNX file) replaces the default model for both calls.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createDeblurrer } from '@sgenet/core';
import { applyBlur, psnr } from '@sgenet/core/synthetic';
import type { RawImage } from '@sgenet/core';
import sharp from 'sharp';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { data: { type: 'string' }, limit: { type: 'string', default: '0' }, model: { type: 'string' } } });
  if (!values.data) throw new Error('usage: sharp-photos --data DIR [--limit N] [--model NAME|FILE]');
  const files = (await readdir(values.data)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const limit = Number(values.limit) || files.length;
  const d = await createDeblurrer(values.model ? { model: values.model } : {});
  console.log(`model ${d.model.name} ${d.model.version}`);
  const rows: { noisy: number; pipeline: number; network: number; identity: boolean }[] = [];
  for (const [i, f] of files.slice(0, limit).entries()) {
    const { data, info } = await sharp(join(values.data, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const clean: RawImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
    const noisy = applyBlur(clean, { width: 1, height: 1, data: Float32Array.of(1) }, { noise: 0.01, seed: 100 + i });
    let identity = true;
    const pipeline = await d.deblur(noisy, { kernel: 'auto', onKernel: (u) => { identity = u.identity; } });
    const network = await d.deblur(noisy, { kernel: 'none' });
    const row = { noisy: psnr(clean, noisy), pipeline: psnr(clean, pipeline), network: psnr(clean, network), identity };
    rows.push(row);
    console.log(`${f}: noisy ${row.noisy.toFixed(2)} pipeline ${row.pipeline.toFixed(2)} network ${row.network.toFixed(2)} dB${identity ? ' (identity kernel)' : ' (deconvolved)'}`);
  }
  const mean = (k: 'noisy' | 'pipeline' | 'network') => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  console.log(`MEAN over ${rows.length}: noisy ${mean('noisy').toFixed(2)} pipeline ${mean('pipeline').toFixed(2)} network ${mean('network').toFixed(2)} dB; ` +
    `pipeline - network ${(mean('pipeline') - mean('network')).toFixed(3)} dB; identity fallbacks ${rows.filter((r) => r.identity).length}/${rows.length}`);
  await d.dispose();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : String(err));
  process.exit(1);
});
