/**
 * `npm run bench`: the project's committed benchmark. Measures, in one run and side by side:
 * speed (ORT vs the machine's 3x3 Conv ceiling, tfjs as a ratio to ORT), tiling overhead, the CLI's
 * peak memory, cost growth with image size, dev-benchmark quality, and draws the figures; prints
 * tables and writes BENCHMARKS.md. Each section fails on its own; a failed required section makes
 * the exit code 1.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DEFAULT_TILE_SIZE, planTiles } from '@sgenet/core';
import { applyBlur, deadLeaves, laplacianVariance, psnr, testChart, trajectoryKernel } from '@sgenet/core/synthetic';
import type { Deblurrer, ModelInfo } from '@sgenet/core';

import { loadOrt, loadTfjs, warmUp } from './backends.js';
import type { TfjsLoad } from './backends.js';
import { writeBeforeAfter, FIGURE_KERNEL, FIGURE_NOISE, SCENE_H, SCENE_W } from './before-after.js';
import { measureConvCeiling } from './ceiling.js';
import type { CeilingResult } from './ceiling.js';
import {
  growthTable, growthVerdicts, loadCliMemory, measureGrowth, measureMemory, memoryTable, RSS_BUDGET_MIB,
} from './cli-memory.js';
import type { GrowthRow, MemoryRow } from './cli-memory.js';
import { headerTable, machineInfo, shippedModel } from './env.js';
import { renderReport, reportBlocks } from './markdown.js';
import { parseOptions, REPO_ROOT, USAGE, UsageError } from './options.js';
import type { BenchOptions, SectionId } from './options.js';
import { psnrPerKernelSvg, qualityPrerequisite, qualityTable, RESTORATION_WORK, runQuality } from './quality.js';
import { compareFft, fftTable } from './fft-compare.js';
import { kernelCostTable, measureKernelCost } from './kernel-cost.js';
import { DATASETS_DIR, realPhotoTables, runRealPhotos, SHEET_DIR } from './real-photos.js';
import { hardSetTables, runHardSet } from './hard-set.js';
import { measureQueue, queueTable } from './queue-throughput.js';
import type { SectionResult, Table } from './report.js';
import { num, pct, reasonOf, renderText, verdict } from './report.js';
import { effectiveOverlap, measureSpeed, measureTiling, speedTable, tilingTable } from './speed.js';
import type { SpeedRow, TilingResult } from './speed.js';
import { median } from './stats.js';

/** Thrown by a section body to mark it skipped rather than failed. */
class Skip extends Error {}

interface SectionOutput {
  tables: Table[];
  markdown?: string;
  /** Set when the section produced partial results but must still count as failed. */
  failure?: string;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Budget {
  budget: string;
  measured: string;
  pass: boolean | null;
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }
  const started = performance.now();
  const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const sections: SectionResult[] = [];
  const budgets: Budget[] = [];
  const rel = (file: string) => relative(dirname(opts.out), file).split('\\').join('/');
  const skipped = (id: SectionId) => opts.skip.has(id);
  const how = (code: string) => `Command: \`${command}\` — code: ${code}.`;

  async function section(
    id: string,
    title: string,
    required: boolean,
    method: string[],
    body: () => Promise<SectionOutput>,
  ): Promise<SectionResult> {
    log(`\n=== ${title} ===`);
    const t0 = performance.now();
    let result: SectionResult;
    try {
      const out = await body();
      result = {
        id, title, required, method, tables: out.tables,
        status: out.failure ? 'failed' : 'ok',
        ...(out.failure ? { reason: out.failure } : {}),
        ...(out.markdown ? { markdown: out.markdown } : {}),
      };
    } catch (err) {
      result = err instanceof Skip
        ? { id, title, required, method, tables: [], status: 'skipped', reason: err.message }
        : { id, title, required, method, tables: [], status: 'failed', reason: reasonOf(err) };
    }
    for (const t of result.tables) log(`\n${renderText(t)}`);
    if (result.status === 'skipped') log(`  skipped: ${result.reason ?? ''}`);
    if (result.status === 'failed') log(`  FAILED${required ? '' : ' (optional)'}: ${result.reason ?? ''}`);
    log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    sections.push(result);
    return result;
  }

