/**
 * Peak memory of the `sgenet` CLI on a 12-megapixel (4000 x 3000) photo-like image, measured from
 * outside the process with GNU time (`/usr/bin/time -v`, "Maximum resident set size").
 *
 *   node apps/cli/dist/bench/memory.js [--backend ort|tfjs|all] [--width 4000 --height 3000]
 *
 * Prints one JSON line per backend. A benchmark, not a test: it asserts nothing about time.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import sharp from 'sharp';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/sgenet.js', import.meta.url));
const GNU_TIME = '/usr/bin/time';

export interface MemoryResult {
  backend: string;
  width: number;
  height: number;
  megapixels: number;
  peakRssMiB: number;
  wallSeconds: number;
}

/** Writes a photo-like PNG (gradients, shapes, noise) of the given size. */
export async function writeSyntheticPhoto(file: string, width: number, height: number): Promise<void> {
  const shapes = Array.from({ length: 60 }, (_, i) => {
    const x = (i * 211) % width;
    const y = (i * 137) % height;
    return `<circle cx="${x}" cy="${y}" r="${40 + (i % 7) * 30}" fill="hsl(${(i * 37) % 360},60%,50%)" fill-opacity="0.7"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#8899aa"/>${shapes}</svg>`;
  await sharp(Buffer.from(svg)).blur(3).png({ compressionLevel: 1 }).toFile(file);
}

/** Runs the CLI under GNU time and returns its peak RSS. */
export async function measureCli(input: string, output: string, backend: string): Promise<{ peakRssMiB: number; wallSeconds: number }> {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} is missing: install GNU time (Debian package "time")`);
  }
  const started = Date.now();
  const { stderr } = await run(GNU_TIME, ['-v', process.execPath, BIN, 'deblur', input, '-o', output, '--backend', backend, '-q'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  if (!match) throw new Error(`GNU time printed no peak RSS:\n${stderr}`);
  return { peakRssMiB: Number(match[1]) / 1024, wallSeconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'ort' },
      width: { type: 'string', default: '4000' },
      height: { type: 'string', default: '3000' },
    },
  });
  const width = Number(values.width);
  const height = Number(values.height);
  const backends = values.backend === 'all' ? ['ort', 'tfjs'] : [values.backend ?? 'ort'];
  const dir = await mkdtemp(join(tmpdir(), 'sgenet-mem-'));
  try {
    const input = join(dir, 'photo.png');
    await writeSyntheticPhoto(input, width, height);
    for (const backend of backends) {
      const m = await measureCli(input, join(dir, `out-${backend}.png`), backend);
      const result: MemoryResult = { backend, width, height, megapixels: (width * height) / 1e6, ...m };
      console.log(JSON.stringify(result));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
