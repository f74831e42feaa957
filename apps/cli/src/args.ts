import { parseArgs } from 'node:util';

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const BACKENDS = ['ort', 'tfjs'] as const;
export type BackendFlag = (typeof BACKENDS)[number];

/** A command line the user got wrong: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface DeblurCommand {
  command: 'deblur';
  inputs: string[];
  output?: string;
  outDir?: string;
  backend?: BackendFlag;
  tileSize?: number;
  overlap?: number;
  format?: OutputFormat;
  /** `auto`, `none`, or the path of a PSF file (PNG or JSON). */
  kernel?: string;
  /** Run the network after the deconvolution (`--network` / `--no-network`). */
  network?: boolean;
  maxSize?: number;
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
  quiet: boolean;
}

export type Command = DeblurCommand | KernelCommand | { command: 'help' } | { command: 'version' };

export const USAGE = `Usage: sgenet deblur <file|dir>... (-o FILE | --out-dir DIR) [options]
       sgenet kernel <file|dir>... [-o PSF.png | --out-dir DIR] [--json] [--max-size N]

deblur removes camera-shake motion blur from photos: with --kernel auto it estimates the blur
kernel and deconvolves with it (--network: then the model cleans up); by default the SGENet model
shipped in @sgenet/core runs alone.
kernel estimates the blur kernel only. With --json and one input it prints
{"width":W,"height":H,"data":[...]} (row-major, sum 1) on stdout; with several inputs, one such
object per line with "file" and "confidence" added. -o writes a PNG (the kernel scaled to 0-255)
or, for a .json name, the JSON.

Options:
  -o, --output FILE     output file (exactly one input)
  -d, --out-dir DIR     output folder; each output keeps its input's name
  -b, --backend NAME    ort (default) or tfjs
  -t, --tile N          tile size in pixels, 64-8192 (default 1024; 768 on tfjs)
      --overlap N       context around each tile in pixels, 0-1024 (default from the model)
  -f, --format FMT      png, jpeg or webp (default: the input's format, else png)
  -k, --kernel K        deblur: none (the network alone, default), auto (estimate the kernel
                        and deconvolve) or a PSF file (PNG, or JSON as printed by sgenet kernel)
      --network         deblur: run the network after the deconvolution
      --no-network      deblur: deconvolution only (the default until the kernel-guided model ships)
      --json            kernel: print the kernel as JSON
      --max-size N      kernel, deblur: largest kernel side in px, odd, 5-255 (default long side / 22)
  -q, --quiet           no progress output
  -h, --help            show this help
  -v, --version         show the version

Folders are read one level deep (png, jpg, jpeg, webp, tif, tiff, avif, gif). A file that
cannot be read or processed prints one line and the others are still written; the exit code is
1 when any file failed.`;

function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return v;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const v = raw.toLowerCase() === 'jpg' ? 'jpeg' : raw.toLowerCase();
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return v as T;
}

/** Parses and validates argv (without `node` and the script). */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        'out-dir': { type: 'string', short: 'd' },
        backend: { type: 'string', short: 'b' },
        tile: { type: 'string', short: 't' },
        overlap: { type: 'string' },
        format: { type: 'string', short: 'f' },
        kernel: { type: 'string', short: 'k' },
        network: { type: 'boolean' },
        'no-network': { type: 'boolean' },
        json: { type: 'boolean', default: false },
        'max-size': { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...inputs] = positionals;
  if (command === undefined) throw new UsageError('missing command: use `sgenet deblur <file|dir>...` or `sgenet kernel <file>...`');
  if (command !== 'deblur' && command !== 'kernel') {
    throw new UsageError(`unknown command "${command}": the commands are "deblur" and "kernel"`);
  }
  if (inputs.length === 0) throw new UsageError(`${command} needs at least one input file or folder`);
  const maxSize = intFlag('max-size', values['max-size'], 5, 255);
  if (maxSize !== undefined && maxSize % 2 === 0) throw new UsageError(`--max-size must be odd, got ${maxSize}`);
  if (command === 'kernel') {
    if (values.output !== undefined && values['out-dir'] !== undefined) throw new UsageError('give at most one of -o FILE or --out-dir DIR');
    for (const flag of ['backend', 'tile', 'overlap', 'format', 'kernel', 'network', 'no-network'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is a deblur option; kernel does not take it`);
    }
    return {
      command: 'kernel',
      inputs,
      ...(values.output !== undefined ? { output: values.output } : {}),
      ...(values['out-dir'] !== undefined ? { outDir: values['out-dir'] } : {}),
      json: values.json ?? false,
      ...(maxSize !== undefined ? { maxSize } : {}),
      quiet: values.quiet ?? false,
    };
  }
  if (values.json) throw new UsageError('--json is a kernel option; deblur writes images');
  if (values.network && values['no-network']) throw new UsageError('give at most one of --network and --no-network');
  if (values.kernel === '') throw new UsageError('--kernel needs auto, none or a PSF file');
  if ((values.output === undefined) === (values['out-dir'] === undefined)) {
    throw new UsageError('give exactly one of -o FILE or --out-dir DIR');
  }
  const tileSize = intFlag('tile', values.tile, 64, 8192);
  const overlap = intFlag('overlap', values.overlap, 0, 1024);
  if (tileSize !== undefined && overlap !== undefined && tileSize < 3 * overlap) {
    throw new UsageError(`--tile must be at least 3 x --overlap (${3 * overlap}), got ${tileSize}`);
  }
  return {
    command: 'deblur',
    inputs,
    ...(values.output !== undefined ? { output: values.output } : {}),
    ...(values['out-dir'] !== undefined ? { outDir: values['out-dir'] } : {}),
    ...(values.backend !== undefined ? { backend: oneOf('backend', values.backend, BACKENDS) } : {}),
    ...(tileSize !== undefined ? { tileSize } : {}),
    ...(overlap !== undefined ? { overlap } : {}),
    ...(values.format !== undefined ? { format: oneOf('format', values.format, OUTPUT_FORMATS) } : {}),
    ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
    ...(values.network ? { network: true } : values['no-network'] ? { network: false } : {}),
    ...(maxSize !== undefined ? { maxSize } : {}),
    quiet: values.quiet ?? false,
  };
}