  // The report to update is read before anything is measured: a missing one is a usage error, not
  // an hour's run lost at the end.
  let previous: string | undefined;
  if (opts.update) {
    previous = (await readFile(opts.out, 'utf8').catch(() => undefined))?.replace(/\r\n/g, '\n');
    if (previous === undefined) {
      process.stderr.write(`bench: --update: no report at ${opts.out} to update; run once without --update\n`);
      return 2;
    }
    // A report without markers (another file, or one written before them) has no blocks to keep:
    // updating it would drop every section this run skips.
    if (!reportBlocks(previous).has('budgets')) {
      process.stderr.write(`bench: --update: ${opts.out} has no <!-- bench:… --> blocks to keep; run once without --update\n`);
      return 2;
    }
  }

  log(`sgenet benchmark — ${command}${opts.quick ? ' (QUICK: small sizes only, not the committed numbers)' : ''}`);

  // ---------------------------------------------------------------------------- header
  let header: Table | undefined;
  let measuredIn: string | undefined;
  let gflopPerMp: number | undefined;
  let modelInfo: ModelInfo | undefined;
  try {
    const [machine, model] = await Promise.all([machineInfo(), shippedModel()]);
    header = headerTable(machine, model, opts.quick);
    measuredIn = `${machine.date}, repository ${machine.git}, model ${model.info.name} ${model.info.version}`;
    gflopPerMp = model.info.gflopPerMegapixel;
    modelInfo = model.info;
    log(`\n${renderText(header)}`);
    budgets.push({
      budget: 'Default model ≤ 150 GFLOP per megapixel',
      measured: gflopPerMp === undefined ? 'no gflop_per_megapixel metadata' : `${num(gflopPerMp, 2)} GFLOP/MP`,
      pass: gflopPerMp === undefined ? null : gflopPerMp <= 150,
    });
  } catch (err) {
    sections.push({ id: 'header', title: 'Machine and model', required: true, status: 'failed', reason: reasonOf(err), tables: [], method: [] });
    log(`  FAILED: machine/model information: ${reasonOf(err)}`);
  }

  let ort: Deblurrer | undefined;
  let ortError: string | undefined;
  const needsOrt = !(skipped('speed') && skipped('tiling') && skipped('figure'));
  if (needsOrt) {
    try {
      ort = await loadOrt(opts.threads);
      await warmUp(ort);
    } catch (err) {
      ortError = `ORT backend failed to load: ${reasonOf(err)}`;
      log(`  ${ortError}`);
    }
  }
  const requireOrt = (): Deblurrer => {
    if (!ort) throw new Error(ortError ?? 'ORT backend not loaded');
    return ort;
  };
  let tfjs: TfjsLoad | undefined;

