import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { CONFIDENT_KERNEL, estimateKernel, kernelToJson, parseKernelJson } from '@sgenet/core';
import { applyBlur, deadLeaves, psnr, psnrAligned, testChart, trajectoryKernel, twoRegionShake } from '@sgenet/core/synthetic';
import type { RawImage } from '@sgenet/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkTiling, parseCommand } from '../src/args.js';
import type { DeblurReport } from '../src/report.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/sgenet.js', import.meta.url));

const toPng = (img: RawImage) =>
  sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  }).png().toBuffer();

async function readRgb(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

describe('argument parsing', () => {
  it('accepts the documented flags', () => {
    expect(parseCommand(['deblur', 'a.jpg', '-o', 'b.png', '--backend', 'tfjs', '--tile', '512', '--overlap', '64', '--format', 'jpg'])).toEqual({
      command: 'deblur', inputs: ['a.jpg'], output: 'b.png', backend: 'tfjs', tileSize: 512, overlap: 64, format: 'jpeg', json: false, quiet: false,
    });
    expect(parseCommand(['deblur', 'a.jpg', '-o', 'b.png', '--json'])).toMatchObject({ command: 'deblur', json: true });
    expect(parseCommand(['deblur', 'a.jpg', '-o', 'b.png', '--effort', 'best'])).toMatchObject({ command: 'deblur', effort: 'best' });
    expect(parseCommand(['deblur', 'a.jpg', '-o', 'b.png', '--regions', 'auto'])).toMatchObject({ regions: 'auto' });
    expect(parseCommand(['kernel', 'a.jpg', '--regions', '3'])).toMatchObject({ command: 'kernel', regions: 3 });
    expect(parseCommand(['kernel', 'a.jpg', '--max-size', '401'])).toMatchObject({ command: 'kernel', maxSize: 401 });
    expect(() => parseCommand(['kernel', 'a.jpg', '--regions', '5'])).toThrow(/--regions must be one of auto, off, 2, 3, 4, got "5"/);
    expect(() => parseCommand(['enqueue', 'a.jpg', '--out-dir', 'o', '--redis', 'redis://x', '--regions', 'auto'])).toThrow(/--regions is not an enqueue option/);
  });
  it.each([
    [['deblur', 'a.jpg'], /exactly one of -o FILE or --out-dir DIR/],
    [['deblur', 'a.jpg', '-o', 'x', '--out-dir', 'y'], /exactly one of/],
    [['deblur', '-o', 'x'], /at least one input/],
    [['deblur', 'a', '-o', 'x', '--tile', '12'], /--tile must be an integer between 64 and 8192/],
    [['deblur', 'a', '-o', 'x', '--tile', '1e3'], /--tile must be an integer/],
    [['deblur', 'a', '-o', 'x', '--format', 'gif'], /--format must be one of png, jpeg, webp/],
    [['deblur', 'a', '-o', 'x', '--backend', 'cuda'], /--backend must be one of ort, tfjs/],
    [['sharpen', 'a'], /unknown command "sharpen"/],
    [['kernel'], /kernel needs at least one input/],
    [['kernel', 'a', '--tile', '512'], /--tile is a deblur option/],
    [['kernel', 'a', '--max-size', '20'], /--max-size must be odd/],
    [['kernel', 'a', '--max-size', '403'], /--max-size must be an integer between 5 and 401/],
    [['deblur', 'a', '-o', 'x', '--network', '--no-network'], /at most one of --network/],
    [['deblur', 'a', '-o', 'x', '--effort', 'max'], /--effort must be one of standard, best/],
    [['kernel', 'a', '--effort', 'best'], /--effort is a deblur option/],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseCommand(argv)).toThrow(msg);
  });
});

