import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import type { OutputFormat } from '@sgenet/core';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.avif', '.gif']);

export interface Job {
  input: string;
  output: string;
  format: OutputFormat;
}

/**
 * Why a path could not become a job, as a stable code (`sgenet deblur --json` prints it):
 * - `ERR_SGENET_CLI_NOT_FOUND`: no such file or folder;
 * - `ERR_SGENET_CLI_EMPTY_FOLDER`: a folder with no image files in it;
 * - `ERR_SGENET_CLI_OUTPUT_CLASH`: two inputs would write the same output.
 */
export type RejectedCode = 'ERR_SGENET_CLI_NOT_FOUND' | 'ERR_SGENET_CLI_EMPTY_FOLDER' | 'ERR_SGENET_CLI_OUTPUT_CLASH';

/** A path that could not become a job, with the one-line reason and its stable code. */
export interface Rejected {
  input: string;
  reason: string;
  code: RejectedCode;
}

const EXT_OF: Record<OutputFormat, string> = { png: '.png', jpeg: '.jpg', webp: '.webp' };

function formatFor(file: string, wanted: OutputFormat | undefined): OutputFormat {
  if (wanted) return wanted;
  const ext = extname(file).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  return 'png';
}

/** Expands files and folders (one level deep) into image files; missing paths are rejected. */
export async function expandInputs(inputs: string[]): Promise<{ files: string[]; rejected: Rejected[] }> {
  const files: string[] = [];
  const rejected: Rejected[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      rejected.push({ input, reason: 'no such file or folder', code: 'ERR_SGENET_CLI_NOT_FOUND' });
      continue;
    }
    if (info.isDirectory()) {
      const entries = (await readdir(input, { withFileTypes: true }))
        .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
        .map((e) => join(input, e.name))
        .sort();
      if (entries.length === 0) rejected.push({ input, reason: 'folder holds no image files', code: 'ERR_SGENET_CLI_EMPTY_FOLDER' });
      files.push(...entries);
    } else {
      files.push(input);
    }
  }
  return { files, rejected };
}

/** Expands files and folders into jobs; missing paths and non-images are rejected, not fatal. */
export async function planJobs(
  inputs: string[],
  target: { output?: string; outDir?: string },
  format: OutputFormat | undefined,
): Promise<{ jobs: Job[]; rejected: Rejected[] }> {
  const { files, rejected } = await expandInputs(inputs);
  if (target.output !== undefined) {
    if (files.length + rejected.length !== 1) {
      throw new RangeError(`-o takes exactly one input image, got ${files.length}; use --out-dir for several`);
    }
    const file = files[0];
    const outFormat = format ?? (extname(target.output) ? formatFor(target.output, undefined) : undefined);
    return {
      jobs: file ? [{ input: file, output: target.output, format: outFormat ?? formatFor(file, undefined) }] : [],
      rejected,
    };
  }
  const outDir = target.outDir!;
  const seen = new Map<string, string>();
  const jobs: Job[] = [];
  for (const file of files) {
    const f = formatFor(file, format);
    const name = basename(file, extname(file)) + EXT_OF[f];
    const output = join(outDir, name);
    const clash = seen.get(output);
    if (clash) {
      rejected.push({ input: file, reason: `would overwrite the output of ${clash}; rename one of them`, code: 'ERR_SGENET_CLI_OUTPUT_CLASH' });
      continue;
    }
    seen.set(output, file);
    jobs.push({ input: file, output, format: f });
  }
  return { jobs, rejected };
}
