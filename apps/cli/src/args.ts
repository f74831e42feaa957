import { parseArgs } from 'node:util';

import { CONFIDENT_KERNEL, isIntegerInRange, isOneOf, MAX_ESTIMATED_KERNEL_SIZE, minTileSizeFor, OUTPUT_FORMATS, OVERLAP_RANGE, EFFORTS, REGIONS_CHOICES, regionsFromText, TILE_SIZE_RANGE } from '@sgenet/core';
import type { OutputFormat, Effort, RegionsChoice } from '@sgenet/core';
import { QUEUE_NAME_PATTERN } from '@sgenet/queue';

import { EXIT } from './exit-codes.js';

export const BACKENDS = ['ort', 'tfjs'] as const;
export type BackendFlag = (typeof BACKENDS)[number];

/** A command line the user got wrong: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** Stable code of every usage error. */
  readonly code = 'ERR_SGENET_CLI_USAGE';
}

export interface DeblurCommand {
  command: 'deblur';
  inputs: string[];
  output?: string;
  outDir?: string;
  backend?: BackendFlag;
  /** An ONNX model file instead of the shipped one (export contract: shared/docs/sgenet-model.md). */
  model?: string;
  tileSize?: number;
  overlap?: number;
  format?: OutputFormat;
  /** `auto`, `none`, or the path of a PSF file (PNG or JSON). */
  kernel?: string;
  /** Run the network after the deconvolution (`--network` / `--no-network`). */
  network?: boolean;
  /** `--effort standard|best` (core's `DeblurOptions.effort`). */
  effort?: Effort;
  maxSize?: number;
  /** `--regions auto|off|2|3|4` (core's `EstimateKernelOptions.regions`). */
  regions?: RegionsChoice;
  /** One JSON object per photo on stdout (JSON Lines) instead of the human lines. */
  json: boolean;
  quiet: boolean;
}

export interface KernelCommand {
  command: 'kernel';
  inputs: string[];
  /** One input: write the kernel here (.png: scaled to 0-255; .json: the JSON format). */
  output?: string;
  /** Several inputs: write `<name>.psf.png` (or `.psf.json` with --json) per input here. */
  outDir?: string;
  json: boolean;
  maxSize?: number;
  regions?: RegionsChoice;
  quiet: boolean;
}

export interface WorkerCommand {
  command: 'worker';
  redis: string;
  queue?: string;
  /** The shared folder job locations are relative to. Default: the current folder. */
  root: string;
  concurrency?: number;
  backend?: BackendFlag;
  /** `--model`: the worker's model (a file or a shipped model's name). Default: the shipped sgenet-s. */
  model?: string;
  /** Backend threads of the worker's deblurrer. Default: all cores. */
  threads?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  shutdownTimeoutMs?: number;
  quiet: boolean;
}

export interface EnqueueCommand {
  command: 'enqueue';
  inputs: string[];
  outDir: string;
  redis: string;
  queue?: string;
  root: string;
  format?: OutputFormat;
  /** `auto`, `none`, or the path of a PSF file. */
  kernel?: string;
  network?: boolean;
  /** `--effort standard|best`, carried by every job. */
  effort?: Effort;
  maxSize?: number;
  overwrite: boolean;
  wait: boolean;
  quiet: boolean;
}

export type Command = DeblurCommand | KernelCommand | WorkerCommand | EnqueueCommand | { command: 'help' } | { command: 'version' };

