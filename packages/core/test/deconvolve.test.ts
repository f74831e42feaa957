import { describe, expect, it } from 'vitest';

import { deconvolve, PASS_WORKER_BYTES, retireWorkersAfter, workersWithinMemory } from '../src/deconvolve/deconvolve.js';
import { deconvolutionOverlap, MAX_DECONVOLUTION_OVERLAP } from '../src/deconvolve/passes.js';
import { deconvolveTile } from '../src/deconvolve/tile.js';
import type { TileCache, TileSettings } from '../src/deconvolve/tile.js';
import type { Tile } from '../src/tiling/plan.js';
import { DEFAULT_CLIP_LEVEL } from '../src/pixels/clipped.js';
import { estimateNoise, estimatePhotoNoise, JPEG_BLOCKINESS, jpegBlockiness } from '../src/deconvolve/noise.js';
import { AbortError, InvalidKernelError, InvalidOptionError } from '../src/errors.js';
import { applyBlur, deadLeaves, psnr, seededRandom, trajectoryKernel } from '../src/synthetic/index.js';
import type { RawImage } from '../src/types.js';
import { polylineKernel, saturatedPair } from './kernel-helpers.js';

const kernel = polylineKernel([[-6, -3], [5, 2], [5, 6]], 17);

function sceneWithNoise(width: number, height: number, noise: number): { sharp: RawImage; blurry: RawImage } {
  const sharp = deadLeaves(width, height, 5);
  return { sharp, blurry: applyBlur(sharp, kernel, { noise, seed: 1 }) };
}
const scene = (width: number, height: number) => sceneWithNoise(width, height, 0.005);

