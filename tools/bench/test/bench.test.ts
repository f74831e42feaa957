/**
 * Correctness of the benchmark's own machinery (no timings are asserted: the benchmark is a
 * report, never a timed test).
 */
import { readOnnxMetadata } from '@sgenet/core/onnx';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { figureScene, STRIP_H, STRIP_W } from '../src/before-after.js';
import { growthVerdicts } from '../src/cli-memory.js';
import type { GrowthRow } from '../src/cli-memory.js';
import { sizeFor, syntheticPhoto } from '../src/images.js';
import { blockMarker, renderReport, reportBlocks, tableRows } from '../src/markdown.js';
import type { ReportInput } from '../src/markdown.js';
import { buildConvModel } from '../src/onnx-writer.js';
import { parseOptions, UsageError } from '../src/options.js';
import { parseQuality, psnrPerKernelSvg } from '../src/quality.js';
import { Notes, renderMarkdown, renderText } from '../src/report.js';
import { speedTable } from '../src/speed.js';
import { median } from '../src/stats.js';

/** Reference 2-D convolution (cross-correlation, zero "same" padding), NCHW, batch 1. */
function referenceConv(x: Float32Array, w: Float32Array, b: Float32Array, ci: number, co: number, k: number, h: number, wd: number): Float32Array {
  const out = new Float32Array(co * h * wd);
  const p = (k - 1) / 2;
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < wd; xx++) {
        let acc = b[o]!;
        for (let i = 0; i < ci; i++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const sy = y + ky - p;
              const sx = xx + kx - p;
              if (sy < 0 || sy >= h || sx < 0 || sx >= wd) continue;
              acc += w[((o * ci + i) * k + ky) * k + kx]! * x[(i * h + sy) * wd + sx]!;
            }
          }
        }
        out[(o * h + y) * wd + xx] = acc;
      }
    }
  }
  return out;
}

describe('ONNX writer', () => {
  it('builds a Conv model that ONNX Runtime runs and that matches a reference convolution', async () => {
    const [ci, co, k, h, w] = [3, 4, 3, 7, 5];
    const model = buildConvModel({ inChannels: ci, outChannels: co, kernel: k, height: h, width: w, seed: 7 });
    expect(model.flops).toBe(2 * ci * co * k * k * h * w);
    expect(readOnnxMetadata(model.bytes).purpose).toContain('conv throughput ceiling');
    const session = await ort.InferenceSession.create(model.bytes, { executionProviders: ['cpu'] });
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y']);
      const x = Float32Array.from({ length: ci * h * w }, (_, i) => Math.sin(i * 0.37));
      const out = await session.run({ x: new ort.Tensor('float32', x, [1, ci, h, w]) });
      const y = out.y;
      expect(y?.dims).toEqual([1, co, h, w]);
      const expected = referenceConv(x, model.weights, model.bias, ci, co, k, h, w);
      const got = y!.data as Float32Array;
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 4);
    } finally {
      await session.release();
    }
  });

  it('can make H and W symbolic', async () => {
    const model = buildConvModel({ inChannels: 2, outChannels: 2, kernel: 3, height: 4, width: 4, staticShape: false });
    const session = await ort.InferenceSession.create(model.bytes);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(2 * 9 * 11), [1, 2, 9, 11]) });
      expect(out.y?.dims).toEqual([1, 2, 9, 11]);
    } finally {
      await session.release();
    }
  });
});

