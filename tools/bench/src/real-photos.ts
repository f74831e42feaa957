/**
 * The real-photo benchmark of the kernel estimator: every photo in `../shared/datasets/real`,
 * `real-kohler` and `real-lai` is blurred, so every identity fallback is a miss. Per folder and per
 * category: the miss rate, the kernel sizes found, the NCC against the published reference kernel
 * where one exists (other blind methods' estimates: a sanity check, not ground truth), and the
 * estimation time per megapixel. Writes a contact sheet (blurry | restored | kernel, one PNG per
 * photo, and an index.html) to `tools/bench/out/real-photos/` (not committed): look at it after
 * every change to the estimator.
 *
 *   node tools/bench/dist/real-photos.js [--folders real,real-kohler,real-lai] [--only folder/name,...]
 *                                        [--limit N] [--no-sheet] [--json FILE]
 *                                        [--estimate '{"minConfidence":0.1}'] [--sheet-dir DIR]
 *                                        [--model sgenet-s-sigma]
 *
 * With `--model` (a shipped model's name or an ONNX file) the sheet gets a column more, between
 * the deconvolution and the kernel: `deblur()` with that model given the same estimate (for a
 * noise-conditioned model, the learned prior after the HQS data step), to judge side by side.
 *
 * Never a test: a report. The photos are read from beside the repository and nothing derived from
 * them is written inside the tree except the uncommitted contact sheet.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { createDeblurrer, deconvolve, estimateKernel } from '@sgenet/core';
import type { BlurKernel, Deblurrer, EstimateKernelOptions, RawImage } from '@sgenet/core';
import sharp from 'sharp';

import { REPO_ROOT } from './options.js';
import { readRgb } from './read.js';
import type { Table } from './report.js';
import { num, pct, renderText } from './report.js';
import { median } from './stats.js';

export const REAL_FOLDERS = ['real', 'real-kohler', 'real-lai'] as const;
export type RealFolder = (typeof REAL_FOLDERS)[number];

export const DATASETS_DIR = join(REPO_ROOT, '..', 'shared', 'datasets');
export const SHEET_DIR = join(REPO_ROOT, 'tools', 'bench', 'out', 'real-photos');

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

export interface RealPhoto {
  folder: RealFolder;
  file: string;
  name: string;
  /** Categories: real-lai's attribute.txt, real-kohler's scene (Blurry1..4), `real` otherwise. */
  categories: string[];
  reference: string | undefined;
}

export interface RealResult {
  photo: RealPhoto;
  width: number;
  height: number;
  identity: boolean;
  kernelWidth: number;
  kernelHeight: number;
  confidence: number;
  /** The kernel sides the returned kernel was chosen among (the larger ladder's, when it was kept). */
  sizesTried: number[];
  seconds: number;
  /** Best NCC against the reference over shifts and a 180° turn; undefined without a reference. */
  ncc: number | undefined;
  /** Per-region kernels found (`KernelEstimate.grid`): `<columns>x<rows>, <n> own`; undefined for one kernel. */
  grid: string | undefined;
}

/** real-lai's categories per photo name (a photo may have several). */
async function laiCategories(dir: string): Promise<Map<string, string[]>> {
  const text = await readFile(join(dir, 'attribute.txt'), 'utf8');
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [name, ...cats] = line.trim().split(/\s+/);
    if (name) map.set(name, cats);
  }
  return map;
}

/** The photos of the chosen folders, with their categories and reference kernels. */
export async function listRealPhotos(folders: readonly RealFolder[] = REAL_FOLDERS, root = DATASETS_DIR): Promise<RealPhoto[]> {
  const photos: RealPhoto[] = [];
  for (const folder of folders) {
    const dir = join(root, folder);
    if (!existsSync(dir)) throw new Error(`${dir} is missing: the real-photo benchmark reads ../shared/datasets beside the repository`);
    const refDir = join(dir, 'reference-kernels');
    const refs = existsSync(refDir) ? await readdir(refDir) : [];
    const lai = folder === 'real-lai' ? await laiCategories(dir) : undefined;
    for (const file of (await readdir(dir)).sort()) {
      if (!IMAGE_EXT.has(extname(file).toLowerCase())) continue;
      const name = basename(file, extname(file));
      const categories = lai ? lai.get(name) ?? ['uncategorised']
        : folder === 'real-kohler' ? [name.replace(/_\d+$/, '')] : ['real'];
      // real/ and real-kohler/ name the reference after the photo; real-lai/ as <photo>_<nn>_<method>_psf.
      const reference = refs.find((r) => basename(r, extname(r)) === name)
        ?? refs.find((r) => r.startsWith(`${name}_`) && /_psf\.png$/.test(r));
      photos.push({ folder, file: join(dir, file), name, categories, reference: reference && join(refDir, reference) });
    }
  }
  return photos;
}

