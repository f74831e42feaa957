/**
 * Blur kernels in and out of files: the JSON form `{"width":W,"height":H,"data":[...]}` (row-major,
 * sum 1) and greyscale pixels (a PSF image; decoding the PNG is the caller's, e.g. sharp's). Every
 * kernel from outside is checked here and refused with an {@link InvalidKernelError} that names
 * where it came from.
 */
import { InvalidKernelError } from '../errors.js';
import type { PixelLayout } from '../pixels/image.js';
import type { BlurKernel } from '../types.js';
import { commonSide, padToCommonSide } from './regions.js';
import type { KernelGrid } from './regions.js';

/** Largest kernel side accepted from outside. */
export const MAX_KERNEL_SIDE = 1023;

/**
 * Checks a kernel handed in by a caller (`source` names it in messages: a file, an option) and
 * returns it normalised to sum 1 as a new Float32Array kernel. With `photo`, a kernel larger than
 * the photo is refused too.
 */
export function validateKernel(kernel: unknown, source: string, photo?: Pick<PixelLayout, 'width' | 'height'>): BlurKernel {
  const fail = (what: string) => new InvalidKernelError(`${source}: ${what}`);
  if (typeof kernel !== 'object' || kernel === null) throw fail('expected a kernel { width, height, data }');
  const { width, height, data } = kernel as Record<string, unknown>;
  const side = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_KERNEL_SIDE;
  if (!side(width) || !side(height)) {
    throw fail(`width and height must be integers between 1 and ${MAX_KERNEL_SIDE}, got ${String(width)} x ${String(height)}`);
  }
  const w = width as number;
  const h = height as number;
  if (!(data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data))) {
    throw fail('data must be an array of numbers');
  }
  if (data.length === 0) throw fail('the kernel is empty; give at least one value');
  if (data.length !== w * h) throw fail(`data has ${data.length} values but ${w} x ${h} needs ${w * h}`);
  if (photo && (w > photo.width || h > photo.height)) {
    throw fail(`the ${w} x ${h} kernel is larger than the ${photo.width} x ${photo.height} photo; crop the PSF or check the file`);
  }
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number') throw fail(`value ${i} is not a number (${JSON.stringify(v) ?? String(v)})`);
    if (Number.isNaN(v) || !Number.isFinite(v)) throw fail(`value ${i} is ${v}; a kernel holds finite numbers`);
    if (v < 0) throw fail(`value ${i} is negative (${v}); a blur kernel is non-negative`);
    sum += v;
  }
  if (!(sum > 0)) throw fail('all values are zero; a blur kernel must sum to a positive number (it is normalised to 1)');
  const out = new Float32Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = (data[i] as number) / sum;
  return { width: w, height: h, data: out };
}

/** Most cells across or down of a kernel grid accepted from outside. */
export const MAX_GRID_SIDE = 8;

/** Most taps (cells x kernel area, after padding to one side) of a kernel grid accepted from outside: 16 MB of float32. */
export const MAX_GRID_TAPS = 1 << 22;

/**
 * Checks a kernel grid handed in by a caller (`KernelGrid`, as `estimateKernel` returns it): its
 * cell counts, that it was made for this photo's size, every kernel (as {@link validateKernel}),
 * and its size ({@link MAX_GRID_TAPS}). Returns a new grid with every kernel normalised to sum 1
 * and centred in one common odd square; `own` and `agreement` default to every cell's own,
 * agreement 1.
 */
