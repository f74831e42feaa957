/**
 * Speed of the shipped model on this backend relative to ONNX Runtime, in one process:
 *
 *     npm run bench --workspace @sgenet/tfjs-backend -- [--size 512] [--runs 5] [--cpu-runs 2]
 *                                                        [--platforms wasm,cpu] [--threads N]
 *                                                        [--profile]
 *
 * Prints JSON lines: one per engine (median and min of the timed runs after one warm-up run),
 * tfjs lines with `ratio_vs_ort` (tfjs median / ORT median; above 1 means slower than ORT).
 * `--profile` adds, per tfjs platform, a line with the time spent in each op type (one run).
 * Needs `@sgenet/ort-backend` (a dev dependency of this package) for the reference.
 */
import { availableParallelism } from 'node:os';

import { readModelBytes, shippedModelPath } from '@sgenet/core';
import { seededRandom } from '@sgenet/core/synthetic';
import type { Backend, ImageTensorDims, Session } from '@sgenet/core';

import { TFJS_PLATFORMS, createBackend, loadOnnxGraph } from './index.js';
import type { TfjsPlatform, TfjsSession } from './index.js';

interface BenchOptions {
  size: number;
  runs: number;
  cpuRuns: number;
  platforms: TfjsPlatform[];
  threads: number;
  profile: boolean;
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    size: 512,
    runs: 5,
    // The plain-JS platform is ~50x slower than ORT: two timed runs at 512x512 take minutes.
    cpuRuns: 2,
    platforms: ['wasm', 'cpu'],
    threads: availableParallelism(),
    profile: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const integer = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    switch (flag) {
      case '--size': options.size = Math.max(8, Math.round(integer() / 8) * 8); break;
      case '--runs': options.runs = Math.max(1, integer()); break;
      case '--cpu-runs': options.cpuRuns = integer(); break;
      case '--threads': options.threads = Math.max(1, integer()); break;
      case '--profile': options.profile = true; break;
      case '--platforms':
        options.platforms = (value ?? '').split(',').filter(Boolean) as TfjsPlatform[];
        for (const p of options.platforms) {
          if (!(TFJS_PLATFORMS as readonly string[]).includes(p)) throw new Error(`unknown platform ${p}`);
        }
        i++;
        break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  return options;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** One warm-up run, then `runs` timed runs. */
async function time(session: Session, input: Float32Array, dims: ImageTensorDims, runs: number): Promise<number[]> {
  await session.run(input, dims);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run(input, dims);
    times.push(performance.now() - started);
  }
  return times;
}

async function loadOrt(): Promise<Backend> {
  const specifier = '@sgenet/ort-backend';
  try {
    const ort = (await import(specifier)) as { createBackend(options: { providers: string[] }): Backend };
    return ort.createBackend({ providers: ['cpu'] });
  } catch (err) {
    throw new Error(`The reference needs ${specifier} installed (it is a dev dependency): ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { size } = options;
  const dims: ImageTensorDims = [1, 3, size, size];
  const rand = seededRandom(1);
  const input = Float32Array.from({ length: 3 * size * size }, () => rand());
  const model = await readModelBytes(shippedModelPath('sgenet-s'));
  const common = { bench: 'tfjs-vs-ort', model: 'sgenet-s', size: `${size}x${size}` };

  const ort = await (await loadOrt()).load(model, { threads: options.threads });
  const ortTimes = await time(ort, input, dims, options.runs);
  await ort.dispose();
  const ortMedian = median(ortTimes);
  console.log(JSON.stringify({
    ...common, engine: 'ort', provider: ort.provider, threads: options.threads, runs: ortTimes.length,
    median_ms: round(ortMedian), min_ms: round(Math.min(...ortTimes)),
  }));

  for (const platform of options.platforms) {
    const runs = platform === 'cpu' ? options.cpuRuns : options.runs;
    if (runs === 0) continue;
    let session: Session;
    try {
      session = await createBackend({ platform }).load(model);
    } catch (err) {
      console.log(JSON.stringify({ ...common, engine: 'tfjs', provider: platform, error: (err as Error).message }));
      continue;
    }
    const features = await (session as TfjsSession).wasmFeatures();
    // cpu: no warm-up beyond the first timed run's cost; a run takes long enough to not matter.
    const times = platform === 'cpu' ? await timeWithoutWarmup(session, input, dims, runs) : await time(session, input, dims, runs);
    await session.dispose();
    if (options.profile) await profile(model, platform, input, dims, common);
    const tfjsMedian = median(times);
    console.log(JSON.stringify({
      ...common, engine: 'tfjs', provider: platform, threads: 1, runs: times.length,
      ...(features ? { wasm_simd: features.simd, wasm_threads: features.threads } : {}),
      median_ms: round(tfjsMedian), min_ms: round(Math.min(...times)),
      ratio_vs_ort: Math.round((tfjsMedian / ortMedian) * 100) / 100,
    }));
  }
}

async function timeWithoutWarmup(session: Session, input: Float32Array, dims: ImageTensorDims, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run(input, dims);
    times.push(performance.now() - started);
  }
  return times;
}

/** Milliseconds per op type over one run (after a warm-up run). */
async function profile(
  model: Uint8Array,
  platform: TfjsPlatform,
  input: Float32Array,
  dims: ImageTensorDims,
  common: Record<string, string>,
): Promise<void> {
  const graph = await loadOnnxGraph(model, { platform });
  try {
    const feeds = { [graph.inputNames[0]!]: { dtype: 'float32' as const, dims: [...dims], data: input } };
    await graph.run(feeds);
    const perOp = new Map<string, number>();
    await graph.run(feeds, { onNode: (opType, _name, ms) => perOp.set(opType, (perOp.get(opType) ?? 0) + ms) });
    const sorted = [...perOp].sort((a, b) => b[1] - a[1]).map(([op, ms]) => [op, round(ms)]);
    console.log(JSON.stringify({ ...common, engine: 'tfjs', provider: platform, profile_ms: Object.fromEntries(sorted) }));
  } finally {
    await graph.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