export const USAGE = `Usage: sgenet deblur <file|dir>... (-o FILE | --out-dir DIR) [--json] [options]
       sgenet kernel <file|dir>... [-o PSF.png | --out-dir DIR] [--json] [--max-size N] [--regions R]
       sgenet worker --redis URL [--concurrency N] [--queue NAME] [--root DIR]
       sgenet enqueue <file|dir>... --out-dir DIR --redis URL [--wait] [--root DIR] [options]

deblur removes camera-shake motion blur from photos: by default (--kernel auto) it estimates the
blur kernel and deconvolves with it (--network: then the model cleans up); where the photo shows no
blur the estimate is the identity and the SGENet model shipped in @sgenet/core runs alone, as it
does with --kernel none. For each photo written it prints "<input> -> <output>" on stdout and
what it found on stderr: "<input>: no blur found: denoised only", or "<input>: blur found,
confident (17x9 px kernel, confidence 0.62)" ("uncertain" below confidence ${CONFIDENT_KERNEL}: compare
the result with the original).
deblur --json prints instead one JSON object per input on stdout (JSON Lines), failures included:
  {"input":"a.jpg","output":"out/a.jpg","kernel":{"width":17,"height":9,"confidence":0.62,
   "identity":false,"source":"estimated","verdict":"confident"},"error":null}
"verdict" is none (no blur found: "identity" true, a 1x1 kernel), confident or uncertain;
"source" is estimated (--kernel auto) or given (a PSF file); "kernel" is null with --kernel none.
A failed input has "output":null and "error":{"code":"ERR_...","message":"..."}.
kernel estimates the blur kernel only. With --json and one input it prints
{"width":W,"height":H,"data":[...]} (row-major, sum 1) on stdout; with several inputs, one such
object per line with "file", "confidence", "spectralEvidence" and "identity" added. Where the shake varies
over the photo, "grid" follows: {"columns","rows","width","height","kernels":[...],"own":[...],
"agreement":[...]}, one kernel per cell, row-major (deblur --json: "regions"). A photo without blur prints the
identity kernel {"width":1,"height":1,"data":[1]} (exit status 0). -o writes a PNG (the kernel
scaled to 0-255) or, for a .json name, the JSON; for a photo without blur -o and --out-dir write
nothing, say "<input>: no blur found; nothing written" on stderr and exit with status ${EXIT.noBlur}.
worker takes deblur jobs from a BullMQ queue on Redis until SIGTERM/SIGINT (it finishes its job
first); enqueue adds one job per photo and, with --wait, shows their progress and exits 1 if any
failed. Photos and outputs stay on a folder every worker can read (--root, default the current
folder); only their paths go through Redis.

Options:
  -o, --output FILE     output file (exactly one input)
  -d, --out-dir DIR     output folder; each output keeps its input's name
  -b, --backend NAME    ort (default) or tfjs
  -m, --model FILE      deblur, worker: one SGENet ONNX model for everything instead of the shipped
                        pair (sgenet-s-sigma, the learned prior, after the deconvolution at the
                        noise level the pipeline sets; sgenet-s, v0.4.0, where no blur is found),
                        or one shipped model's name: sgenet-s-sigma or sgenet-s
  -t, --tile N          tile size in pixels, 64-8192 (default 896; 640 on tfjs), at least
                        3 x overlap + 2 x the model's size multiple (3 x overlap + 16 shipped)
      --overlap N       context around each tile in pixels, 0-1024 (default from the model)
  -f, --format FMT      png, jpeg or webp (default: the input's format, else png)
  -k, --kernel K        deblur: auto (estimate the kernel and deconvolve, default), none (the
                        network alone) or a PSF file (PNG, or JSON as printed by sgenet kernel)
      --network         deblur: run the network after the deconvolution (the default with a
                        noise-conditioned model such as the default sgenet-s-sigma)
      --no-network      deblur: deconvolution only (the default with --model sgenet-s)
      --effort E        deblur, enqueue: standard (default) or best: with sgenet-s-sigma (for
                        enqueue, the worker's model) and a kernel, 4 passes of the learned prior
                        instead of one, about 4x the time; better with a measured PSF (--kernel
                        FILE), worse with a wrong kernel
      --json            kernel: print the kernel as JSON; deblur: one JSON line per input on stdout
      --max-size N      kernel, deblur: largest kernel side in px, odd, 5-401, one ladder of sizes
                        (default: a tenth of the short side, at least 101, from 1 MP, else a fifth
                        of the short side up to 101; tried only when the long side / 22 is filled)
      --regions R       kernel, deblur: per-region kernels for shake that varies over the photo:
                        off (default), auto (a 3x3 or 2x2 grid where the photo is large enough),
                        2, 3 or 4; 1.3-2.9x the estimation time
      --redis URL       worker, enqueue: redis://[user:pass@]host[:port][/db] (rediss:// for TLS)
      --queue NAME      worker, enqueue: queue name (default sgenet-deblur)
      --root DIR        worker, enqueue: the shared folder job paths are relative to (default .)
      --concurrency N   worker: jobs at the same time, 1-64 (default 1)
      --threads N       worker: backend threads, 1-256 (default all cores; 1 when several workers share a host)
      --lock-duration MS      worker: a dead worker's job is taken over after this, 1000-600000 (default 30000)
      --stalled-interval MS   worker: how often to look for such jobs, 500-600000 (default 30000)
      --shutdown-timeout MS   worker: on SIGTERM, exit within this: the job gets all of it but the last
                              quarter (that quarter at most 5000), then is handed back (default 30000)
      --wait            enqueue: wait for the jobs, with a progress bar; exit 1 if any failed
      --overwrite       enqueue: replace existing outputs (default: skip them, with a message)
  -q, --quiet           no progress bar and no per-file lines (errors still print)
  -h, --help            show this help
  -v, --version         show the version

Folders are read one level deep (png, jpg, jpeg, webp, tif, tiff, avif, gif). A file that
cannot be read or processed prints one line and the others are still written.

Exit status:
  ${EXIT.ok}  every output written (worker: stopped on SIGTERM/SIGINT once its jobs were done)
  ${EXIT.failed}  some inputs failed, each named on stderr with its reason; the others were written
  ${EXIT.usage}  a bad command line (printed with this usage); no input was processed
  ${EXIT.noBlur}  kernel -o/--out-dir: a photo shows no blur, so no kernel file was written for it
     (the others were); ${EXIT.failed} takes precedence when an input also failed
  ${EXIT.workerUnclean}  worker: Redis did not answer within --shutdown-timeout; connections dropped, its job
     is taken over by another worker`;

