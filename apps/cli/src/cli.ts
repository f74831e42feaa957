/**
 * The `sgenet` command. `main(argv)` resolves with the process exit code ({@link EXIT}): 0 all
 * written, 1 some inputs failed (each named on stderr with its reason), 2 usage error, 3 `sgenet
 * kernel -o/--out-dir` found no blur in a photo and wrote nothing for it. `sgenet worker`
 * resolves 0 once a SIGTERM/SIGINT has let it finish its job, 4 when Redis did not answer within
 * `--shutdown-timeout` and it exited anyway.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

import {
  createDeblurrer,
  DEFAULT_TILE_SIZE,
  defaultModelPath,
  defaultTileSizeFor,
  estimateKernel,
  InvalidImageError,
  kernelToJson,
  modelInfoFromBytes,
  readModelBytes,
  resolveBackend,
  validateKernel,
} from '@sgenet/core';
import type { Backend, BlurKernel, Deblurrer, KernelChoice, KernelUsed, RawImage } from '@sgenet/core';
import { deblur, encodeImage, openImage } from '@sgenet/sharp';
import type { OpenedImage } from '@sgenet/sharp';

import { checkTiling, parseCommand, USAGE, UsageError } from './args.js';
import type { DeblurCommand, KernelCommand } from './args.js';
import { EXIT } from './exit-codes.js';
import { expandInputs, planJobs } from './inputs.js';
import { readKernelFile, writeKernelFile } from './kernel-files.js';
import type { Job } from './inputs.js';
import type { CliIO } from './io.js';
import { ProgressBar } from './progress.js';
import { runEnqueue, runWorker } from './queue-commands.js';
import { reasonOf } from './reason.js';
import { describeFinding, errorReport, gridReport, kernelReport } from './report.js';
import type { DeblurReport } from './report.js';

export type { CliIO } from './io.js';

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Same checks as the servers: magic bytes, header, pixel limit, with typed errors and clear messages. */
async function openPhoto(file: string): Promise<OpenedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InvalidImageError(code === 'EISDIR' ? 'is a folder, not an image file' : `cannot read the file (${code ?? String(cause)})`, { cause });
  }
  return openImage(bytes);
}