describe('deconvolve (non-blind)', () => {
  it('restores a planted kernel: far closer to the sharp scene than the blurry input, in every mode', async () => {
    const { sharp, blurry } = scene(256, 192);
    const before = psnr(sharp, blurry);
    const hl = psnr(sharp, await deconvolve(blurry, kernel));
    const tv = psnr(sharp, await deconvolve(blurry, kernel, { method: 'tv' }));
    const wiener = psnr(sharp, await deconvolve(blurry, kernel, { method: 'wiener' }));
    console.log(`blurry ${before.toFixed(2)} dB, hyper-Laplacian ${hl.toFixed(2)}, TV ${tv.toFixed(2)}, Wiener ${wiener.toFixed(2)}`);
    expect(hl).toBeGreaterThan(before + 3);
    expect(tv).toBeGreaterThan(before + 1.5);
    expect(wiener).toBeGreaterThan(before + 2);
    // A PSF with another positive sum (an 8-bit PSF image, say) is the same kernel.
    const scaled = { ...kernel, data: kernel.data.map((v) => v * 255) };
    expect((await deconvolve(blurry, scaled)).data).toEqual((await deconvolve(blurry, kernel)).data);
  });

  it('tiled matches untiled: as close to the truth, and close to each other', async () => {
    // A regularised inverse of a 17 px kernel reaches several hundred px at the kernel's spectral
    // zeros, so tiles cannot reproduce the untiled result to 1/255 (measured: PSNR 30-33 dB between
    // the two at 512-768 px tiles, both ~22.5 dB from the truth; see BENCHMARKS.md). What must
    // hold: tiling costs no quality, and the two results agree far better than either agrees with
    // the truth.
    const { sharp, blurry } = sceneWithNoise(900, 640, 0.01);
    const untiled = await deconvolve(blurry, kernel, { tileSize: 4096 });
    const tiles: number[] = [];
    const tiled = await deconvolve(blurry, kernel, { tileSize: 512, onProgress: (p) => tiles.push(p.total) });
    expect(tiles[0]).toBeGreaterThanOrEqual(4);
    expect(psnr(sharp, tiled)).toBeGreaterThan(psnr(sharp, untiled) - 0.3);
    expect(psnr(tiled, untiled)).toBeGreaterThan(psnr(sharp, untiled) + 6);
  });

  it('reads six kernel sides of context, 48 to 966 px, so a long kernel tiles a wide photo instead of spanning it', async () => {
    expect(MAX_DECONVOLUTION_OVERLAP).toBe(966);
    expect([5, 8, 11, 101, 161, 163, 269, 401].map((side) => deconvolutionOverlap(side))).toEqual([48, 48, 66, 606, 966, 966, 966, 966]);
    // The half-resolution chroma grid: a 161 px kernel halves to 81 px (half-kernel.ts) and keeps
    // its six sides, 486 px; the halved kernels of longer ones (83 px and up) read the same 486.
    expect([41, 81, 83, 201].map((side) => deconvolutionOverlap(side, 0.5))).toEqual([246, 486, 486, 486]);
    // 3400 x 192 px under a 169 px kernel: bridge 177; six sides would be 1014 px of context in
    // 3044 px tiles (3 x 1014 + 2); capped, 966 px in 2900 px tiles (3 x 966 + 2 > 2048 - 177).
    // The default is the capped plan exactly, not the six sides'. (The photo need not be blurred
    // by the kernel for that: the plan depends on the kernel's side alone.)
    const long = trajectoryKernel({ length: 340, seed: 4 });
    expect(long.width).toBe(169);
    const blurry = deadLeaves(3400, 192, 3);
    const opts = { method: 'wiener' as const, color: 'rgb' as const };
    const byDefault = await deconvolve(blurry, long, opts);
    expect(byDefault.data).toEqual((await deconvolve(blurry, long, { ...opts, overlap: 966 })).data);
    expect(byDefault.data).not.toEqual((await deconvolve(blurry, long, { ...opts, overlap: 1014 })).data);
  });

  it("makes a tile cache's second spectrum only for a solve that uses it: not for the one-pass HQS data step", async () => {
    const plane = Float32Array.from({ length: 64 * 48 }, (_, i) => ((i * 37) % 101) / 101);
    const base: TileSettings = {
      kernel, method: 'hqs', alpha: 0.8, lambda: 2000, nsr: 0.01, hqsAlpha: 0.05, bridge: kernel.width + 8, planes: 1,
    };
    const secondOf = async (settings: TileSettings, tensor: Float32Array): Promise<boolean> => {
      const cache: TileCache = new Map();
      await deconvolveTile(tensor, 64, 48, settings, cache);
      return [...cache.values()][0]!.second !== undefined;
    };
    expect(await secondOf(base, plane.slice())).toBe(false);
    // A later HQS step's prior z needs F(z); the hyper-Laplacian solve needs its work space.
    const withPrior = new Float32Array(2 * plane.length);
    withPrior.set(plane);
    withPrior.set(plane, plane.length);
    expect(await secondOf({ ...base, withPrior: true }, withPrior)).toBe(true);
    expect(await secondOf({ ...base, method: 'hyper-laplacian' }, plane.slice())).toBe(true);
  });

  it('keeps 16-bit depth and passes alpha through untouched', async () => {
    const { blurry } = scene(96, 64);
    const rgba = new Uint16Array(96 * 64 * 4);
    const rand = seededRandom(3);
    for (let p = 0; p < 96 * 64; p++) {
      for (let c = 0; c < 3; c++) rgba[p * 4 + c] = blurry.data[p * 3 + c]! * 257;
      rgba[p * 4 + 3] = Math.floor(rand() * 65536);
    }
    const out = await deconvolve({ data: rgba, width: 96, height: 64, channels: 4 }, kernel);
    expect(out.data).toBeInstanceOf(Uint16Array);
    for (let p = 0; p < 96 * 64; p++) expect(out.data[p * 4 + 3]).toBe(rgba[p * 4 + 3]);
    const grey = await deconvolve({ data: blurry.data.filter((_, i) => i % 3 === 1), width: 96, height: 64, channels: 1 }, kernel);
    expect(grey.channels).toBe(1);
  });

  it('refuses bad kernels and options with typed errors, and honours an AbortSignal', async () => {
    const { blurry } = scene(64, 48);
    await expect(deconvolve(blurry, { width: 2, height: 1, data: Float32Array.of(0, 0) })).rejects.toThrow(InvalidKernelError);
    await expect(deconvolve(blurry, { width: 65, height: 1, data: new Float32Array(65).fill(1) })).rejects.toThrow(/larger than the 64 x 48 photo/);
    await expect(deconvolve(blurry, kernel, { method: 'lucy' as never })).rejects.toThrow(InvalidOptionError);
    await expect(deconvolve(blurry, kernel, { noise: 0 })).rejects.toThrow(/noise/);
    await expect(deconvolve(blurry, kernel, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });
});

describe('clipped lights (clipLevel)', () => {
  it('leaves clipped samples out of the data term: closer to the sharp scene than trusting them', async () => {
    // Lights 4-10x white blurred in linear light, then clipped: the clipped samples are not k ⊛ x.
    const { sharp, blurry } = saturatedPair(kernel, 6, 256, 192);
    const clipped = blurry.data.filter((v) => v >= 250).length;
    expect(clipped).toBeGreaterThan(100);
    for (const color of ['ycbcr', 'rgb'] as const) {
      const trusted = psnr(sharp, await deconvolve(blurry, kernel, { color }));
      const masked = psnr(sharp, await deconvolve(blurry, kernel, { color, clipLevel: DEFAULT_CLIP_LEVEL }));
      console.log(`${color}: clipped samples trusted ${trusted.toFixed(2)} dB, left out ${masked.toFixed(2)} dB`);
      expect(masked).toBeGreaterThan(trusted + 0.3);
    }
  });

  it('changes nothing on a photo without a clipped sample, is off by default, and TV masks too', async () => {
    const { blurry } = scene(128, 96);
    const dim: RawImage = { ...blurry, data: blurry.data.map((v) => Math.round(v * 0.9)) };
    expect(Math.max(...dim.data)).toBeLessThan(250);
    const on = { clipLevel: DEFAULT_CLIP_LEVEL };
    expect((await deconvolve(dim, kernel, on)).data).toEqual((await deconvolve(dim, kernel, { clipLevel: false })).data);
    // One clipped light: the option changes the result, TV too; off is the default; Wiener ignores it.
    const lit: RawImage = { ...dim, data: Uint8Array.from(dim.data) };
    for (let y = 40; y < 44; y++) for (let x = 60; x < 64; x++) lit.data.fill(255, (y * 128 + x) * 3, (y * 128 + x) * 3 + 3);
    const plain = (await deconvolve(lit, kernel)).data;
    expect((await deconvolve(lit, kernel, on)).data).not.toEqual(plain);
    expect(plain).toEqual((await deconvolve(lit, kernel, { clipLevel: false })).data);
    expect((await deconvolve(lit, kernel, { method: 'tv', ...on })).data).not.toEqual((await deconvolve(lit, kernel, { method: 'tv' })).data);
    expect((await deconvolve(lit, kernel, { method: 'wiener', ...on })).data).toEqual((await deconvolve(lit, kernel, { method: 'wiener' })).data);
    // The same on one thread and with the chroma planes split over two workers (one tile).
    expect((await deconvolve(lit, kernel, { ...on, workers: 2 })).data).toEqual((await deconvolve(lit, kernel, { ...on, workers: 1 })).data);
  });

  it('refuses a clip level outside [0.5, 1] with a typed error', async () => {
    const { blurry } = scene(64, 48);
    await expect(deconvolve(blurry, kernel, { clipLevel: 0.2 })).rejects.toThrow(InvalidOptionError);
    await expect(deconvolve(blurry, kernel, { clipLevel: true as never })).rejects.toThrow(/false, or a number between 0.5 and 1/);
    await expect(deconvolve(blurry, kernel, { clipLevel: Number.NaN })).rejects.toThrow(InvalidOptionError);
  });
});

describe('estimateNoise', () => {
  it('measures planted white noise on a blurred scene within 20%', () => {
    const sharp = deadLeaves(256, 256, 2);
    for (const sigma of [0.005, 0.01, 0.03]) {
      const noisy = applyBlur(sharp, trajectoryKernel({ length: 15, seed: 2 }), { noise: sigma, seed: 4 });
      const planes = [0, 1, 2].map((c) => Float64Array.from({ length: 256 * 256 }, (_, i) => noisy.data[i * 3 + c]! / 255));
      // The truth includes the 8-bit rounding the scene went through (σ² + 1/(12·255²)).
      const truth = Math.hypot(sigma, 1 / (255 * Math.sqrt(12)));
      expect(Math.abs(estimateNoise(planes, 256, 256) / truth - 1)).toBeLessThan(0.2);
    }
  });
});

/**
 * JPEG's lossy step, written out independently of any codec: each 8x8 block's 2-D DCT-II (orthonormal),
 * rounded to the multiples of the standard luminance table scaled to `quality` (IJG scaling), and
 * transformed back. Values in [0, 1].
 */
function jpegQuantise(plane: Float64Array, width: number, height: number, quality: number): Float64Array {
  const table = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99];
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  const q = table.map((t) => Math.max(1, Math.floor((t * scale + 50) / 100)) / 255);
  const basis = (k: number, n: number) => (k === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * n + 1) * k * Math.PI) / 16);
  const out = Float64Array.from(plane);
  for (let by = 0; by + 8 <= height; by += 8) {
    for (let bx = 0; bx + 8 <= width; bx += 8) {
      const coef = new Float64Array(64);
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let acc = 0;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) acc += basis(u, x) * basis(v, y) * (plane[(by + y) * width + bx + x]! - 0.5);
          coef[v * 8 + u] = Math.round(acc / q[v * 8 + u]!) * q[v * 8 + u]!;
        }
      }
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          let acc = 0;
          for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) acc += basis(u, x) * basis(v, y) * coef[v * 8 + u]!;
          out[(by + y) * width + bx + x] = Math.round(Math.min(1, Math.max(0, acc + 0.5)) * 255) / 255;
        }
      }
    }
  }
  return out;
}