function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !isIntegerInRange(v, min, max)) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return v;
}

/** A flag from an allowed-value table (core's, for --format); `jpg` is `jpeg`. */
function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase() === 'jpg' ? 'jpeg' : raw.toLowerCase();
  if (!isOneOf(allowed, v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return v;
}

/** The flags every command is parsed with (each command then refuses those it does not take). */
const FLAGS = {
  output: { type: 'string', short: 'o' },
  'out-dir': { type: 'string', short: 'd' },
  backend: { type: 'string', short: 'b' },
  model: { type: 'string', short: 'm' },
  tile: { type: 'string', short: 't' },
  overlap: { type: 'string' },
  format: { type: 'string', short: 'f' },
  kernel: { type: 'string', short: 'k' },
  network: { type: 'boolean' },
  'no-network': { type: 'boolean' },
  effort: { type: 'string' },
  json: { type: 'boolean', default: false },
  'max-size': { type: 'string' },
  regions: { type: 'string' },
  redis: { type: 'string' },
  queue: { type: 'string' },
  root: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  'lock-duration': { type: 'string' },
  'stalled-interval': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  wait: { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

const QUEUE_FLAGS = ['redis', 'queue', 'root', 'concurrency', 'threads', 'lock-duration', 'stalled-interval', 'shutdown-timeout', 'wait', 'overwrite'] as const;

/** Parses and validates argv (without `node` and the script). */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: FLAGS });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...inputs] = positionals;
  if (command === undefined) throw new UsageError('missing command: use `sgenet deblur <file|dir>...` or `sgenet kernel <file>...`');
  if (!['deblur', 'kernel', 'worker', 'enqueue'].includes(command)) {
    throw new UsageError(`unknown command "${command}": the commands are "deblur", "kernel", "worker" and "enqueue"`);
  }
  if (command !== 'worker' && command !== 'enqueue') {
    for (const flag of QUEUE_FLAGS) {
      if (values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} is a worker/enqueue option; ${command} does not take it`);
    }
  }
  if (command === 'worker') return parseWorker(values, inputs);
  if (inputs.length === 0) throw new UsageError(`${command} needs at least one input file or folder`);
  if (command === 'enqueue') return parseEnqueue(values, inputs);
  const maxSize = maxSizeFlag(values);
  return command === 'kernel' ? parseKernel(values, inputs, maxSize) : parseDeblur(values, inputs, maxSize);
}

/** `--regions`: auto, off, 2, 3 or 4 (core's `REGIONS_CHOICES`). */
function regionsFlag(values: Values): RegionsChoice | undefined {
  const raw = values.regions as string | undefined;
  if (raw === undefined) return undefined;
  const value = regionsFromText(raw);
  if (value === undefined) throw new UsageError(`--regions must be one of ${REGIONS_CHOICES.join(', ')}, got "${raw}"`);
  return value;
}

/** `--max-size`: odd, 5 to core's `MAX_ESTIMATED_KERNEL_SIZE`. */
function maxSizeFlag(values: Values): number | undefined {
  const maxSize = intFlag('max-size', values['max-size'] as string | undefined, 5, MAX_ESTIMATED_KERNEL_SIZE);
  if (maxSize !== undefined && maxSize % 2 === 0) throw new UsageError(`--max-size must be odd, got ${maxSize}`);
  return maxSize;
}

/** `--network` true, `--no-network` false, neither undefined (both: a usage error). */
function networkFlag(values: Values): boolean | undefined {
  if (values.network && values['no-network']) throw new UsageError('give at most one of --network and --no-network');
  return values.network ? true : values['no-network'] ? false : undefined;
}

function parseKernel(values: Values, inputs: string[], maxSize: number | undefined): KernelCommand {
  if (values.output !== undefined && values['out-dir'] !== undefined) throw new UsageError('give at most one of -o FILE or --out-dir DIR');
  for (const flag of ['backend', 'model', 'tile', 'overlap', 'format', 'kernel', 'network', 'no-network', 'effort'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is a deblur option; kernel does not take it`);
  }
  return {
    command: 'kernel',
    inputs,
    output: values.output as string | undefined,
    outDir: values['out-dir'] as string | undefined,
    json: (values.json as boolean | undefined) ?? false,
    maxSize,
    regions: regionsFlag(values),
    quiet: (values.quiet as boolean | undefined) ?? false,
  };
}

