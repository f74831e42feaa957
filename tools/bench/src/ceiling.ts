/**
 * The machine's practical convolution ceiling: one large 3x3 Conv (64 -> 64 channels at 512 x 512,
 * 19.3 GFLOP, compute-bound) built in code and run on ONNX Runtime's CPU provider with the same
 * session options as @sgenet/ort-backend.
 */
import { availableParallelism } from 'node:os';

import * as ort from 'onnxruntime-node';

import { buildConvModel } from './onnx-writer.js';
import { median } from './stats.js';

export interface CeilingResult {
  label: string;
  gflop: number;
  runs: number;
  threads: number;
  medianSeconds: number;
  bestSeconds: number;
  /** GFLOP/s at the median time. */
  gflops: number;
  bestGflops: number;
}

export interface CeilingOptions {
  runs: number;
  threads?: number;
  channels?: number;
  size?: number;
  log?: (line: string) => void;
}

export async function measureConvCeiling(o: CeilingOptions): Promise<CeilingResult> {
  const channels = o.channels ?? 64;
  const size = o.size ?? 512;
  const threads = o.threads ?? availableParallelism();
  const model = buildConvModel({ inChannels: channels, outChannels: channels, kernel: 3, height: size, width: size });
  // Same options as @sgenet/ort-backend's CPU session.
  const session = await ort.InferenceSession.create(model.bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const input = new Float32Array(channels * size * size);
  for (let i = 0; i < input.length; i++) input[i] = ((i * 7919) % 1000) / 1000;
  const times: number[] = [];
  try {
    for (let i = 0; i <= o.runs; i++) {
      const x = new ort.Tensor('float32', input, [1, channels, size, size]);
      const t0 = performance.now();
      const out = await session.run({ x });
      const seconds = (performance.now() - t0) / 1000;
      out.y?.dispose();
      x.dispose();
      if (i === 0) continue; // warm-up
      times.push(seconds);
      o.log?.(`  conv ceiling run ${i}/${o.runs}: ${seconds.toFixed(3)} s`);
    }
  } finally {
    await session.release();
  }
  const gflop = model.flops / 1e9;
  const med = median(times);
  const best = Math.min(...times);
  return {
    label: `Conv 3x3, ${channels}->${channels} ch, ${size}x${size}`,
    gflop,
    runs: o.runs,
    threads,
    medianSeconds: med,
    bestSeconds: best,
    gflops: gflop / med,
    bestGflops: gflop / best,
  };
}