  // ----------------------------------------------------------------------------- speed
  let speedRows: SpeedRow[] = [];
  const ceilings: { when: string; result?: CeilingResult; error?: string }[] = [];
  let ceiling: CeilingResult | undefined;
  const runsFor = (mp: number) => (mp > 4 ? opts.runsLarge : opts.runs);
  await section('speed', 'Speed', true, [
    how('tools/bench/src/speed.ts, ceiling.ts, onnx-writer.ts, images.ts'),
    `Images: photo-like scenes generated in memory (SVG street scene rendered by sharp, plus noise), 4:3, sizes ${opts.speedSizes.join(', ')} MP. ` +
      `Timed: one \`deblurrer.deblur(image)\` call (pixels → tensors → model → pixels, default tile ${DEFAULT_TILE_SIZE}) after one warm-up inference; median of ${opts.runs} runs up to 4 MP and ${opts.runsLarge} above.`,
    `ORT: \`createDeblurrer({ backend: 'ort', providers: ['cpu'] })\`, ${opts.threads ?? 'all available'} intra-op threads. tfjs: \`@sgenet/tfjs-backend\` \`createBackend({ platform: '${opts.tfjsPlatform}' })\` on the same image, cancelled after ${opts.tfjsBudgetSeconds} s per run.`,
    'Conv ceiling: a one-node ONNX model (Conv 3x3, 64→64 channels, 512x512, 19.33 GFLOP) encoded in code (tools/bench/src/onnx-writer.ts) and run on ONNX Runtime CPU with the backend\'s session options; ' +
      `median of ${opts.ceilingRuns} runs after a warm-up, measured before and after the model runs; the higher is the ceiling.`,
  ], async () => {
    if (skipped('speed')) throw new Skip('--skip speed');
    const ortD = requireOrt();
    const measureCeiling = async (when: string) => {
      if (skipped('ceiling')) return;
      try {
        log(`  conv ceiling (${when})`);
        ceilings.push({ when, result: await measureConvCeiling({ runs: opts.ceilingRuns, ...(opts.threads ? { threads: opts.threads } : {}), log }) });
      } catch (err) {
        ceilings.push({ when, error: reasonOf(err) });
        log(`  conv ceiling (${when}) failed: ${reasonOf(err)}`);
      }
    };
    await measureCeiling('before');
    if (!skipped('tfjs')) {
      log(`  loading tfjs (${opts.tfjsPlatform})`);
      tfjs = await loadTfjs(opts.tfjsPlatform, opts.threads);
      log(tfjs.ok ? `  ${tfjs.label} loaded` : `  tfjs not available: ${tfjs.reason}`);
    }
    speedRows = await measureSpeed({
      ort: ortD, tfjs, sizes: opts.speedSizes, runsFor, tfjsBudgetSeconds: opts.tfjsBudgetSeconds, log,
    });
    await measureCeiling('after');
    const good = ceilings.filter((c) => c.result);
    ceiling = good.map((c) => c.result!).sort((a, b) => b.gflops - a.gflops)[0];
    const ceilingTable: Table = {
      title: 'Conv ceiling (ONNX Runtime CPU)',
      columns: ['when', 'op', 'GFLOP', 'threads', 'runs', 'median s', 'GFLOP/s', 'best-run GFLOP/s'],
      rows: ceilings.map((c) => c.result
        ? [c.when, c.result.label, num(c.result.gflop, 2), String(c.result.threads), String(c.result.runs), num(c.result.medianSeconds, 3), num(c.result.gflops, 1), num(c.result.bestGflops, 1)]
        : [c.when, 'failed', '–', '–', '–', '–', '–', c.error ?? '']),
    };
    const tables = [...(ceilings.length ? [ceilingTable] : []), speedTable(speedRows, gflopPerMp, ceiling, tfjs?.ok && tfjs.note ? [tfjs.note] : [])];
    // Budgets: ORT share of the ceiling at the largest size; tfjs ratio.
    const ortRows = speedRows.filter((r) => r.backend === 'ort' && r.times.length > 0);
    const largest = ortRows[ortRows.length - 1];
    if (largest && ceiling && gflopPerMp !== undefined) {
      const share = (gflopPerMp * largest.size.megapixels) / median(largest.times) / ceiling.gflops;
      budgets.push({
        budget: 'ORT CPU backend ≥ 70% of the measured conv throughput',
        measured: `${pct(share)} at ${largest.size.label} (${num((gflopPerMp * largest.size.megapixels) / median(largest.times), 1)} of ${num(ceiling.gflops, 1)} GFLOP/s)` +
          (largest.work !== undefined ? `; ${pct(share * largest.work)} counting tile overlap as work` : ''),
        pass: share >= 0.7,
      });
    } else {
      budgets.push({ budget: 'ORT CPU backend ≥ 70% of the measured conv throughput', measured: 'not measured', pass: null });
    }
    const tfjsRows = speedRows.filter((r) => r.backend !== 'ort');
    const ratios = tfjsRows.flatMap((r) => {
      const o = ortRows.find((x) => x.size.label === r.size.label);
      return r.times.length && o ? [`${num(median(r.times) / median(o.times), 2)}× ORT time at ${r.size.label}`] : [];
    });
    budgets.push({
      budget: 'tfjs speed reported as a ratio to ORT (same image, same run)',
      measured: skipped('tfjs') ? 'skipped (--skip tfjs)' : ratios.length ? ratios.join('; ') : (tfjsRows[0]?.error ?? (tfjs && !tfjs.ok ? `not available: ${tfjs.reason}` : 'no tfjs rows')),
      pass: null,
    });
    const failures: string[] = [];
    if (ortRows.length < speedRows.filter((r) => r.backend === 'ort').length) failures.push('some ORT speed runs failed');
    if (!skipped('ceiling') && !ceiling) failures.push('the conv ceiling could not be measured');
    return { tables, ...(failures.length ? { failure: failures.join('; ') } : {}) };
  });

