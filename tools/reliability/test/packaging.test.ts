/**
 * The packages as users get them: `npm pack` every publishable package, install the tarballs into
 * a project outside the monorepo, and deblur there through @sgenet/sharp, through @sgenet/core
 * with @sgenet/ort-backend, and through the `sgenet` bin. Catches missing `files`, wrong `exports`,
 * a model left out of the package, and dependencies only the monorepo provides.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PUBLISHABLE = ['packages/core', 'packages/ort-backend', 'packages/tfjs-backend', 'packages/sharp-plugin', 'packages/express-middleware', 'packages/queue', 'apps/cli'];

let work: string;
let project: string;
const tarballs = new Map<string, { file: string; files: string[] }>();

async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return exec('npm', args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_fund: 'false', npm_config_audit: 'false' } });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sgenet-pack-'));
  const packs = join(work, 'tarballs');
  await mkdir(packs);
  for (const dir of PUBLISHABLE) {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', packs], join(REPO, dir));
    const [info] = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[];
    tarballs.set(info!.name, { file: join(packs, info!.filename), files: info!.files.map((f) => f.path) });
  }
  project = join(work, 'app');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'sgenet-user', private: true, type: 'module' }, null, 2));
  // A user on a machine without GitHub access sets ONNXRUNTIME_NODE_INSTALL=skip (see
  // packages/ort-backend/README.md): npm() above does, in the environment, not in an .npmrc.
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...[...tarballs.values()].map((t) => t.file), 'sharp@^0.34.4', '@types/node@^20'], project);
}, 900_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('puts the shipped model, the compiled code and the types in each tarball, and no tests or sources', () => {
    expect(tarballs.get('@sgenet/core')!.files.some((f) => /^models\/.*\.onnx$/.test(f))).toBe(true);
    for (const [name, { files }] of tarballs) {
      expect(files, name).toContain('package.json');
      expect(files, name).toContain('README.md');
      expect(files.some((f) => f === 'dist/index.js' || f === 'dist/cli.js'), name).toBe(true);
      expect(files.some((f) => f.endsWith('.d.ts')), name).toBe(true);
      expect(files.filter((f) => /^(src|test)\//.test(f) || f.endsWith('.test.js')), name).toEqual([]);
    }
    expect(tarballs.get('@sgenet/cli')!.files).toContain('bin/sgenet.js');
  });
});

describe('installed from the tarballs, outside the monorepo', () => {
  const script = async (name: string, code: string): Promise<string> => {
    await writeFile(join(project, name), code);
    const { stdout } = await exec(process.execPath, [name], { cwd: project, maxBuffer: 16 << 20 });
    return stdout.trim();
  };

  /** A shaken scene made with the installed core: the project's own test picture. */
  const makePhoto = `
import sharp from 'sharp';
import { applyBlur, deadLeaves, trajectoryKernel } from '@sgenet/core/synthetic';
const img = applyBlur(deadLeaves(192, 144, 4), trajectoryKernel({ length: 11, seed: 4 }));
await sharp(Buffer.from(img.data), { raw: { width: 192, height: 144, channels: 3 } }).png().toFile('shaky.png');
`;

  it('deblurs through @sgenet/sharp', async () => {
    const out = await script('via-sharp.mjs', `${makePhoto}
import { deblur } from '@sgenet/sharp';
const restored = await deblur(sharp('shaky.png'));
const info = await restored.png().toFile('via-sharp.png');
const a = await sharp('shaky.png').raw().toBuffer();
const b = await sharp('via-sharp.png').raw().toBuffer();
let diff = 0; for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
console.log(JSON.stringify({ width: info.width, height: info.height, meanChange: diff / a.length }));
`);
    const r = JSON.parse(out) as { width: number; height: number; meanChange: number };
    expect([r.width, r.height]).toEqual([192, 144]);
    expect(r.meanChange).toBeGreaterThan(0.1); // the model ran: not a copy
  });

  it('deblurs through @sgenet/core with @sgenet/ort-backend, the shipped model and the kernel stages', async () => {
    const out = await script('via-core.mjs', `
import { createDeblurrer, estimateKernel, defaultModelPath } from '@sgenet/core';
import { deadLeaves, applyBlur, trajectoryKernel } from '@sgenet/core/synthetic';
import { fft1d } from '@sgenet/core/fft';
import { existsSync } from 'node:fs';
const photo = applyBlur(deadLeaves(160, 120, 2), trajectoryKernel({ length: 9, seed: 2 }));
const deblurrer = await createDeblurrer({ backend: 'ort' });
const restored = await deblurrer.deblur(photo, { kernel: 'auto' });
const { kernel } = await estimateKernel(photo);
await deblurrer.dispose();
console.log(JSON.stringify({ backend: deblurrer.backend, model: deblurrer.model.name, width: restored.width, height: restored.height,
  modelInPackage: defaultModelPath().includes('node_modules/@sgenet/core/') && existsSync(defaultModelPath()),
  kernel: [kernel.width, kernel.height], fft: typeof fft1d }));
`);
    const r = JSON.parse(out) as Record<string, unknown>;
    expect(r).toMatchObject({ backend: 'ort', width: 160, height: 120, modelInPackage: true, fft: 'function' });
  });

  it('deblurs through the sgenet bin', async () => {
    await script('make-photo.mjs', makePhoto);
    const bin = join(project, 'node_modules', '.bin', 'sgenet');
    const { stdout } = await exec(bin, ['--version'], { cwd: project });
    expect(stdout.trim()).toBe(JSON.parse(await readFile(join(REPO, 'apps/cli/package.json'), 'utf8')).version);
    await exec(bin, ['deblur', 'shaky.png', '-o', 'via-bin.webp', '-q'], { cwd: project });
    const meta = await script('check-bin.mjs', "import sharp from 'sharp'; const m = await sharp('via-bin.webp').metadata(); console.log(m.format, m.width, m.height);");
    expect(meta).toBe('webp 192 144');
  });

  it('resolves every public entry point (exports maps) and its types', async () => {
    const out = await script('imports.mjs', `
const names = ['@sgenet/core', '@sgenet/core/fft', '@sgenet/core/synthetic', '@sgenet/ort-backend', '@sgenet/tfjs-backend', '@sgenet/sharp', '@sgenet/express', '@sgenet/queue', '@sgenet/queue/testing', '@sgenet/cli'];
const out = {};
for (const n of names) out[n] = Object.keys(await import(n)).length;
console.log(JSON.stringify(out));
`);
    for (const [name, count] of Object.entries(JSON.parse(out) as Record<string, number>)) expect(count, name).toBeGreaterThan(0);
    // The same imports type-check against the installed declarations (the exports' "types").
    await writeFile(join(project, 'types.ts'), `
import { createDeblurrer, type DeblurOptions } from '@sgenet/core';
import { Spectrum } from '@sgenet/core/fft';
import { testChart, type TrajectoryOptions } from '@sgenet/core/synthetic';
import { deblur } from '@sgenet/sharp';
import { createDeblurQueue, type DeblurJobResult } from '@sgenet/queue';
import { startRedis } from '@sgenet/queue/testing';
const options: DeblurOptions = { kernel: 'auto' };
const path: TrajectoryOptions = { length: 9 };
export const used = [createDeblurrer, Spectrum, testChart, path, deblur, createDeblurQueue, startRedis, options] as const;
export type R = DeblurJobResult['output'];
`);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['ES2022', 'DOM'] },
      files: ['types.ts'],
    }));
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch((e: { stdout: string }) => e);
    expect(result.stdout).toBe('');
  });
});