function parseDeblur(values: Values, inputs: string[], maxSize: number | undefined): DeblurCommand {
  const network = networkFlag(values);
  if (values.kernel === '') throw new UsageError('--kernel needs auto, none or a PSF file');
  if ((values.output === undefined) === (values['out-dir'] === undefined)) {
    throw new UsageError('give exactly one of -o FILE or --out-dir DIR');
  }
  const tileSize = intFlag('tile', values.tile as string | undefined, ...TILE_SIZE_RANGE);
  const overlap = intFlag('overlap', values.overlap as string | undefined, ...OVERLAP_RANGE);
  // The tile against the overlap needs the model's size multiple: checkTiling, once it is read.
  return {
    command: 'deblur',
    inputs,
    output: values.output as string | undefined,
    outDir: values['out-dir'] as string | undefined,
    backend: oneOf('backend', values.backend as string | undefined, BACKENDS),
    model: values.model as string | undefined,
    tileSize,
    overlap,
    format: oneOf('format', values.format as string | undefined, OUTPUT_FORMATS),
    kernel: values.kernel as string | undefined,
    network,
    effort: oneOf('effort', values.effort as string | undefined, EFFORTS),
    maxSize,
    regions: regionsFlag(values),
    json: (values.json as boolean | undefined) ?? false,
    quiet: (values.quiet as boolean | undefined) ?? false,
  };
}

/**
 * Checks `--tile` against `--overlap` with core's rule ({@link minTileSizeFor}: a tile of at
 * least `3 x overlap + 2 x multiple`), which needs the model's size multiple, so `sgenet deblur`
 * calls it once the model's metadata is read, before any input is processed.
 *
 * @param cmd - The parsed `--tile` and `--overlap` (either may be absent).
 * @param multiple - The model's size multiple (`ModelInfo.multiple`; 8 for the shipped model).
 * @param defaultTileSize - The tile size used without `--tile` (the backend's preferred size).
 * @throws {@link UsageError} when `deblur` would refuse the pair, saying which values would do.
 */