  // ---------------------------------------------------------------------------- tiling
  let tiling: TilingResult | undefined;
  await section('tiling', 'Tiling overhead', true, [
    how('tools/bench/src/speed.ts (measureTiling)'),
    `A ${opts.tilingSize} MP photo-like image deblurred on ORT with tileSize ${opts.tileSize} (default overlap from the model's receptive field) ` +
      'and untiled (tileSize ≥ the image\'s longer side, one tile), interleaved, median of the runs; overhead = tiled / untiled − 1.',
  ], async () => {
    if (skipped('tiling')) throw new Skip('--skip tiling');
    tiling = await measureTiling(requireOrt(), opts.tilingSize, opts.tileSize, opts.runs, log);
    budgets.push({
      budget: 'Tiled result = untiled within 1/255 away from image borders',
      measured: `max ${tiling.maxDiffInterior} level(s) (${tiling.tiles} tiles of ${tiling.tileSize}, ${tiling.size.label})`,
      pass: tiling.maxDiffInterior <= 1,
    });
    return { tables: [tilingTable(tiling)] };
  });

  // ---------------------------------------------------------------------------- memory
  const memBackends = skipped('tfjs') ? ['ort'] : ['ort', 'tfjs'];
  let memoryRows: MemoryRow[] = [];
  await section('memory', 'Peak memory (CLI)', true, [
    how('tools/bench/src/cli-memory.ts, reusing apps/cli/dist/bench/memory.js (writeSyntheticPhoto, measureCli)'),
    `A ${opts.memoryWidth}x${opts.memoryHeight} synthetic photo written as PNG, then for each backend (${memBackends.join(', ')}): ` +
      '`/usr/bin/time -v node apps/cli/bin/sgenet.js deblur photo.png -o out.png --backend B -q`; "Maximum resident set size" is the peak RSS, measured from outside the process.',
  ], async () => {
    if (skipped('memory')) throw new Skip('--skip memory');
    const cli = await loadCliMemory();
    memoryRows = await measureMemory(cli, opts.memoryWidth, opts.memoryHeight, memBackends, log);
    const is12 = opts.memoryWidth * opts.memoryHeight >= 12e6;
    for (const r of memoryRows) {
      budgets.push({
        budget: `12 MP photo: peak RSS ≤ 1 GB with tiling (${r.backend})`,
        measured: r.result ? `${num(r.result.peakRssMiB, 0)} MiB at ${r.size.width}x${r.size.height}${is12 ? '' : ' (quick: not 12 MP)'}` : `not available: ${r.error ?? ''}`,
        pass: r.result && is12 ? r.result.peakRssMiB <= RSS_BUDGET_MIB : null,
      });
    }
    const ortRow = memoryRows.find((r) => r.backend === 'ort');
    return {
      tables: [memoryTable(memoryRows, is12)],
      ...(ortRow?.result ? {} : { failure: `the ORT CLI run failed: ${ortRow?.error ?? 'no result'}` }),
    };
  });