/** Writes next to the target, then renames: an interrupted run never leaves half an image. */
async function writeAtomically(target: string, body: Buffer): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomUUID().slice(0, 8)}.sgenet-tmp`);
  try {
    await writeFile(temp, body);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Restores one photo and writes it. `found.used` receives the kernel as soon as the restoration
 * knows it (so that a later failure still reports it); it stays undefined with `--kernel none`.
 */
async function runJob(
  job: Job,
  deblurrer: Deblurrer,
  bar: ProgressBar,
  cmd: DeblurCommand,
  psf: BlurKernel | undefined,
  found: { used?: KernelUsed },
): Promise<void> {
  const opened = await openPhoto(job.input);
  let kernel: KernelChoice | undefined = cmd.kernel === 'auto' || cmd.kernel === 'none' ? cmd.kernel : undefined;
  // Checked against this photo here, so that the message names the kernel file.
  if (psf) kernel = validateKernel(psf, cmd.kernel!, opened);
  const restored = await deblur(opened.image, {
    deblurrer,
    tileSize: cmd.tileSize,
    overlap: cmd.overlap,
    kernel,
    network: cmd.network,
    ...(cmd.effort !== undefined ? { effort: cmd.effort } : {}),
    ...(cmd.maxSize !== undefined || cmd.regions !== undefined
      ? { estimation: { ...(cmd.maxSize !== undefined ? { maxSize: cmd.maxSize } : {}), ...(cmd.regions !== undefined ? { regions: cmd.regions } : {}) } }
      : {}),
    onKernel: (used) => {
      found.used = used;
    },
    onProgress: ({ done, total, stage }) => bar.update(job.input, done, total, stage),
  });
  await writeAtomically(job.output, await encodeImage(restored, job.format, { metadata: opened.metadata }));
}

function writeUsageError(io: CliIO, err: UsageError): number {
  io.stderr.write(`sgenet: ${err.message}\n\n${USAGE}\n`);
  return EXIT.usage;
}

/** The model (and backend) `deblur` will load, read before any input when the tiling needs it. */
interface PreparedModel {
  bytes?: Uint8Array;
  backend?: Backend;
}

/**
 * With `--tile` or `--overlap`, reads the model's size multiple (and, without `--tile`, the
 * backend's tile size) and checks the pair with core's rule, so that a bad pair is a usage error
 * (exit 2) before any input is read. Resolves with what it loaded, for createDeblurrer to reuse.
 */
async function prepareModel(cmd: DeblurCommand): Promise<PreparedModel> {
  if (cmd.tileSize === undefined && cmd.overlap === undefined) return {};
  const bytes = await readModelBytes(cmd.model ?? defaultModelPath());
  const info = modelInfoFromBytes(bytes);
  let backend: Backend | undefined;
  let defaultTileSize = DEFAULT_TILE_SIZE;
  if (cmd.tileSize === undefined) {
    backend = await resolveBackend(cmd.backend ?? 'auto');
    defaultTileSize = defaultTileSizeFor(backend.preferredTileSize, info);
  }
  checkTiling(cmd, info.multiple, defaultTileSize);
  return { bytes, backend };
}

async function runDeblur(cmd: DeblurCommand, io: CliIO): Promise<number> {
  let prepared: PreparedModel;
  try {
    prepared = await prepareModel(cmd);
  } catch (err) {
    if (err instanceof UsageError) return writeUsageError(io, err);
    io.stderr.write(`sgenet: cannot load the model: ${reasonOf(err)}\n`);
    return EXIT.failed;
  }
  let planned;
  try {
    planned = await planJobs(cmd.inputs, { output: cmd.output, outDir: cmd.outDir }, cmd.format);
  } catch (err) {
    io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
    return EXIT.usage;
  }
  // --json: stdout carries only JSON Lines; people read stderr.
  const report = (line: DeblurReport): void => {
    if (cmd.json) io.stdout.write(`${JSON.stringify(line)}\n`);
  };
  let failed = planned.rejected.length;
  for (const r of planned.rejected) {
    io.stderr.write(`sgenet: ${r.input}: ${r.reason}\n`);
    report({ input: r.input, output: null, kernel: null, error: { code: r.code, message: r.reason } });
  }
  if (planned.jobs.length === 0) return failed > 0 ? EXIT.failed : EXIT.ok;
  let psf: BlurKernel | undefined;
  if (cmd.kernel !== undefined && cmd.kernel !== 'auto' && cmd.kernel !== 'none') {
    try {
      psf = await readKernelFile(cmd.kernel);
    } catch (err) {
      io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
      return EXIT.failed;
    }
  }

  let deblurrer: Deblurrer;
  try {
    // The bytes read for the tiling check stand for --model only: without it the default pair loads
    // (a model given, even the default's own bytes, runs alone).
    deblurrer = await createDeblurrer({
      backend: prepared.backend ?? cmd.backend ?? 'auto',
      ...(cmd.model === undefined ? {} : { model: prepared.bytes ?? cmd.model }),
    });
  } catch (err) {
    io.stderr.write(`sgenet: cannot load the model: ${reasonOf(err)}\n`);
    return EXIT.failed;
  }
  try {
    failed += await deblurEach(planned.jobs, deblurrer, cmd, psf, io, report);
  } finally {
    await deblurrer.dispose();
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

/** Restores the photos one after the other, saying what was found in each; resolves with the failures. */
async function deblurEach(
  jobs: Job[],
  deblurrer: Deblurrer,
  cmd: DeblurCommand,
  psf: BlurKernel | undefined,
  io: CliIO,
  report: (line: DeblurReport) => void,
): Promise<number> {
  let failed = 0;
  const bar = new ProgressBar(io.stderr, !cmd.quiet);
  for (const job of jobs) {
    const found: { used?: KernelUsed } = {};
    try {
      await runJob(job, deblurrer, bar, cmd, psf, found);
      bar.clear();
      report({ input: job.input, output: job.output, kernel: found.used ? kernelReport(found.used) : null, error: null });
      if (!cmd.quiet && !cmd.json) {
        io.stderr.write(`${job.input}: ${describeFinding(found.used)}\n`);
        io.stdout.write(`${job.input} -> ${job.output}\n`);
      }
    } catch (err) {
      bar.clear();
      failed += 1;
      io.stderr.write(`sgenet: ${job.input}: ${reasonOf(err)}\n`);
      report({ input: job.input, output: null, kernel: found.used ? kernelReport(found.used) : null, error: errorReport(err) });
    }
  }
  return failed;
}

async function readPhoto(file: string): Promise<RawImage> {
  const { data, info } = await (await openPhoto(file)).image.rotate().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

async function runKernel(cmd: KernelCommand, io: CliIO): Promise<number> {
  const { files, rejected } = await expandInputs(cmd.inputs);
  let failed = rejected.length;
  for (const r of rejected) io.stderr.write(`sgenet: ${r.input}: ${r.reason}\n`);
  if (cmd.output !== undefined && files.length + rejected.length !== 1) {
    io.stderr.write(`sgenet: -o takes exactly one input image, got ${files.length}; use --out-dir for several\n`);
    return EXIT.usage;
  }
  let sharpPhotos = 0;
  const bar = new ProgressBar(io.stderr, !cmd.quiet);
  for (const file of files) {
    try {
      const photo = await readPhoto(file);
      const estimate = await estimateKernel(photo, {
        maxSize: cmd.maxSize,
        ...(cmd.regions !== undefined ? { regions: cmd.regions } : {}),
        onProgress: ({ done, total }) => bar.update(file, done, total, 'kernel'),
      });
      bar.clear();
      const { kernel, confidence, identity, spectralEvidence, grid } = estimate;
      const target = cmd.output ?? (cmd.outDir !== undefined
        ? join(cmd.outDir, `${basename(file, extname(file))}.psf.${cmd.json ? 'json' : 'png'}`)
        : undefined);
      if (target !== undefined && identity) {
        // A 1x1 "kernel" file would read as a PSF that does nothing: write none, and say so.
        sharpPhotos += 1;
        io.stderr.write(`${file}: no blur found; nothing written\n`);
        continue;
      }
      if (target !== undefined) {
        await mkdir(dirname(target), { recursive: true });
        await writeKernelFile(kernel, target);
        // A kernel file holds one kernel: say so rather than drop the grid silently.
        if (grid) io.stderr.write(`${file}: per-region kernels found (${grid.columns}x${grid.rows}); ${target} holds the photo's kernel only, --json without -o prints the grid\n`);
      }
      if (cmd.json && target === undefined) {
        // A sharp photo prints the identity kernel, {"width":1,"height":1,"data":[1]}.
        // Per-region kernels follow the photo's as "grid" (a kernel reader ignores the key).
        const regions = grid ? { grid: gridReport(grid) } : {};
        io.stdout.write(files.length === 1 && rejected.length === 0
          ? `${JSON.stringify({ ...JSON.parse(kernelToJson(kernel)) as object, ...regions })}\n`
          : `${JSON.stringify({
            file, confidence: Number(confidence.toFixed(4)), spectralEvidence: Number(spectralEvidence.toFixed(4)), identity,
            ...JSON.parse(kernelToJson(kernel)) as object, ...regions,
          })}\n`);
      } else if (!cmd.quiet) {
        const what = identity
          ? 'no blur found (identity kernel)'
          : describeFinding({ kernel, source: 'estimated', confidence, identity, ...(grid ? { grid } : {}) });
        io.stdout.write(`${file}: ${what}${target ? ` -> ${target}` : ''}\n`);
      }
    } catch (err) {
      bar.clear();
      failed += 1;
      io.stderr.write(`sgenet: ${file}: ${reasonOf(err)}\n`);
    }
  }
  return failed > 0 ? EXIT.failed : sharpPhotos > 0 ? EXIT.noBlur : EXIT.ok;
}

/** Runs the CLI; resolves with the exit code instead of exiting, so it can be tested in-process. */
export async function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) return writeUsageError(io, err);
    throw err;
  }
  if (cmd.command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (cmd.command === 'version') {
    io.stdout.write(`${await version()}\n`);
    return EXIT.ok;
  }
  switch (cmd.command) {
    case 'kernel':
      return runKernel(cmd, io);
    case 'worker':
      return runWorker(cmd, io);
    case 'enqueue':
      return runEnqueue(cmd, io);
    default:
      return runDeblur(cmd, io);
  }
}

export { EXIT } from './exit-codes.js';
export type { ExitCode } from './exit-codes.js';
export type { DeblurReport, ErrorReport, KernelReport } from './report.js';