async function readKernel(file: string): Promise<BlurKernel> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const k = new Float32Array(info.width * info.height);
  let sum = 0;
  for (let i = 0; i < k.length; i++) sum += (k[i] = data[i * info.channels]!);
  if (sum <= 0) throw new Error(`${file}: an all-black kernel`);
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return { width: info.width, height: info.height, data: k };
}

/**
 * Normalised cross-correlation of two kernels, maximised over integer shifts (both placed at the
 * centre of a common square) and over a 180° turn (methods differ on correlation vs convolution).
 */
export function kernelNcc(a: BlurKernel, b: BlurKernel): number {
  const side = Math.max(a.width, a.height, b.width, b.height);
  const place = (k: BlurKernel, turn: boolean): Float64Array => {
    const f = new Float64Array(side * side);
    const oy = (side - k.height) >> 1, ox = (side - k.width) >> 1;
    for (let y = 0; y < k.height; y++) {
      for (let x = 0; x < k.width; x++) {
        const v = turn ? k.data[(k.height - 1 - y) * k.width + (k.width - 1 - x)]! : k.data[y * k.width + x]!;
        f[(oy + y) * side + ox + x] = v;
      }
    }
    return f;
  };
  const norm = (f: Float64Array) => Math.sqrt(f.reduce((s, v) => s + v * v, 0));
  const fa = place(a, false);
  const na = norm(fa);
  let best = 0;
  const reach = Math.ceil(side / 3);
  for (const turn of [false, true]) {
    const fb = place(b, turn);
    const nb = norm(fb);
    for (let dy = -reach; dy <= reach; dy++) {
      for (let dx = -reach; dx <= reach; dx++) {
        let dot = 0;
        for (let y = Math.max(0, -dy); y < Math.min(side, side - dy); y++) {
          const ra = y * side, rb = (y + dy) * side;
          for (let x = Math.max(0, -dx); x < Math.min(side, side - dx); x++) dot += fa[ra + x]! * fb[rb + x + dx]!;
        }
        best = Math.max(best, dot / (na * nb));
      }
    }
  }
  return best;
}

/** The kernel as a picture: scaled to its peak, nearest-neighbour enlarged to `side`. */
async function kernelPicture(k: BlurKernel, side: number): Promise<Buffer> {
  let peak = 0;
  for (const v of k.data) peak = Math.max(peak, v);
  const grey = Buffer.alloc(k.width * k.height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round((255 * k.data[i]!) / (peak || 1));
  return sharp(grey, { raw: { width: k.width, height: k.height, channels: 1 } })
    .resize(side, side, { kernel: 'nearest', fit: 'contain', background: '#000' }).png().toBuffer();
}

/** One row of the contact sheet: blurry | restored (one or more) | kernel, `height` px tall. */
async function contactRow(blurry: RawImage, restored: readonly RawImage[], kernel: BlurKernel, height: number): Promise<Buffer> {
  const scaled = async (img: RawImage) => sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength),
    { raw: { width: img.width, height: img.height, channels: img.channels } }).resize({ height }).png().toBuffer();
  const pictures = await Promise.all([blurry, ...restored].map(scaled));
  const k = await kernelPicture(kernel, height);
  const w = Math.round((blurry.width * height) / blurry.height);
  return sharp({ create: { width: pictures.length * (w + 4) + height, height, channels: 3, background: '#222' } })
    .composite([...pictures.map((input, i) => ({ input, left: i * (w + 4), top: 0 })), { input: k, left: pictures.length * (w + 4), top: 0 }])
    .png().toBuffer();
}