  // ---------------------------------------------------------------------------- growth
  let growthRows: GrowthRow[] = [];
  await section('growth', 'Cost growth', true, [
    how('tools/bench/src/cli-memory.ts (measureGrowth, same apps/cli helpers)'),
    `Synthetic photos of ${opts.growthSizes.join(', ')} MP (apps/cli writeSyntheticPhoto), each deblurred by one CLI process on ORT under \`/usr/bin/time -v\`; ` +
      'wall time and peak RSS compared with the smallest size.',
  ], async () => {
    if (skipped('growth')) throw new Skip('--skip growth');
    const cli = await loadCliMemory();
    growthRows = await measureGrowth(cli, opts.growthSizes, log);
    const v = growthVerdicts(growthRows);
    budgets.push({
      budget: `Cost grows at most linearly with pixels (${opts.growthSizes.join(' → ')} MP)`,
      measured: growthRows.every((r) => r.result)
        ? `time ${verdict(v.time)}, peak RSS ${verdict(v.rss)}`
        : 'incomplete: some sizes failed',
      pass: v.time === null || v.rss === null ? null : v.time && v.rss,
    });
    const failed = growthRows.filter((r) => !r.result);
    const info = modelInfo;
    const modelWork = info
      ? (w: number, h: number) => planTiles(w, h, { tileSize: DEFAULT_TILE_SIZE, overlap: effectiveOverlap(info, DEFAULT_TILE_SIZE), multiple: info.multiple })
        .tiles.reduce((sum, t) => sum + t.x.readLength * t.y.readLength, 0)
      : undefined;
    return {
      tables: [growthTable(growthRows, modelWork)],
      ...(failed.length ? { failure: `${failed.length} size(s) failed: ${failed[0]?.error ?? ''}` } : {}),
    };
  });

  // ---------------------------------------------------------------------------- figure
  const beforeAfterFile = join(opts.figuresDir, 'before-after.png');
  await section('figure', 'Before / after', true, [
    how(`tools/bench/src/before-after.ts, writing ${rel(beforeAfterFile)}`),
    `Sharp panels: a street front drawn as an SVG (buildings, windows, a shop sign with text, a street sign, a lamp) over core's \`deadLeaves()\` (the flower bed, and a weathering grain), rendered by sharp at ${SCENE_W}x${SCENE_H} — generated, no outside image. ` +
      `Blurred panels: core's \`trajectoryKernel(${JSON.stringify(FIGURE_KERNEL)})\` camera shake applied with \`applyBlur\` (reflect border, Gaussian noise σ ${FIGURE_NOISE}); the kernel is shown in the top panel's corner. ` +
      'Restored panels: `deblurrer.deblur(blurred, { kernel: \'auto\' })`, the default pipeline (the estimated kernel shown in the top panel\'s corner, then the deconvolution). Top row: the whole photos at 1/8; bottom row: the shop sign at 1/2. PSNR against the sharp photo, whole image and shift-aligned (best integer shift within ±5 px, interior).',
  ], async () => {
    if (skipped('figure')) throw new Skip('--skip figure');
    const r = await writeBeforeAfter(requireOrt(), beforeAfterFile);
    log(`  wrote ${r.file} (${r.width}x${r.height}, ${num(r.bytes / 1024, 0)} KiB)`);
    return {
      tables: [{
        title: 'Before / after (project-made street scene)',
        columns: ['panel', 'PSNR dB vs sharp', 'PSNR aligned dB', 'kernel'],
        rows: [
          ['blurred', num(r.psnrBlurred, 2), num(r.psnrBlurredAligned, 2), `true ${r.kernelSize} px`],
          ['restored', num(r.psnrRestored, 2), num(r.psnrRestoredAligned, 2), r.estimatedKernelSize ? `estimated ${r.estimatedKernelSize} px` : 'none found'],
        ],
      }],
      markdown: `![sharp | blurred | restored, with the true and the estimated kernel](${rel(beforeAfterFile)})`,
    };
  });