describe('noise under JPEG compression', () => {
  const side = 256;
  const sigma = 0.015;
  const noisy = applyBlur(deadLeaves(side, side, 3), trajectoryKernel({ length: 9, seed: 3 }), { noise: sigma, seed: 5 });
  const grey = Float64Array.from({ length: side * side }, (_, i) => noisy.data[i * 3 + 1]! / 255);
  const compressed = jpegQuantise(grey, side, side, 80);
  const truth = Math.hypot(sigma, 1 / (255 * Math.sqrt(12)));

  it('sees the 8x8 grid of a JPEG and none on a photo never compressed', () => {
    expect(jpegBlockiness(grey, side, side)).toBeLessThan(1.05);
    expect(jpegBlockiness(compressed, side, side)).toBeGreaterThan(JPEG_BLOCKINESS);
    // The grid is found at any phase: a crop that moves it by 3 px.
    const w = side - 3;
    const shifted = Float64Array.from({ length: w * (side - 3) }, (_, i) => compressed[(Math.floor(i / w) + 3) * side + (i % w) + 3]!);
    expect(jpegBlockiness(shifted, w, side - 3)).toBeGreaterThan(JPEG_BLOCKINESS);
  });

  it('reads the noise a JPEG hides from the finest band, and changes nothing on other photos', () => {
    // The finest diagonal band is emptied by the quantisation: the white-noise estimate falls far short.
    expect(estimateNoise([compressed], side, side) / truth).toBeLessThan(0.6);
    const jpegAware = estimatePhotoNoise([compressed], side, side);
    expect(jpegAware / truth).toBeGreaterThan(0.6);
    expect(jpegAware / truth).toBeLessThan(1.5);
    expect(estimatePhotoNoise([grey], side, side)).toBe(estimateNoise([grey], side, side));
  });
});