describe('inputs', () => {
  it('uses 4000x3000 for 12 MP and 4:3 sizes elsewhere', () => {
    expect(sizeFor(12)).toMatchObject({ width: 4000, height: 3000, megapixels: 12 });
    for (const mp of [0.25, 0.5, 1, 2, 4, 16, 3]) {
      const s = sizeFor(mp);
      expect(Math.abs(s.megapixels / mp - 1)).toBeLessThan(0.02);
      expect(s.width % 8).toBe(0);
    }
  });

  it('generates a deterministic photo-like image in memory', async () => {
    const a = await syntheticPhoto(96, 72, 3);
    const b = await syntheticPhoto(96, 72, 3);
    expect(a).toMatchObject({ width: 96, height: 72, channels: 3 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    const values = new Set(a.data);
    expect(values.size).toBeGreaterThan(100);
  });

  it('draws the figure scene (a street over dead leaves) the same every time, at any 3:2 size', async () => {
    const a = await figureScene(240, 160);
    const b = await figureScene(240, 160);
    expect(a).toMatchObject({ width: 240, height: 160, channels: 3 });
    expect(a.data.length).toBe(240 * 160 * 3);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(new Set(a.data).size).toBeGreaterThan(100);
    // Hand-computed layout: 2400x1600 at 298 px wide is 199 px high; detail row 200, gaps 3, caption 30.
    expect(STRIP_W).toBe(3 * 298 + 2 * 3);
    expect(STRIP_H).toBe(199 + 3 + 200 + 30);
  });
});

const QUALITY_JSON = {
  pairs: 16,
  summary: { blurry: { psnr: 20.1, ssim: 0.3 }, unsharp_strong: { psnr: 19.4, ssim: 0.2 }, model: { psnr: 24.5, ssim: 0.7 } },
  per_kernel: {
    blurry: [{ psnr: 21, ssim: 0.3, n: 2 }, { psnr: 19.2, ssim: 0.3, n: 2 }],
    unsharp_strong: [{ psnr: 20, ssim: 0.2, n: 2 }, { psnr: 18.8, ssim: 0.2, n: 2 }],
    model: [{ psnr: 25, ssim: 0.7, n: 2 }, { psnr: null, ssim: null, n: 0 }],
  },
  labels: { blurry: 'blurry input', model: 'sgenet-s <0.1.0> & co' },
};

describe('quality chart', () => {
  it('parses evaluate.py JSON and rejects malformed input', () => {
    expect(parseQuality(QUALITY_JSON).pairs).toBe(16);
    expect(() => parseQuality({ pairs: 1 })).toThrow(/summary/);
    expect(() => parseQuality({ ...QUALITY_JSON, per_kernel: { model: [{ psnr: 'x' }] } })).toThrow(/per_kernel/);
  });

  it('writes an SVG that renders, with one series per method and escaped text', async () => {
    const svg = psnrPerKernelSvg(parseQuality(QUALITY_JSON));
    expect(svg).toContain('SGENet v0.4.0 alone');
    expect(svg).toContain('strong unsharp mask');
    expect(svg).not.toContain('sharp().sharpen()'); // absent from this JSON, so not plotted
    const meta = await sharp(Buffer.from(svg)).metadata();
    expect(meta.format).toBe('svg');
    expect(meta.width).toBeGreaterThan(500);
  });
});

describe('tables and verdicts', () => {
  const size = (mp: number) => sizeFor(mp);
  it('calls growth linear only when time and RSS grow no faster than pixels', () => {
    const rows = (t: number, r: number): GrowthRow[] => [
      { size: size(1), result: { wallSeconds: 2, peakRssMiB: 300 } },
      { size: size(4), result: { wallSeconds: 2 * t, peakRssMiB: 300 * r } },
    ];
    expect(growthVerdicts(rows(3.9, 1.5))).toEqual({ time: true, rss: true });
    expect(growthVerdicts(rows(5, 1.5))).toEqual({ time: false, rss: true });
    expect(growthVerdicts(rows(3, 6))).toEqual({ time: true, rss: false });
    expect(growthVerdicts([{ size: size(1), error: 'x' }])).toEqual({ time: null, rss: null });
  });

  it('reports tfjs as a ratio to ORT and moves reasons into notes', () => {
    const t = speedTable(
      [
        { size: size(1), backend: 'ort', times: [2, 1, 3], work: 1.2 },
        { size: size(1), backend: 'tfjs', times: [8] },
        { size: size(2), backend: 'ort', times: [4] },
        { size: size(2), backend: 'tfjs', times: [], error: 'not available: nope' },
      ],
      100,
      { label: 'c', gflop: 19.33, runs: 1, threads: 2, medianSeconds: 0.2, bestSeconds: 0.2, gflops: 200, bestGflops: 200 },
    );
    expect(t.rows[0]).toEqual(['1 MP (1152x864)', 'ort', '3', '2.00', '0.498', '49.8', '25%', '59.7 (30%)', '1.00×']);
    expect(t.rows[1]?.[8]).toBe('4.00×');
    expect(t.rows[3]?.[8]).toBe('see note 1');
    expect(t.notes).toContain('Note 1: not available: nope');
    expect(renderText(t)).toContain('tfjs');
    expect(renderMarkdown(t)).toMatch(/^### Speed\n\n\| image \|/);
  });

  it('numbers notes once per distinct reason', () => {
    const n = new Notes();
    expect(n.ref('a')).toBe('see note 1');
    expect(n.ref('b', 'failed: ')).toBe('failed: see note 2');
    expect(n.ref('a')).toBe('see note 1');
    expect(n.lines()).toEqual(['Note 1: a', 'Note 2: b']);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('options', () => {
  it('quick mode uses small sizes, skips quality and writes to bench-out', () => {
    const o = parseOptions(['--quick']);
    expect(o.speedSizes).toEqual([0.25, 0.5]);
    expect(o.growthSizes).toEqual([0.25, 0.5, 1]);
    expect(o.skip.has('quality')).toBe(true);
    expect(o.out).toMatch(/bench-out[\\/]BENCHMARKS\.quick\.md$/);
  });

  it('full mode measures 1, 2, 12 MP speed, a 4000x3000 memory run and 1/4/16 MP growth', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({ speedSizes: [1, 2, 12], runs: 3, runsLarge: 1, memoryWidth: 4000, memoryHeight: 3000, growthSizes: [1, 4, 16] });
    expect(o.out).toMatch(/[\\/]BENCHMARKS\.md$/);
    expect(o.figuresDir).toMatch(/docs[\\/]figures$/);
  });

  it('--only skips every other section; --update is off unless asked', () => {
    const o = parseOptions(['--only', 'speed,tiling', '--update']);
    expect(o.update).toBe(true);
    expect(['speed', 'tiling', 'ceiling', 'tfjs'].some((s) => o.skip.has(s as never))).toBe(false);
    expect(['memory', 'growth', 'quality', 'real-photos'].every((s) => o.skip.has(s as never))).toBe(true);
    expect(parseOptions([]).update).toBe(false);
    expect(() => parseOptions(['--only', 'speed', '--skip', 'tiling'])).toThrow(/not both/);
    expect(() => parseOptions(['--only', 'nope'])).toThrow(/unknown section/);
    expect(() => parseOptions(['--only', ','])).toThrow(/at least one/);
    expect(() => parseOptions(['--only', 'ceiling'])).toThrow(/part of speed and memory/);
  });

  it('rejects bad values', () => {
    expect(() => parseOptions(['--runs', '0'])).toThrow(UsageError);
    expect(() => parseOptions(['--skip', 'nope'])).toThrow(/unknown section/);
    expect(() => parseOptions(['--bogus'])).toThrow(UsageError);
  });
});

describe('report update (--update)', () => {
  const budgets = (rows: string[][]) => ({ title: 'Budgets', columns: ['budget', 'measured', 'verdict'], rows });
  const section = (id: string, title: string, status: 'ok' | 'skipped', value: string) => ({
    id, title, required: true, status, method: [`how ${id}`],
    tables: status === 'ok' ? [{ title: `${title} table`, columns: ['k', 'v'], rows: [['x', value]] }] : [],
    ...(status === 'skipped' ? { reason: `--skip ${id}` } : {}),
  });
  const input = (over: Partial<ReportInput>): ReportInput => ({
    command: 'npm run bench', quick: false, header: { title: 'Machine and model', columns: ['item', 'value'], rows: [['Date (UTC)', 'D']] },
    budgets: budgets([]), sections: [], totalSeconds: 60, readmeLink: 'tools/bench/README.md', ...over,
  });

  it('finds each block by its marker and reads a table back, escaped pipes included', () => {
    const md = ['# T', 'preamble', blockMarker('a'), '## A', '', '| h | i |', '|:---|---:|', '| x \\| y | 1 |', '', '', blockMarker('b'), '## B'].join('\n');
    const blocks = reportBlocks(md);
    expect([...blocks.keys()]).toEqual(['a', 'b']);
    expect(blocks.get('a')).toBe([blockMarker('a'), '## A', '', '| h | i |', '|:---|---:|', '| x \\| y | 1 |'].join('\n'));
    expect(tableRows(blocks.get('a')!)).toEqual([['x | y', '1']]);
  });

  it('keeps the sections and budget rows a run skipped, with their own date, and replaces the ones it measured', () => {
    const first = renderReport(input({
      measured: '2026-01-01T00:00:00Z, repository aaa',
      budgets: budgets([['speed budget', 'old speed', '✓ pass'], ['memory budget', 'old memory', '✗ miss']]),
      sections: [section('speed', 'Speed', 'ok', 'old-speed'), section('memory', 'Peak memory', 'ok', 'old-memory')],
      analysis: '## Analysis\n\nwritten by a person, once',
    }));
    const second = renderReport(input({
      measured: '2026-02-02T00:00:00Z, repository bbb',
      budgets: budgets([['speed budget', 'new speed', '✓ pass']]),
      sections: [section('speed', 'Speed', 'ok', 'new-speed'), section('memory', 'Peak memory', 'skipped', ''), section('queue', 'Job queue', 'skipped', '')],
      analysis: '## Analysis\n\nwritten by a person, once',
      previous: first,
    }));
    const blocks = reportBlocks(second);
    expect(blocks.get('speed')).toContain('new-speed');
    expect(blocks.get('speed')).toContain('_Measured in the run of 2026-02-02T00:00:00Z, repository bbb._');
    // The skipped section is the first run's block, byte for byte.
    expect(blocks.get('memory')).toBe(reportBlocks(first).get('memory'));
    expect(blocks.get('memory')).toContain('2026-01-01T00:00:00Z');
    // A section never measured is left out, not listed as skipped.
    expect(blocks.has('queue')).toBe(false);
    expect(second).not.toContain('_Skipped');
    expect(tableRows(blocks.get('budgets')!)).toEqual([['speed budget', 'new speed', '✓ pass'], ['memory budget', 'old memory', '✗ miss']]);
    expect(tableRows(blocks.get('header')!)).toContainEqual(['Sections measured in this run', 'Speed']);
    expect(second.match(/written by a person, once/g)).toHaveLength(1);
    // Updating again with nothing new changes nothing but the header and the run line.
    const third = renderReport(input({
      measured: '2026-03-03T00:00:00Z, repository ccc', budgets: budgets([]),
      sections: [section('speed', 'Speed', 'skipped', ''), section('memory', 'Peak memory', 'skipped', '')],
      analysis: '## Analysis\n\nwritten by a person, once', previous: second,
    }));
    expect(reportBlocks(third).get('speed')).toBe(blocks.get('speed'));
    expect(reportBlocks(third).get('budgets')).toBe(blocks.get('budgets'));
  });

  it('keeps the last good block of a section that failed, saying so under its title', () => {
    const first = renderReport(input({ measured: 'D1', sections: [section('memory', 'Peak memory', 'ok', 'good-memory')] }));
    const failed = { ...section('memory', 'Peak memory', 'skipped', ''), status: 'failed' as const, reason: 'GNU time is missing' };
    const second = reportBlocks(renderReport(input({ measured: 'D2', sections: [failed], previous: first })));
    const block = second.get('memory')!;
    expect(block).toContain('good-memory');
    expect(block).toContain('_Measured in the run of D1._');
    expect(block.split('\n').slice(0, 4)).toEqual([blockMarker('memory'), '## Peak memory', '',
      '**This section failed in the run of D2:** GNU time is missing. What follows is the previous run\'s.']);
  });

  it('without a previous report lists a skipped section as skipped', () => {
    const md = renderReport(input({ sections: [section('queue', 'Job queue', 'skipped', '')] }));
    expect(reportBlocks(md).get('queue')).toContain('_Skipped: --skip queue_');
  });
});