describe('sgenet deblur (the installed bin)', () => {
  let dir: string;
  const originals = new Map<string, RawImage>();
  const blurred = new Map<string, RawImage>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgenet-cli-'));
    await mkdir(join(dir, 'in'));
    // Dead-leaves scenes (the project's own stand-in for photos: occluding shapes at every scale)
    // shaken along 10-14 px camera paths.
    for (const [i, name] of ['street', 'poster', 'desk'].entries()) {
      const sharpImg = deadLeaves(192, 144, i + 1);
      const kernel = trajectoryKernel({ length: 10 + 2 * i, seed: [11, 13, 14][i] });
      const blurry = applyBlur(sharpImg, kernel, { noise: 0.005, seed: i });
      originals.set(name, sharpImg);
      blurred.set(name, blurry);
      await writeFile(join(dir, 'in', `${name}.png`), await toPng(blurry));
    }
    await writeFile(join(dir, 'in', 'notes.png'), 'this is not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes one restored image per good input, reports the bad one and exits 1', async () => {
    const result = await run(process.execPath, [BIN, 'deblur', join(dir, 'in'), '--out-dir', join(dir, 'out'), '--kernel', 'auto']).catch(
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect('code' in result ? result.code : 0).toBe(1);
    expect(result.stderr).toMatch(/notes\.png: The input is not an image in a supported format.*\[ERR_SGENET_INVALID_IMAGE\]/);
    const lines = result.stderr.trim().split('\n');
    // One error line; the others say what was found in each written photo.
    expect(lines.filter((l) => l.startsWith('sgenet: '))).toHaveLength(1);
    expect(lines.filter((l) => !l.startsWith('sgenet: ')).map((l) => l.split(': ')[0]!.split('/').at(-1)).sort()).toEqual(['desk.png', 'poster.png', 'street.png']);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['desk.png', 'poster.png', 'street.png']);
  });

  it('raises PSNR against the sharp originals', async () => {
    // --kernel auto (estimated kernel, deconvolution). The bar is "measurably better, never
    // worse", not a quality target (the dev benchmark measures quality).
    const gains: number[] = [];
    const report: string[] = [];
    for (const [name, original] of originals) {
      const restored = await readRgb(join(dir, 'out', `${name}.png`));
      // Shift-aligned: a blind kernel is known up to a translation, and the output follows the
      // blurry photo's centroid, not the unknowable true kernel offset.
      const before = psnrAligned(original, blurred.get(name)!);
      const after = psnrAligned(original, restored);
      gains.push(after - before);
      report.push(`${name}: ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
    }
    for (const g of gains) expect(g, report.join('; ')).toBeGreaterThan(0);
    expect(gains.reduce((a, b) => a + b) / gains.length, report.join('; ')).toBeGreaterThan(1);
  });

  it('gives the same image with --backend tfjs as with ONNX Runtime (PSNR above 50 dB), network only', async () => {
    const [tfjs, ort] = [join(dir, 'tfjs.png'), join(dir, 'ort.png')];
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'street.png'), '-o', tfjs, '--backend', 'tfjs', '--kernel', 'none', '-q']);
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'street.png'), '-o', ort, '--kernel', 'none', '-q']);
    const viaTfjs = await readRgb(tfjs);
    const viaOrt = await readRgb(ort);
    expect(psnr(viaTfjs, viaOrt)).toBeGreaterThan(50);
    // The network-only path really ran the network: not a copy of the input.
    expect(psnr(viaOrt, blurred.get('street')!)).toBeLessThan(60);
  });

  it('without --model the shipped pair runs, --tile or not: --kernel none gives v0.4.0 (sgenet-s), not SGENet-σ', async () => {
    const out = (name: string) => join(dir, `pair-${name}.png`);
    const street = join(dir, 'in', 'street.png');
    await run(process.execPath, [BIN, 'deblur', street, '-o', out('tile'), '--kernel', 'none', '--tile', '512', '-q']);
    await run(process.execPath, [BIN, 'deblur', street, '-o', out('plain'), '--kernel', 'none', '--tile', '512', '--model', 'sgenet-s', '-q']);
    await run(process.execPath, [BIN, 'deblur', street, '-o', out('sigma'), '--kernel', 'none', '--tile', '512', '--model', 'sgenet-s-sigma', '-q']);
    const [pair, plain, sigma] = await Promise.all(['tile', 'plain', 'sigma'].map((n) => readRgb(out(n))));
    expect(pair.data).toEqual(plain.data);
    expect(psnr(pair, sigma)).toBeLessThan(60);
  });

  it('--model sgenet-s-sigma runs the shipped learned prior after the deconvolution: sharper than the blurry input, and not the deconvolution alone', async () => {
    const [prior, plain] = [join(dir, 'prior.png'), join(dir, 'plain.png')];
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'desk.png'), '-o', prior, '--model', 'sgenet-s-sigma', '-q']);
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'desk.png'), '-o', plain, '--model', 'sgenet-s-sigma', '--no-network', '-q']);
    const original = originals.get('desk')!;
    const restored = await readRgb(prior);
    expect(psnrAligned(original, restored)).toBeGreaterThan(psnrAligned(original, blurred.get('desk')!) + 1);
    expect(psnr(restored, await readRgb(plain))).toBeLessThan(50);
    // --effort best runs the loop: another result, still sharper than the blurry input.
    const best = join(dir, 'best.png');
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'desk.png'), '-o', best, '--model', 'sgenet-s-sigma', '--effort', 'best', '-q']);
    const looped = await readRgb(best);
    expect(psnrAligned(original, looped)).toBeGreaterThan(psnrAligned(original, blurred.get('desk')!) + 1);
    expect(psnr(looped, restored)).toBeLessThan(50);
  });

  it('writes -o FILE in the format of its extension', async () => {
    const out = join(dir, 'single.webp');
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'desk.png'), '-o', out, '--tile', '128', '--overlap', '32', '-q']);
    expect((await sharp(out).metadata()).format).toBe('webp');
  });

  it('sgenet kernel --json prints the kernel the API estimates; -o writes it as a PNG', async () => {
    const input = join(dir, 'in', 'poster.png');
    const { stdout } = await run(process.execPath, [BIN, 'kernel', input, '--json']);
    const printed = JSON.parse(stdout) as { width: number; height: number; data: number[] };
    const api = await estimateKernel(await readRgb(input));
    expect(printed.width).toBe(api.kernel.width);
    expect(printed.height).toBe(api.kernel.height);
    expect(printed.data).toEqual(Array.from(api.kernel.data, (v) => Number(v.toPrecision(8))));
    expect(printed.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const png = join(dir, 'psf.png');
    await run(process.execPath, [BIN, 'kernel', input, '-o', png, '-q']);
    const meta = await sharp(png).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([api.kernel.width, api.kernel.height, 'png']);
    const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(Math.max(...data)).toBe(255); // the PNG is the kernel scaled to its peak
  });

  it('sgenet kernel --json prints per-region kernels as "grid" where the shake differs by region', async () => {
    // Left half one camera path, right half its mirror image (core's planted 2-region shake).
    const input = join(dir, 'two-regions.png');
    await writeFile(input, await toPng(twoRegionShake().blurry));
    const { stdout } = await run(process.execPath, [BIN, 'kernel', input, '--json', '--regions', 'auto']);
    const printed = JSON.parse(stdout) as { width: number; grid: { columns: number; rows: number; width: number; height: number; kernels: { width: number; data: number[] }[]; own: boolean[]; agreement: number[] } };
    const api = await estimateKernel(await readRgb(input), { regions: 'auto' });
    expect(api.grid).toBeDefined();
    expect(printed.width).toBe(api.kernel.width);
    expect([printed.grid.columns, printed.grid.rows, printed.grid.width, printed.grid.height]).toEqual([api.grid!.columns, api.grid!.rows, 768, 512]);
    expect(printed.grid.own).toEqual(api.grid!.own);
    expect(printed.grid.agreement).toEqual(api.grid!.agreement.map((a) => Number(a.toFixed(4))));
    printed.grid.kernels.forEach((k, i) => expect(k.data).toEqual(Array.from(api.grid!.kernels[i]!.data, (v) => Number(v.toPrecision(8)))));
    // The photo's kernel is still a kernel file: the JSON reads back as a PSF.
    expect(parseKernelJson(stdout, 'stdout').width).toBe(api.kernel.width);
    const { stdout: line } = await run(process.execPath, [BIN, 'kernel', input, '--regions', '2']);
    expect(line).toMatch(/per-region kernels, 2x2 grid, 2 cells with their own/);
    // By default one kernel: no "grid" key.
    const { stdout: plain } = await run(process.execPath, [BIN, 'kernel', input, '--json']);
    expect(JSON.parse(plain)).not.toHaveProperty('grid');
  }, 240_000);

  it('sgenet kernel over a folder prints one JSON line per image, naming each file', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'kernel', join(dir, 'in'), '--json', '-q']).catch(
      (err: { stdout: string }) => err,
    );
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; confidence: number; spectralEvidence: number });
    expect(lines.map((l) => l.file.split('/').at(-1))).toEqual(['desk.png', 'poster.png', 'street.png']);
    expect(lines.every((l) => l.confidence >= 0 && l.confidence <= 1)).toBe(true);
    // The measures are the API's own, to 4 decimals.
    const api = await estimateKernel(await readRgb(join(dir, 'in', 'poster.png')));
    expect(lines[1]!.confidence).toBe(Number(api.confidence.toFixed(4)));
    expect(lines[1]!.spectralEvidence).toBe(Number(api.spectralEvidence.toFixed(4)));
  });

  it('deblur --kernel FILE deconvolves with a PSF file (JSON or PNG), the same kernel either way', async () => {
    const kernel = trajectoryKernel({ length: 10, seed: 11 });
    const json = join(dir, 'street-psf.json');
    await writeFile(json, kernelToJson(kernel));
    const [a, b] = [join(dir, 'k-json.png'), join(dir, 'k-png.png')];
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'street.png'), '-o', a, '--kernel', json, '-q']);
    const psfPng = join(dir, 'street-psf.png');
    await run(process.execPath, [BIN, 'kernel', join(dir, 'in', 'street.png'), '-o', psfPng, '-q']);
    await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'street.png'), '-o', b, '--kernel', psfPng, '-q']);
    const original = originals.get('street')!;
    // The true kernel restores the scene (non-blind mode); the estimated PSF, read back from its PNG, runs too.
    expect(psnr(await readRgb(a), original)).toBeGreaterThan(psnr(blurred.get('street')!, original) + 2);
    expect((await readRgb(b)).width).toBe(original.width);
  });

  it.each([
    ['empty.json', '', /empty\.json: the (kernel )?file is empty/],
    ['zero.json', '{"width":2,"height":1,"data":[0,0]}', /zero\.json: all values are zero/],
    ['nan.json', '{"width":2,"height":1,"data":[NaN,1]}', /nan\.json: not valid JSON/],
    ['neg.json', '{"width":2,"height":1,"data":[-1,2]}', /neg\.json: value 0 is negative/],
    ['text.json', '{"width":2,"height":1,"data":["x","y"]}', /text\.json: value 0 is not a number/],
    ['huge.json', JSON.stringify({ width: 301, height: 1, data: new Array(301).fill(1) }), /huge\.json: the 301 x 1 kernel is larger than the 192 x 144 photo/],
    ['noise.png', 'not a png at all', /noise\.png: not a readable PSF image/],
  ])('deblur --kernel %s fails with a typed error naming the file, exit 1', async (name, text, msg) => {
    const file = join(dir, name);
    await writeFile(file, text);
    const err = await run(process.execPath, [BIN, 'deblur', join(dir, 'in', 'desk.png'), '-o', join(dir, 'never.png'), '--kernel', file])
      .catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(1);
    expect(err.stderr).toMatch(msg);
    expect(err.stderr).toMatch(/ERR_SGENET_INVALID_KERNEL/);
  });

  it('checks --overlap against the learned prior\'s own default tile (896 px) before reading any photo', async () => {
    const err = await run(process.execPath, [BIN, 'deblur', 'missing.png', '-o', 'out.png', '--model', 'sgenet-s-sigma', '--overlap', '300'])
      .catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(2);
    expect(err.stderr).toMatch(/--overlap 300 needs a tile of at least 916 px.*default tile is 896 px: give --tile 916 or more/);
  });

  it('exits 2 with the usage on a bad command line', async () => {
    const err = await run(process.execPath, [BIN, 'deblur', 'x.png']).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(2);
    expect(err.stderr).toMatch(/Usage: sgenet deblur/);
  });
});

describe('--tile against --overlap (core\'s rule, with the model\'s size multiple)', () => {
  it.each([
    [{ tileSize: 300, overlap: 100 }, 8, 1024, /--tile must be at least 316 for --overlap 100 .*give --tile 316 or more, or lower --overlap to 94 or less/],
    [{ overlap: 400 }, 8, 1024, /--overlap 400 needs a tile of at least 1216 px.*default tile is 1024 px/],
    [{ tileSize: 64 }, 64, 1024, /--tile must be at least 128 for --overlap 0/],
  ])('refuses %j (multiple %i, default tile %i)', (cmd, multiple, defaultTile, msg) => {
    expect(() => checkTiling(cmd, multiple, defaultTile)).toThrow(msg);
  });
  it.each([
    [{ tileSize: 316, overlap: 100 }, 8, 1024],
    [{ tileSize: 300 }, 8, 1024],
    [{ overlap: 336 }, 8, 1024],
    [{}, 8, 1024],
  ])('accepts %j (multiple %i, default tile %i)', (cmd, multiple, defaultTile) => {
    expect(() => checkTiling(cmd, multiple, defaultTile)).not.toThrow();
  });
});

describe('what sgenet says it found', () => {
  let dir: string;
  let sharpPhoto: string;
  let blurryPhoto: string;
  let notAnImage: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sgenet-found-'));
    // The project's synthetic chart: sharp as drawn, and shaken along a 13 px camera path.
    const chart = testChart(256, 192);
    sharpPhoto = join(dir, 'chart.png');
    blurryPhoto = join(dir, 'shaken.png');
    notAnImage = join(dir, 'notes.png');
    await writeFile(sharpPhoto, await toPng(chart));
    await writeFile(blurryPhoto, await toPng(applyBlur(chart, trajectoryKernel({ length: 13, seed: 11 }), { noise: 0.005, seed: 1 })));
    await writeFile(notAnImage, 'this is not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('deblur says on stderr, per file, whether it found blur and which kernel; stdout keeps "<input> -> <output>"', async () => {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'deblur', sharpPhoto, blurryPhoto, '--out-dir', join(dir, 'out')]);
    expect(stderr).toContain(`${sharpPhoto}: no blur found: denoised only\n`);
    expect(stderr).toMatch(new RegExp(`${blurryPhoto.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: blur found, (confident|uncertain) \\(\\d+x\\d+ px kernel, confidence [01]\\.\\d\\d\\)\\n`));
    expect(stdout.trim().split('\n')).toEqual([`${sharpPhoto} -> ${join(dir, 'out', 'chart.png')}`, `${blurryPhoto} -> ${join(dir, 'out', 'shaken.png')}`]);
  });

  it('deblur --json prints one JSON object per input on stdout: the kernel the API estimates, and failures with their code', async () => {
    const result = await run(process.execPath, [BIN, 'deblur', sharpPhoto, blurryPhoto, notAnImage, join(dir, 'missing.png'), '--out-dir', join(dir, 'json'), '--json'])
      .catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect('code' in result ? result.code : 0).toBe(1);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as DeblurReport);
    const byName = new Map(lines.map((l) => [l.input.split('/').at(-1)!, l]));
    expect([...byName.keys()].sort()).toEqual(['chart.png', 'missing.png', 'notes.png', 'shaken.png']);

    expect(byName.get('chart.png')).toEqual({
      input: sharpPhoto, output: join(dir, 'json', 'chart.png'),
      kernel: { width: 1, height: 1, confidence: expect.any(Number) as number, identity: true, source: 'estimated', verdict: 'none' },
      error: null,
    });

    const shaken = byName.get('shaken.png')!;
    const api = await estimateKernel(await readRgb(blurryPhoto));
    expect(api.identity).toBe(false);
    expect(shaken).toEqual({
      input: blurryPhoto, output: join(dir, 'json', 'shaken.png'),
      kernel: {
        width: api.kernel.width, height: api.kernel.height, confidence: Number(api.confidence.toFixed(4)), identity: false, source: 'estimated',
        verdict: api.confidence >= CONFIDENT_KERNEL ? 'confident' : 'uncertain',
      },
      error: null,
    });
    await access(shaken.output!);

    expect(byName.get('notes.png')).toMatchObject({ output: null, kernel: null, error: { code: 'ERR_SGENET_INVALID_IMAGE', message: expect.stringMatching(/not an image/) as string } });
    expect(byName.get('missing.png')).toMatchObject({ output: null, kernel: null, error: { code: 'ERR_SGENET_CLI_NOT_FOUND' } });
    // People still read why on stderr, but no "found" lines: those are in the JSON.
    expect(result.stderr).toMatch(/sgenet: .*notes\.png: .*\[ERR_SGENET_INVALID_IMAGE\]/);
    expect(result.stderr).not.toMatch(/blur found/);
  });

  it('deblur --json --kernel none reports "kernel": null', async () => {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'deblur', sharpPhoto, '-o', join(dir, 'none.png'), '--kernel', 'none', '--json']);
    expect(JSON.parse(stdout)).toEqual({ input: sharpPhoto, output: join(dir, 'none.png'), kernel: null, error: null });
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stderr).toBe('');
  });

  it('kernel -o on a sharp photo writes nothing, says so and exits 3; kernel --json prints the identity kernel', async () => {
    const psf = join(dir, 'psf.png');
    const err = await run(process.execPath, [BIN, 'kernel', sharpPhoto, '-o', psf]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect('code' in err && err.code).toBe(3);
    expect(err.stderr).toBe(`${sharpPhoto}: no blur found; nothing written\n`);
    expect(err.stdout).toBe('');
    await expect(access(psf)).rejects.toThrow(/ENOENT/);

    const { stdout } = await run(process.execPath, [BIN, 'kernel', sharpPhoto, '--json']);
    expect(JSON.parse(stdout)).toEqual({ width: 1, height: 1, data: [1] });
  });

  it('deblur --tile 300 --overlap 100 is a usage error (exit 2) before any photo is read', async () => {
    const out = join(dir, 'tiled.png');
    const err = await run(process.execPath, [BIN, 'deblur', sharpPhoto, '-o', out, '--tile', '300', '--overlap', '100'])
      .catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect('code' in err && err.code).toBe(2);
    expect(err.stderr).toMatch(/^sgenet: --tile must be at least 316 for --overlap 100 \(3 x overlap \+ 2 x 8, the model's size multiple\), got 300/);
    expect(err.stderr).toMatch(/Usage: sgenet deblur/);
    expect(err.stdout).toBe('');
    await expect(access(out)).rejects.toThrow(/ENOENT/);
  });
});