/** A tile that reads `w` x `h` px (only the read lengths matter to the worker budgets). */
const tile = (w: number, h: number): Tile => ({
  x: { readStart: 0, readLength: w, coreStart: 0, coreEnd: w },
  y: { readStart: 0, readLength: h, coreStart: 0, coreEnd: h },
} as Tile);

describe('retireWorkersAfter (a pass a network follows stops workers whose cache reaches 64 MiB)', () => {
  it('counts 32 bytes a field sample, once per distinct field size', () => {
    // 768 + bridge 20 = 788 → even width whose half is 5-smooth: 800; height 800: 32 x 800 x 800 = 19.5 MiB.
    expect(retireWorkersAfter([tile(768, 768), tile(768, 768)], 20)).toBe(false);
    // 1536 + 69 = 1605 → 1620 wide (810 = 2·3⁴·5), 1620 high: 32 x 1620² = 80 MiB.
    expect(retireWorkersAfter([tile(1536, 1536)], 69)).toBe(true);
    // Two fields of 1200 + 0 → 1200 x 1200 (43.9 MiB) and 1200 x 1000 (36.6 MiB): 80.6 MiB together.
    expect(retireWorkersAfter([tile(1200, 1200)], 0)).toBe(false);
    expect(retireWorkersAfter([tile(1200, 1200), tile(1200, 1000), tile(1200, 1000)], 0)).toBe(true);
  });
});

describe('workersWithinMemory (a pass a network follows holds at most 512 MiB in its workers)', () => {
  it('divides 512 MiB by one worker\'s field caches plus its largest tensor', () => {
    expect(PASS_WORKER_BYTES).toBe(536_870_912);
    // A 2304 px tile at a 61 px kernel: reads 2235 px, bridge 69 → a 2304² field
    // (1152 = 2^7·9): cache 32 x 2304² = 169,869,312 B; 3 planes of 2235² floats = 59,942,700 B.
    // 536,870,912 / 229,812,012 = 2.34 → 2 workers.
    expect(workersWithinMemory([tile(2235, 2235), tile(2235, 2235)], { bridge: 69, planes: 3 })).toBe(2);
    // A later HQS step carries the prior's 3 planes too: 169,869,312 + 119,885,400 → 1 worker.
    expect(workersWithinMemory([tile(2235, 2235)], { bridge: 69, planes: 3, withPrior: true })).toBe(1);
    // 768 px tiles, bridge 20 → 800² fields: 20,480,000 + 7,077,888 B → 19 workers.
    expect(workersWithinMemory([tile(768, 768)], { bridge: 20, planes: 3 })).toBe(19);
    // Two field sizes add their caches: 1200² (46,080,000 B) and 1200 x 1000 (38,400,000 B), tensor
    // of one grey plane and its clip mask, 2 x 4 x 1200² = 11,520,000 B → 536,870,912 / 96,000,000 → 5.
    expect(workersWithinMemory([tile(1200, 1200), tile(1200, 1000)], { bridge: 0, planes: 1, withMask: true })).toBe(5);
  });
});