  // -------------------------------------------------------------------------- moderate
  // The same scenes and kernels the adapter and CLI tests use, so the gains they assert trace here.
  await section('moderate', 'Moderate shake on project-made images', true, [
    how('tools/bench/src/index.ts (section "moderate")'),
    'Scenes: core\'s `testChart(192, 128)` and `deadLeaves(192, 144, seed)`, blurred with core\'s ' +
      '`trajectoryKernel({ length, seed })` by `applyBlur` (reflect border, no noise), restored by the shipped model on ORT. ' +
      'PSNR against the sharp scene; Laplacian variance (luma, 4-neighbour) as the focus measure.',
  ], async () => {
    if (skipped('moderate')) throw new Skip('--skip moderate');
    const deblurrer = requireOrt();
    const cases: [string, () => ReturnType<typeof testChart>, number, number][] = [
      ['test chart', () => testChart(192, 128), 9, 11],
      ['test chart', () => testChart(192, 128), 9, 13],
      ['test chart', () => testChart(192, 128), 12, 11],
      ['dead leaves (seed 1)', () => deadLeaves(192, 144, 1), 10, 11],
      ['dead leaves (seed 2)', () => deadLeaves(192, 144, 2), 12, 13],
      ['dead leaves (seed 3)', () => deadLeaves(192, 144, 3), 14, 14],
    ];
    const rows: string[][] = [];
    for (const [name, make, length, seed] of cases) {
      const sharpScene = make();
      const blurred = applyBlur(sharpScene, trajectoryKernel({ length, seed }));
      const restored = await deblurrer.deblur(blurred);
      const before = psnr(blurred, sharpScene);
      const after = psnr(restored, sharpScene);
      rows.push([name, `${length} px (seed ${seed})`, num(before, 2), num(after, 2), num(after - before, 2),
        `${num(laplacianVariance(restored) / laplacianVariance(blurred), 2)}x`]);
      log(`  ${name}, path ${length} px: ${num(before, 2)} -> ${num(after, 2)} dB`);
    }
    return {
      tables: [{
        title: 'Moderate camera shake (ORT)',
        columns: ['scene', 'camera path', 'blurred dB', 'restored dB', 'gain dB', 'Laplacian variance'],
        rows,
      }],
    };
  });

  // --------------------------------------------------------------------------- quality
  const psnrFile = join(opts.figuresDir, 'psnr-per-kernel.svg');
  await section('fft', 'FFT', true, [
    how('tools/bench/src/fft-compare.ts'),
    "@sgenet/core's own FFT (the one its kernel estimator and deconvolution run) against fft.js on the same data in this run; outputs compared.",
  ], async () => {
    if (skipped('fft')) throw new Skip('--skip fft');
    return { tables: [fftTable(compareFft())] };
  });

  await section('kernel-cost', 'Kernel stages at 1 MP', true, [
    how('tools/bench/src/kernel-cost.ts'),
    "`estimateKernel` and `deconvolve` in process on core's `deadLeaves(1155, 866, 11)` blurred by a project camera path (noise σ 0.01), medians of 5 runs (the first on fresh worker threads).",
  ], async () => {
    if (skipped('kernel-cost')) throw new Skip('--skip kernel-cost');
    const cost = await measureKernelCost(opts.quick ? 2 : 5, opts.quick ? 577 : 1155, opts.quick ? 433 : 866);
    const estimation = median(cost.estimationSeconds);
    const is1mp = cost.width * cost.height >= 1e6;
    budgets.push({
      budget: 'Kernel estimation ≤ 5 s for a 1 MP photo (2-core machine)',
      measured: `${num(estimation, 2)} s median at ${cost.width}x${cost.height}${is1mp ? '' : ' (quick: not 1 MP)'}`,
      pass: is1mp ? estimation <= 5 : null,
    });
    return { tables: [kernelCostTable(cost)] };
  });

