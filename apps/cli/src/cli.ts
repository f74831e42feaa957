/**
 * The `sgenet` command. `main(argv)` resolves with the process exit code: 0 all written,
 * 1 some inputs failed (each named on stderr with its reason), 2 usage error.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { createDeblurrer, SgenetError } from '@sgenet/core';
import type { Deblurrer } from '@sgenet/core';
import { deblur } from '@sgenet/sharp';
import sharp from 'sharp';

import { parseCommand, USAGE, UsageError } from './args.js';
import type { DeblurCommand } from './args.js';
import { planJobs } from './inputs.js';
import type { Job } from './inputs.js';
import { ProgressBar } from './progress.js';

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function reasonOf(err: unknown): string {
  if (err instanceof SgenetError) return `${err.message} [${err.code}]`;
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function runJob(job: Job, deblurrer: Deblurrer, bar: ProgressBar, cmd: DeblurCommand): Promise<void> {
  const restored = await deblur(sharp(job.input, { failOn: 'error' }), {
    deblurrer,
    ...(cmd.tileSize !== undefined ? { tileSize: cmd.tileSize } : {}),
    ...(cmd.overlap !== undefined ? { overlap: cmd.overlap } : {}),
    onProgress: ({ done, total }) => bar.update(job.input, done, total),
  });
  await mkdir(dirname(job.output), { recursive: true });
  await restored.toFormat(job.format).toFile(job.output);
}

async function runDeblur(cmd: DeblurCommand, io: CliIO): Promise<number> {
  let planned;
  try {
    planned = await planJobs(cmd.inputs, { output: cmd.output, outDir: cmd.outDir }, cmd.format);
  } catch (err) {
    io.stderr.write(`sgenet: ${reasonOf(err)}\n`);
    return 2;
  }
  let failed = planned.rejected.length;
  for (const r of planned.rejected) io.stderr.write(`sgenet: ${r.input}: ${r.reason}\n`);
  if (planned.jobs.length === 0) return failed > 0 ? 1 : 0;

  let deblurrer: Deblurrer;
  try {
    deblurrer = await createDeblurrer({ backend: cmd.backend ?? 'auto' });
  } catch (err) {
    io.stderr.write(`sgenet: cannot load the model: ${reasonOf(err)}\n`);
    return 1;
  }
  const bar = new ProgressBar(io.stderr, !cmd.quiet);
  try {
    for (const job of planned.jobs) {
      try {
        await runJob(job, deblurrer, bar, cmd);
        bar.clear();
        if (!cmd.quiet) io.stdout.write(`${job.input} -> ${job.output}\n`);
      } catch (err) {
        bar.clear();
        failed += 1;
        io.stderr.write(`sgenet: ${job.input}: ${reasonOf(err)}\n`);
      }
    }
  } finally {
    await deblurrer.dispose();
  }
  return failed > 0 ? 1 : 0;
}

/** Runs the CLI; resolves with the exit code instead of exiting, so it can be tested in-process. */
export async function main(argv: string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`sgenet: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (cmd.command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cmd.command === 'version') {
    io.stdout.write(`${await version()}\n`);
    return 0;
  }
  return runDeblur(cmd, io);
}
