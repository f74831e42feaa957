import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { DEFAULT_TILE_SIZE } from '@sgenet/core';

/** Repository root, from tools/bench/dist/*.js (or tools/bench/src/*.ts under vitest). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const SECTION_IDS = ['ceiling', 'speed', 'tfjs', 'tiling', 'memory', 'growth', 'figure', 'moderate', 'fft', 'kernel-cost', 'real-photos', 'hard-set', 'queue', 'quality'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/**
 * Parts of other sections, not sections of their own: the conv ceiling and the tfjs rows of
 * speed (and of memory). `--skip` turns them off; `--only` leaves them on.
 */
const PARTS: readonly SectionId[] = ['ceiling', 'tfjs'];

export interface BenchOptions {
  quick: boolean;
  /** Timed runs per image up to 4 MP (median reported). */
  runs: number;
  /** Timed runs per image above 4 MP. */
  runsLarge: number;
  /** Timed runs of the Conv ceiling. */
  ceilingRuns: number;
  /** Speed sizes in megapixels. */
  speedSizes: number[];
  /** Image for the tiled/untiled comparison, in megapixels. */
  tilingSize: number;
  /** Tile side of the tiled run. */
  tileSize: number;
  /** Image for the CLI peak-memory runs: width x height. */
  memoryWidth: number;
  memoryHeight: number;
  /** Cost-growth sizes in megapixels (the first is the reference). */
  growthSizes: number[];
  /** tfjs platform passed to @sgenet/tfjs-backend's createBackend. */
  tfjsPlatform: string;
  /** A tfjs run still going after this many seconds is cancelled (between tiles). */
  tfjsBudgetSeconds: number;
  /** Intra-op threads for ORT (model and ceiling alike). Default: all available cores. */
  threads: number | undefined;
  /** Pairs of the dev benchmark (0: all 192). */
  qualityLimit: number;
  python: string;
  skip: Set<SectionId>;
  /** Markdown report path and figures folder (absolute). */
  out: string;
  figuresDir: string;
  /** Exit 3 when a performance budget is missed (default: report only). */
  strict: boolean;
  /** Keep the existing report's sections this run skips (`--update`), instead of marking them skipped. */
  update: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm run bench [-- options]      (or: node tools/bench/dist/index.js [options])

Measures SGENet side by side in one run and writes BENCHMARKS.md plus figures.

Options:
  --quick               development run: 0.25/0.5 MP only, no 12/16 MP, no quality;
                        writes bench-out/BENCHMARKS.quick.md and bench-out/figures/ instead
  --runs N              timed runs per image up to 4 MP, median reported (default 3)
  --runs-large N        timed runs per image above 4 MP (default 1)
  --ceiling-runs N      timed runs of the 3x3 Conv ceiling (default 5)
  --tile N              tile side of the "tiled" run (default ${DEFAULT_TILE_SIZE}; quick 768)
  --threads N           ORT intra-op threads (default: all available cores)
  --tfjs-platform P     tfjs platform for the speed rows (default wasm)
  --tfjs-budget S       cancel a tfjs speed run after S seconds (default 900)
  --quality-limit N     evaluate only the first N dev-benchmark pairs (default all 192);
                        with --quick, giving it turns the quality section back on
  --python EXE          Python for training/evaluate.py (default python3)
  --skip LIST           comma-separated sections to skip: ${SECTION_IDS.join(', ')}
  --only LIST           run only these sections (the others are skipped; ceiling and tfjs,
                        parts of speed and memory, stay on unless --skip is used instead)
  --update              rewrite the existing report in place: the sections this run skips keep
                        their text and the date of the run that measured them
  --out FILE            markdown report (default BENCHMARKS.md at the repository root)
  --figures DIR         figures folder (default docs/figures)
  --strict              exit 3 when a performance budget is missed
  -h, --help            this help

Exit codes: 0 all required sections ran, 1 a required section failed, 2 usage error,
3 (--strict only) a budget was missed.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return v;
}

export function parseOptions(argv: string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string' },
        'runs-large': { type: 'string' },
        'ceiling-runs': { type: 'string' },
        tile: { type: 'string' },
        threads: { type: 'string' },
        'tfjs-platform': { type: 'string' },
        'tfjs-budget': { type: 'string' },
        'quality-limit': { type: 'string' },
        python: { type: 'string' },
        skip: { type: 'string' },
        only: { type: 'string' },
        update: { type: 'boolean', default: false },
        out: { type: 'string' },
        figures: { type: 'string' },
        strict: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const quick = values.quick ?? false;
  const sectionList = (flag: string, raw: string | undefined): SectionId[] => {
    const ids = (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    for (const s of ids) {
      if (!(SECTION_IDS as readonly string[]).includes(s)) {
        throw new UsageError(`--${flag}: unknown section "${s}" (known: ${SECTION_IDS.join(', ')})`);
      }
    }
    return ids as SectionId[];
  };
  if (values.only !== undefined && values.skip !== undefined) throw new UsageError('give --only or --skip, not both');
  const only = values.only === undefined ? undefined : new Set(sectionList('only', values.only));
  if (only?.size === 0) throw new UsageError('--only needs at least one section');
  if (only && [...only].every((s) => PARTS.includes(s))) {
    throw new UsageError(`--only: ${[...only].join(', ')} ${only.size === 1 ? 'is a part' : 'are parts'} of speed and memory; name those sections`);
  }
  const skip = new Set<SectionId>(only ? SECTION_IDS.filter((s) => !only.has(s) && !PARTS.includes(s)) : sectionList('skip', values.skip));
  const qualityLimit = positiveInt('quality-limit', values['quality-limit'], 0, 0);
  if (quick && values['quality-limit'] === undefined) skip.add('quality');
  const tileSize = positiveInt('tile', values.tile, quick ? 768 : DEFAULT_TILE_SIZE, 64);
  if (tileSize > 8192) throw new UsageError(`--tile must be at most 8192, got ${tileSize}`);
  const out = values.out !== undefined
    ? resolve(values.out)
    : quick ? join(REPO_ROOT, 'bench-out', 'BENCHMARKS.quick.md') : join(REPO_ROOT, 'BENCHMARKS.md');
  const figuresDir = values.figures !== undefined
    ? resolve(values.figures)
    : quick ? join(REPO_ROOT, 'bench-out', 'figures') : join(REPO_ROOT, 'docs', 'figures');
  return {
    quick,
    runs: positiveInt('runs', values.runs, 3),
    runsLarge: positiveInt('runs-large', values['runs-large'], 1),
    ceilingRuns: positiveInt('ceiling-runs', values['ceiling-runs'], 5),
    speedSizes: quick ? [0.25, 0.5] : [1, 2, 12],
    tilingSize: quick ? 0.5 : 2,
    tileSize,
    memoryWidth: quick ? 816 : 4000,
    memoryHeight: quick ? 612 : 3000,
    growthSizes: quick ? [0.25, 0.5, 1] : [1, 4, 16],
    tfjsPlatform: values['tfjs-platform'] ?? 'wasm',
    tfjsBudgetSeconds: positiveInt('tfjs-budget', values['tfjs-budget'], 900),
    threads: values.threads === undefined ? undefined : positiveInt('threads', values.threads, 1),
    qualityLimit,
    python: values.python ?? 'python3',
    skip,
    out,
    figuresDir,
    strict: values.strict ?? false,
    update: values.update ?? false,
    help: values.help ?? false,
  };
}