export function validateKernelGrid(grid: unknown, source: string, photo: Pick<PixelLayout, 'width' | 'height'>): KernelGrid {
  const fail = (what: string) => new InvalidKernelError(`${source}: ${what}`);
  if (typeof grid !== 'object' || grid === null) throw fail('expected a kernel grid { columns, rows, width, height, kernels }');
  const { columns, rows, width, height, kernels, own, agreement } = grid as Record<string, unknown>;
  const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_GRID_SIDE;
  if (!count(columns) || !count(rows)) {
    throw fail(`columns and rows must be integers between 1 and ${MAX_GRID_SIDE}, got ${String(columns)} x ${String(rows)}`);
  }
  if (width !== photo.width || height !== photo.height) {
    throw fail(`the grid was made for a ${String(width)} x ${String(height)} photo, not this ${photo.width} x ${photo.height} one; estimate it on this photo`);
  }
  const n = columns as number, m = rows as number;
  if (n > photo.width || m > photo.height) throw fail(`a ${n} x ${m} grid has cells of less than a pixel on this ${photo.width} x ${photo.height} photo`);
  const cells = n * m;
  if (!Array.isArray(kernels) || kernels.length !== cells) {
    throw fail(`kernels must be an array of ${cells} kernels (columns x rows), got ${Array.isArray(kernels) ? kernels.length : typeof kernels}`);
  }
  // By index, not .map: a sparse array's holes are refused, not skipped.
  const checked: BlurKernel[] = [];
  for (let i = 0; i < cells; i++) checked.push(validateKernel(kernels[i], `${source} cell ${i}`, photo));
  // Checked before padding: the padded grid is what would be allocated.
  const side = commonSide(checked);
  if (cells * side * side > MAX_GRID_TAPS) {
    throw fail(`${cells} kernels of ${side} x ${side} are too large a grid (more than ${MAX_GRID_TAPS} taps); use fewer cells or smaller kernels`);
  }
  const flags = <T>(v: unknown, name: string, ok: (x: unknown) => boolean, fallback: T): T[] => {
    if (v === undefined) return new Array<T>(cells).fill(fallback);
    if (!Array.isArray(v) || v.length !== cells) throw fail(`${name} must be an array of ${cells} values`);
    const out: T[] = [];
    for (let i = 0; i < cells; i++) {
      if (!ok(v[i])) throw fail(`${name}[${i}] is ${String(v[i])}; expected ${name === 'own' ? 'true or false' : 'a number from 0 to 1'}`);
      out.push(v[i] as T);
    }
    return out;
  };
  return {
    columns: n, rows: m, width: photo.width, height: photo.height,
    kernels: padToCommonSide(checked),
    own: flags(own, 'own', (x) => typeof x === 'boolean', true),
    agreement: flags(agreement, 'agreement', (x) => typeof x === 'number' && x >= 0 && x <= 1, 1),
  };
}

/** Parses the JSON kernel format; `source` (the file name) appears in every error. */
export function parseKernelJson(text: string, source: string): BlurKernel {
  if (text.trim() === '') throw new InvalidKernelError(`${source}: the file is empty; expected {"width":W,"height":H,"data":[...]}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidKernelError(`${source}: not valid JSON (${(cause as Error).message}); expected {"width":W,"height":H,"data":[...]}`, { cause });
  }
  return validateKernel(json, source);
}

/** The JSON kernel format, row-major, values rounded to 8 significant digits. */
export function kernelToJson(kernel: BlurKernel): string {
  const data = Array.from(kernel.data, (v) => Number(v.toPrecision(8)));
  return JSON.stringify({ width: kernel.width, height: kernel.height, data });
}

/** A kernel from greyscale samples (a decoded PSF image); black is zero weight. */
export function kernelFromGrey(samples: ArrayLike<number>, width: number, height: number, source: string): BlurKernel {
  return validateKernel({ width, height, data: Array.from(samples) }, source);
}

/** The kernel as 8-bit grey, its peak at 255: how a PSF is stored and shown as a picture. */
export function kernelToGrey(kernel: BlurKernel): Uint8Array {
  let peak = 0;
  for (const v of kernel.data) peak = Math.max(peak, v);
  return Uint8Array.from(kernel.data, (v) => (peak > 0 ? Math.round((v / peak) * 255) : 0));
}