export function checkTiling(cmd: Pick<DeblurCommand, 'tileSize' | 'overlap'>, multiple: number, defaultTileSize: number): void {
  // Without --overlap, deblur shrinks its default overlap to fit the tile (down to 0).
  const overlap = cmd.overlap ?? 0;
  const tile = cmd.tileSize ?? defaultTileSize;
  const min = minTileSizeFor(overlap, multiple);
  if (tile >= min) return;
  const maxOverlap = Math.floor((tile - 2 * multiple) / 3);
  const fix = cmd.overlap !== undefined && maxOverlap >= 0
    ? `give --tile ${min} or more, or lower --overlap to ${maxOverlap} or less`
    : `give --tile ${min} or more`;
  const rule = `3 x overlap + 2 x ${multiple}, the model's size multiple`;
  if (cmd.tileSize === undefined) {
    throw new UsageError(`--overlap ${overlap} needs a tile of at least ${min} px (${rule}), and the default tile is ${tile} px: ${fix}`);
  }
  throw new UsageError(`--tile must be at least ${min} for --overlap ${overlap} (${rule}), got ${tile}: ${fix}`);
}

type Values = Record<string, string | boolean | undefined>;

function queueName(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !QUEUE_NAME_PATTERN.test(raw)) {
    throw new UsageError(`--queue must be 1 to 100 letters, digits, _ . or -, got "${String(raw)}"`);
  }
  return raw;
}

function redisFlag(raw: unknown, command: string): string {
  if (typeof raw !== 'string' || raw === '') throw new UsageError(`${command} needs --redis URL (for example --redis redis://127.0.0.1:6379)`);
  if (!/^rediss?:\/\//.test(raw)) throw new UsageError(`--redis must be a redis:// or rediss:// URL, got "${raw}"`);
  return raw;
}

function parseWorker(values: Values, inputs: string[]): WorkerCommand {
  if (inputs.length > 0) throw new UsageError(`worker takes no files (got "${inputs[0]}"); add them with sgenet enqueue`);
  for (const flag of ['output', 'out-dir', 'tile', 'overlap', 'format', 'kernel', 'network', 'no-network', 'effort', 'max-size', 'regions', 'wait', 'overwrite'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} is not a worker option (jobs carry their own options)`);
  }
  return {
    command: 'worker',
    concurrency: intFlag('concurrency', values.concurrency as string | undefined, 1, 64),
    threads: intFlag('threads', values.threads as string | undefined, 1, 256),
    lockDurationMs: intFlag('lock-duration', values['lock-duration'] as string | undefined, 1000, 600_000),
    stalledIntervalMs: intFlag('stalled-interval', values['stalled-interval'] as string | undefined, 500, 600_000),
    shutdownTimeoutMs: intFlag('shutdown-timeout', values['shutdown-timeout'] as string | undefined, 0, 3_600_000),
    queue: queueName(values.queue),
    redis: redisFlag(values.redis, 'worker'),
    root: (values.root as string | undefined) ?? '.',
    backend: oneOf('backend', values.backend as string | undefined, BACKENDS),
    model: values.model as string | undefined,
    quiet: (values.quiet as boolean | undefined) ?? false,
  };
}

function parseEnqueue(values: Values, inputs: string[]): EnqueueCommand {
  for (const flag of ['output', 'backend', 'model', 'tile', 'overlap', 'json', 'regions', 'concurrency', 'threads', 'lock-duration', 'stalled-interval', 'shutdown-timeout'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) {
      throw new UsageError(flag === 'output' ? 'enqueue writes into --out-dir DIR, not -o FILE' : `--${flag} is not an enqueue option`);
    }
  }
  if (typeof values['out-dir'] !== 'string') throw new UsageError('enqueue needs --out-dir DIR (inside --root)');
  const network = networkFlag(values);
  if (values.kernel === '') throw new UsageError('--kernel needs auto, none or a PSF file');
  const maxSize = maxSizeFlag(values);
  const queue = queueName(values.queue);
  return {
    command: 'enqueue',
    inputs,
    outDir: values['out-dir'],
    redis: redisFlag(values.redis, 'enqueue'),
    queue,
    root: (values.root as string | undefined) ?? '.',
    format: oneOf('format', values.format as string | undefined, OUTPUT_FORMATS),
    kernel: values.kernel as string | undefined,
    network,
    effort: oneOf('effort', values.effort as string | undefined, EFFORTS),
    maxSize,
    overwrite: (values.overwrite as boolean | undefined) ?? false,
    wait: (values.wait as boolean | undefined) ?? false,
    quiet: (values.quiet as boolean | undefined) ?? false,
  };
}