  await section('real-photos', 'Real shaken photos: kernel estimation', true, [
    how('tools/bench/src/real-photos.ts'),
    "`estimateKernel` with its defaults (what `deblur()` runs) on every photo of `../shared/datasets/real`, `real-kohler` and `real-lai`, read in place. Every one of them is blurred, so an identity fallback is a miss. NCC: against the published reference kernel of another blind method (best integer shift and a 180° turn; a miss counts 0), a sanity check, not ground truth. A contact sheet (blurry | restored | kernel) is written to `tools/bench/out/real-photos/index.html`, not committed.",
  ], async () => {
    if (skipped('real-photos')) throw new Skip('--skip real-photos');
    const results = await runRealPhotos({
      ...(opts.quick ? { folders: ['real'] as const } : {}),
      onPhoto: (r, i, n) => log(`  [${i + 1}/${n}] ${r.photo.folder}/${r.photo.name}: ${r.identity ? 'identity (miss)' : `${r.kernelWidth}x${r.kernelHeight}`}, confidence ${r.confidence.toFixed(2)}`),
    });
    const misses = results.filter((r) => r.identity).length;
    budgets.push({
      budget: 'Real-photo miss rate ≤ 5% (real, real-kohler, real-lai together)',
      measured: `${misses}/${results.length} (${pct(misses / results.length)})${opts.quick ? ' (quick: real/ only)' : ''}`,
      pass: opts.quick ? null : misses / results.length <= 0.05,
    });
    log(`  contact sheet: ${SHEET_DIR}/index.html (photos read from ${DATASETS_DIR})`);
    return { tables: realPhotoTables(results) };
  });

  await section('hard-set', 'Harder synthetic set: kernel stages', true, [
    how('tools/bench/src/hard-set.ts'),
    'Project-made scenes (dead leaves, test chart, 768x512) and project camera paths in seven groups: kernels 5-15, 17-49 and 51-101 px; in-plane rotation across the frame; saturated lights blurred in linear light then clipped; JPEG 70-95; noise 2-5%. `estimateKernel` then `deconvolve` with its defaults, against `deconvolve` with the true kernel; gains over the blurry photo, PSNR raw and shift-aligned.',
  ], async () => {
    if (skipped('hard-set')) throw new Skip('--skip hard-set');
    const results = await runHardSet({
      perGroup: opts.quick ? 1 : 6,
      onCase: (r) => log(`  ${r.group} #${r.index}: ${r.trueSide} px -> ${r.identity ? 'identity' : `${r.foundSide} px`}, aligned ${num(r.blurry.aligned, 2)} -> ${num(r.estimated.aligned, 2)} dB (true kernel ${num(r.trueKernel.aligned, 2)})`),
    });
    const large = results.filter((r) => r.group === 'large');
    const gain = (k: 'estimated' | 'trueKernel') => large.reduce((s, r) => s + r[k].aligned - r.blurry.aligned, 0) / large.length;
    budgets.push({
      budget: 'Harder set, 51-101 px kernels: ≥ 50% of the true-kernel deconvolution\'s aligned gain',
      measured: `${num(gain('estimated'), 2)} of ${num(gain('trueKernel'), 2)} dB`,
      pass: gain('estimated') >= 0.5 * gain('trueKernel'),
    });
    return { tables: hardSetTables(results) };
  });

  await section('queue', 'Job queue (BullMQ on Redis)', true, [
    how('tools/bench/src/queue-throughput.ts'),
    'A redis-server on loopback (Debian package), `sgenet worker` processes (1, then 2, splitting the cores between them), 24 jobs of project-made 640x480 JPEGs on a temp folder standing for the shared volume; wall time from the first add to the last completion, after one warm-up job per worker.',
    'Past one machine: run `sgenet worker` on as many hosts as needed against one Redis (or a Redis cluster; BullMQ supports both), every host mounting the same volume (NFS, EFS, a Docker volume) as `--root`, or another `DeblurStorage` (an object store) in code. Jobs carry paths, never pixels, so Redis traffic stays a few hundred bytes per job.',
  ], async () => {
    if (skipped('queue')) throw new Skip('--skip queue');
    return { tables: [queueTable(await measureQueue({ jobs: opts.quick ? 6 : 24 }))] };
  });