export interface RunOptions {
  folders?: readonly RealFolder[];
  limit?: number;
  /** Only these photos, as `folder/name` (e.g. to look again at the misses of a previous run). */
  only?: readonly string[];
  /** Estimator options for an experiment (default: none, what `deblur()` runs). */
  estimate?: EstimateKernelOptions;
  /** Contact sheet folder (default {@link SHEET_DIR}). */
  sheetDir?: string;
  sheet?: boolean;
  /** A model whose `deblur()` (given the same estimate) gets a column of its own on the sheet. */
  model?: string;
  onPhoto?: (r: RealResult, index: number, total: number) => void;
}

/** Estimates every photo's kernel (default options, as `deblur()`'s `kernel: 'auto'`); writes the contact sheet. */
export async function runRealPhotos(opts: RunOptions = {}): Promise<RealResult[]> {
  let photos = await listRealPhotos(opts.folders ?? REAL_FOLDERS);
  if (opts.only) photos = photos.filter((p) => opts.only!.includes(`${p.folder}/${p.name}`));
  if (opts.limit) photos = photos.slice(0, opts.limit);
  const sheet = opts.sheet ?? true;
  const sheetDir = opts.sheetDir ?? SHEET_DIR;
  if (sheet) await mkdir(sheetDir, { recursive: true });
  const results: RealResult[] = [];
  const rows: string[] = [];
  const deblurrer: Deblurrer | undefined = sheet && opts.model ? await createDeblurrer({ model: opts.model }) : undefined;
  try {
    for (const [i, photo] of photos.entries()) {
      const image = await readRgb(photo.file);
      const t = performance.now();
      const estimate = await estimateKernel(image, opts.estimate);
      const seconds = (performance.now() - t) / 1000;
      const k = estimate.kernel;
      const ncc = photo.reference && !estimate.identity ? kernelNcc(k, await readKernel(photo.reference)) : photo.reference ? 0 : undefined;
      const r: RealResult = {
        photo, width: image.width, height: image.height, identity: estimate.identity,
        kernelWidth: k.width, kernelHeight: k.height, confidence: estimate.confidence, sizesTried: estimate.scores.candidates.map((c) => c.size), seconds, ncc,
        grid: estimate.grid ? `${estimate.grid.columns}x${estimate.grid.rows}, ${estimate.grid.own.filter(Boolean).length} own` : undefined,
      };
      results.push(r);
      opts.onPhoto?.(r, i, photos.length);
      if (sheet) {
        const restored = [estimate.identity ? image : await deconvolve(image, k)];
        // With per-region kernels, what the pipeline deconvolves: beside the single kernel's, to judge.
        if (estimate.grid) restored.push(await deconvolve(image, estimate.grid));
        if (deblurrer) restored.push(await deblurrer.deblur(image, { kernel: estimate.identity ? 'none' : k }));
        const png = `${photo.folder}__${photo.name}.png`;
        await writeFile(join(sheetDir, png), await contactRow(image, restored, k, 320));
        rows.push(`<figure><img src="${png}" loading="lazy"><figcaption>${photo.folder}/${photo.name} (${photo.categories.join(', ')}): ` +
          `${estimate.identity ? '<b>MISS: identity</b>' : `${k.width}x${k.height}`}, confidence ${estimate.confidence.toFixed(2)}` +
          `${ncc !== undefined ? `, NCC ${ncc.toFixed(2)}` : ''}, ${seconds.toFixed(1)} s` +
          `${r.grid ? `; <b>per-region kernels ${r.grid}</b> (the column after the single kernel's)` : ''}</figcaption></figure>`);
      }
    }
  } finally {
    await deblurrer?.dispose();
  }
  if (sheet) {
    const columns = `blurry | restored (hyper-Laplacian deconvolution)${deblurrer ? ` | deblur() with ${deblurrer.model.name} ${deblurrer.model.version}` : ''} | estimated kernel`;
    await writeFile(join(sheetDir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>Real photos: ${columns}</title>
<style>body{background:#111;color:#ddd;font:14px system-ui}figure{margin:0 0 16px}img{max-width:100%}</style>
<h1>Real photos: ${columns}</h1>\n${rows.join('\n')}\n`);
  }
  return results;
}

interface Group {
  label: string;
  results: RealResult[];
}

function groupRow(g: Group): string[] {
  const found = g.results.filter((r) => !r.identity);
  const sizes = found.map((r) => Math.max(r.kernelWidth, r.kernelHeight));
  const nccs = g.results.filter((r) => r.ncc !== undefined).map((r) => r.ncc!);
  const perMp = g.results.map((r) => r.seconds / ((r.width * r.height) / 1e6));
  return [
    g.label,
    String(g.results.length),
    `${g.results.length - found.length} (${pct((g.results.length - found.length) / g.results.length)})`,
    sizes.length ? `${Math.min(...sizes)} / ${median(sizes)} / ${Math.max(...sizes)}` : '-',
    nccs.length ? `${num(median(nccs), 2)} (${nccs.length})` : '-',
    num(median(g.results.map((r) => r.confidence)), 2),
    num(median(perMp), 2),
  ];
}

const COLUMNS = ['group', 'photos', 'misses (identity)', 'kernel side min / median / max', 'NCC to reference, median (n)', 'confidence, median', 's per MP, median'];

/** Tables: per folder, per category, and the misses named. */
export function realPhotoTables(results: RealResult[]): Table[] {
  const folders = [...new Set(results.map((r) => r.photo.folder))];
  const byFolder: Group[] = folders.map((f) => ({ label: f, results: results.filter((r) => r.photo.folder === f) }));
  byFolder.push({ label: 'all', results });
  const cats = [...new Set(results.filter((r) => r.photo.folder === 'real-lai').flatMap((r) => r.photo.categories))].sort();
  const byCategory: Group[] = cats.map((c) => ({ label: `real-lai: ${c}`, results: results.filter((r) => r.photo.folder === 'real-lai' && r.photo.categories.includes(c)) }));
  const misses = results.filter((r) => r.identity).map((r) => `${r.photo.folder}/${r.photo.name}`);
  const grids = results.filter((r) => r.grid).map((r) => `${r.photo.folder}/${r.photo.name} (${r.grid})`);
  const lowNcc = results.filter((r) => r.ncc !== undefined && !r.identity).sort((a, b) => a.ncc! - b.ncc!).slice(0, 5)
    .map((r) => `${r.photo.folder}/${r.photo.name} ${num(r.ncc!, 2)}`);
  return [
    { title: 'Real photos, per folder', columns: COLUMNS, rows: byFolder.map(groupRow),
      notes: [`Misses: ${misses.length ? misses.join(', ') : 'none'}.`, `Lowest NCC among found kernels: ${lowNcc.join(', ') || '-'}.`,
        `Per-region kernels (${grids.length}): ${grids.length ? grids.join(', ') : 'none'}.`] },
    { title: 'real-lai, per category (a photo may be in several)', columns: COLUMNS, rows: byCategory.map(groupRow) },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { folders: { type: 'string' }, limit: { type: 'string' }, only: { type: 'string' }, estimate: { type: 'string' }, 'sheet-dir': { type: 'string' }, 'no-sheet': { type: 'boolean' }, json: { type: 'string' }, model: { type: 'string' } } });
  const folders = (values.folders?.split(',') ?? [...REAL_FOLDERS]) as RealFolder[];
  for (const f of folders) if (!REAL_FOLDERS.includes(f)) throw new Error(`--folders: ${f} is not one of ${REAL_FOLDERS.join(', ')}`);
  const results = await runRealPhotos({
    folders,
    ...(values.limit ? { limit: Number(values.limit) } : {}),
    ...(values.only ? { only: values.only.split(',') } : {}),
    ...(values.estimate ? { estimate: JSON.parse(values.estimate) as EstimateKernelOptions } : {}),
    ...(values['sheet-dir'] ? { sheetDir: values['sheet-dir'] } : {}),
    sheet: !values['no-sheet'],
    ...(values.model ? { model: values.model } : {}),
    onPhoto: (r, i, n) => process.stderr.write(`[${i + 1}/${n}] ${r.photo.folder}/${r.photo.name}: ${r.identity ? 'identity' : `${r.kernelWidth}x${r.kernelHeight}`} ` +
      `c=${r.confidence.toFixed(2)}${r.ncc !== undefined ? ` ncc=${r.ncc.toFixed(2)}` : ''}${r.grid ? ` grid ${r.grid}` : ''} ${r.seconds.toFixed(1)} s\n`),
  });
  for (const t of realPhotoTables(results)) console.log(renderText(t));
  if (values.json) await writeFile(values.json, JSON.stringify(results.map((r) => ({ ...r, photo: { ...r.photo, file: undefined } })), null, 1));
  if (!values['no-sheet']) console.log(`contact sheet: ${join(values['sheet-dir'] ?? SHEET_DIR, 'index.html')}`);
}