  await section('quality', 'Quality (dev benchmark)', true, [
    how('tools/bench/src/quality.ts, svg-chart.ts'),
    `Runs \`${opts.python} training/evaluate.py --json <tmp> --markdown <tmp> --restoration ${RESTORATION_WORK}${opts.qualityLimit ? ` --limit ${opts.qualityLimit}` : ''}\` ` +
      '(Kodak24 × the 8 Levin09 kernels from ../shared/datasets, read in place; see shared/docs/sgenet-model.md, "Dev benchmark"); its markdown is included verbatim.',
    `${rel(psnrFile)}: PSNR per kernel from the JSON's per_kernel block, drawn as a hand-written SVG by tools/bench/src/svg-chart.ts.`,
  ], async () => {
    if (skipped('quality')) throw new Skip(opts.quick ? '--quick (pass --quality-limit N to run it on N pairs)' : '--skip quality');
    const why = qualityPrerequisite();
    if (why) throw new Skip(why.replace(/^skipped: /, ''));
    const q = await runQuality(opts.python, opts.qualityLimit, log);
    await mkdir(dirname(psnrFile), { recursive: true });
    await writeFile(psnrFile, psnrPerKernelSvg(q.result));
    log(`  wrote ${psnrFile}`);
    const partial = opts.qualityLimit > 0 ? `\n\n_Partial run: the first ${q.result.pairs} pairs only (--quality-limit)._` : '';
    return {
      tables: [qualityTable(q.result)],
      markdown: `Report of \`training/evaluate.py\`:\n\n${q.markdown.trim()}${partial}\n\n![PSNR per kernel](${rel(psnrFile)})`,
    };
  });

  // --------------------------------------------------------------------------- budgets
  const budgetTable: Table = {
    title: 'Budgets',
    columns: ['budget (shared/docs/architecture.md)', 'measured', 'verdict'],
    align: ['l', 'l', 'l'],
    rows: budgets.map((b) => [b.budget, b.measured, verdict(b.pass)]),
  };
  log(`\n${renderText(budgetTable)}`);

  await ort?.dispose().catch(() => undefined);
  if (tfjs?.ok) await tfjs.deblurrer.dispose().catch(() => undefined);

  const totalSeconds = (performance.now() - started) / 1000;
  try {
    await mkdir(dirname(opts.out), { recursive: true });
    // The analysis of misses is written by a person (it needs profiling and judgement); it lives
    // beside the bench so that a re-run keeps it, and states its own date.
    const analysis = await readFile(join(REPO_ROOT, 'tools', 'bench', 'ANALYSIS.md'), 'utf8').catch(() => undefined);
    await writeFile(opts.out, renderReport({
      command, quick: opts.quick, header, budgets: budgetTable, sections, totalSeconds,
      readmeLink: rel(join(REPO_ROOT, 'tools', 'bench', 'README.md')),
      ...(analysis ? { analysis } : {}),
      ...(measuredIn ? { measured: measuredIn } : {}),
      ...(previous !== undefined ? { previous } : {}),
    }));
    log(`\nwrote ${opts.out}`);
  } catch (err) {
    log(`\nFAILED to write ${opts.out}: ${reasonOf(err)}`);
    return 1;
  }
  const failed = sections.filter((s) => s.status === 'failed' && s.required);
  log(`\n${sections.map((s) => `${s.title}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`).join('\n')}`);
  log(`total ${(totalSeconds / 60).toFixed(1)} min`);
  if (failed.length) {
    log(`\n${failed.length} required section(s) failed: ${failed.map((s) => s.title).join(', ')}`);
    return 1;
  }
  if (opts.strict && budgets.some((b) => b.pass === false)) {
    log('\n--strict: a budget was missed');
    return 3;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}

export { main };
