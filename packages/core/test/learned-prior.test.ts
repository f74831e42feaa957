/**
 * A noise-conditioned network (SGENet-σ) as the learned prior of the deconvolution: the model
 * contract (metadata `sigma_input`), the plug-and-play schedule against hand-computed values, the
 * `'hqs'` deconvolution against the HQS data step, and what `deblur()` feeds the network.
 */
import { describe, expect, it } from 'vitest';

import {
  createDeblurrer, deconvolve, hqsAlpha, hqsDataStep, ModelError, modelInfoFromBytes, pnpSigmas, PNP_ONE_PASS_WEIGHT, PNP_SIGMA_START,
  PRIOR_DECONVOLUTION_TILE_SIZE, PRIOR_TILE_SIZE, DEFAULT_TILE_SIZE, defaultTileSizeFor, BEST_ITERATIONS, PNP_WEIGHT, InvalidOptionError, guideOption,
  DEFAULT_NOISE_FLOOR, estimateNoise,
} from '../src/index.js';
import type { RawImage } from '../src/index.js';
import { functionBackend, metadataModel, sigmaRecordingBackend } from './helpers.js';
import { polylineKernel, shakenScene } from './kernel-helpers.js';
import { applyBlur, deadLeaves } from '../src/synthetic/index.js';
import { estimatePhotoNoise } from '../src/deconvolve/noise.js';

const SIGMA_MODEL = metadataModel({ name: 'sgenet-test-sigma', multiple: '8', receptive_field: '16', sigma_input: 'true' });
const PLAIN_MODEL = metadataModel({ name: 'sgenet-test', multiple: '8', receptive_field: '16' });
const GUIDED_MODEL = metadataModel({ name: 'sgenet-test-guided', multiple: '8', receptive_field: '16', sigma_input: 'true', guide_input: 'true' });
const kernel = polylineKernel([[-4, -2], [3, 3]], 11);

describe('the model contract', () => {
  it('reads sigma_input: "true" as noise-conditioned, absent or "false" as not, anything else as a bad model', () => {
    expect(modelInfoFromBytes(SIGMA_MODEL).sigmaInput).toBe(true);
    expect(modelInfoFromBytes(PLAIN_MODEL).sigmaInput).toBe(false);
    expect(modelInfoFromBytes(metadataModel({ sigma_input: 'false' })).sigmaInput).toBe(false);
    expect(() => modelInfoFromBytes(metadataModel({ sigma_input: 'yes' }))).toThrow(ModelError);
  });

  it('reads guide_input the same way: a guided model takes the blurry photo as well', () => {
    expect(modelInfoFromBytes(GUIDED_MODEL).guideInput).toBe(true);
    expect(modelInfoFromBytes(SIGMA_MODEL).guideInput).toBe(false);
    expect(() => modelInfoFromBytes(metadataModel({ guide_input: '1' }))).toThrow(/guide_input/);
  });

  it('guideOption takes a Float32Array of the input\'s length and refuses anything else, saying what it needs', () => {
    const tile = new Float32Array(12);
    expect(guideOption(tile, 12)).toBe(tile);
    expect(() => guideOption(undefined, 12)).toThrow(InvalidOptionError);
    expect(() => guideOption(new Float32Array(11), 12)).toThrow(/Float32Array of 12 values/);
    expect(() => guideOption(Array.from(tile), 12)).toThrow(InvalidOptionError);
  });
});

describe('the plug-and-play schedule (DPIR §4.1)', () => {
  it('σ_1 of one pass is the geometric mean of 49/255 and the noise level; α = 0.23 σ_n² / σ_k²', () => {
    expect(PNP_SIGMA_START).toBeCloseTo(0.192157, 6);
    expect(pnpSigmas(0.01, 1)[0]).toBeCloseTo(Math.sqrt((49 / 255) * 0.01), 12); // 0.043836
    expect(hqsAlpha(0.01, 0.043836)).toBeCloseTo(0.23 * 1e-4 / 0.043836 ** 2, 12);
    expect(hqsAlpha(0.01, 0.043836, 0.12)).toBeCloseTo(0.12 * 1e-4 / 0.043836 ** 2, 12);
    expect(PNP_ONE_PASS_WEIGHT).toBe(0.12);
    const four = pnpSigmas(0.01, 4);
    expect(four[0]).toBeCloseTo(49 / 255, 12);
    expect(four[3]).toBeCloseTo(0.01, 12);
    expect(four[1]! / four[0]!).toBeCloseTo(four[2]! / four[1]!, 12); // log-spaced
    // A noiseless photo stays at the 0.001 floor rather than dividing by zero.
    expect(pnpSigmas(0, 1)[0]).toBeCloseTo(Math.sqrt((49 / 255) * 1e-3), 12);
  });
});

/** Plane `c` of an RGB image in [0, 1]. */
function plane(image: RawImage, c: number, max: number): Float64Array {
  const n = image.width * image.height;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = image.data[i * 3 + c]! / max;
  return out;
}

describe("deconvolve(method: 'hqs')", () => {
  it('is the HQS data step with z = y, per RGB plane, at α of σ_1 (one-pass weight)', async () => {
    const { blurry } = shakenScene(kernel, 3, 96, 80);
    const noise = 0.01;
    const wide: RawImage = { ...blurry, data: Uint16Array.from(blurry.data, (v) => v * 257) };
    const out = await deconvolve(wide, kernel, { method: 'hqs', color: 'rgb', noise });
    const alpha = hqsAlpha(noise, pnpSigmas(noise, 1)[0]!, PNP_ONE_PASS_WEIGHT);
    for (let c = 0; c < 3; c++) {
      const expected = hqsDataStep(plane(wide, c, 65535), 96, 80, kernel, alpha);
      const got = plane(out, c, 65535);
      let max = 0;
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - Math.min(1, Math.max(0, expected[i]!))));
      expect(max).toBeLessThan(1 / 65535 + 1e-9); // 16-bit rounding only
    }
  });
});

describe('deblur() with a noise-conditioned model', () => {
  it('runs the network after the deconvolution by default, on the HQS data step, at σ_1 for every tile', async () => {
    const backend = sigmaRecordingBackend();
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend, tileSize: 96, overlap: 16 });
    expect(d.model.sigmaInput).toBe(true);
    expect(d.networkAfterDeconvolution).toBe(true);
    const { blurry } = shakenScene(kernel, 4, 160, 128);
    const noise = 0.02;
    const out = await d.deblur(blurry, { kernel, deconvolution: { noise } });
    expect(backend.sigmas.length).toBeGreaterThan(1); // tiled
    for (const s of backend.sigmas) expect(s).toBeCloseTo(pnpSigmas(noise, 1)[0]!, 12);
    // The identity "network" shows its input: the 'hqs' deconvolution in RGB (±1 level: the
    // network reads it at 16 bits).
    const step = await deconvolve(blurry, kernel, { method: 'hqs', color: 'rgb', noise });
    let max = 0;
    for (let i = 0; i < out.data.length; i++) max = Math.max(max, Math.abs(out.data[i]! - step.data[i]!));
    expect(max).toBeLessThanOrEqual(1);
    await d.dispose();
  });

  it('regularises a near-noiseless photo at the model-error floor, a noisier one at its own noise; the network without a kernel at its own', async () => {
    // Independent truth: the photo's own σ as estimateNoise reads its planes (estimatePhotoNoise,
    // which photoNoise runs, reads the same: this scene has no JPEG grid), and pnpSigmas by the
    // hand-computed values above.
    const planesOf = (img: RawImage) => [0, 1, 2].map((c) => Float32Array.from({ length: 128 * 96 }, (_, i) => img.data[i * 3 + c]! / 255));
    const clean = applyBlur(deadLeaves(128, 96, 6), kernel, { noise: 0.001, seed: 6 });
    const own = estimateNoise(planesOf(clean), 128, 96);
    expect(estimatePhotoNoise(planesOf(clean), 128, 96)).toBe(own);
    expect(own).toBeLessThan(DEFAULT_NOISE_FLOOR);
    const backend = sigmaRecordingBackend();
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend });
    await d.deblur(clean, { kernel });
    expect(backend.sigmas).toEqual([pnpSigmas(DEFAULT_NOISE_FLOOR, 1)[0]]);
    backend.sigmas.length = 0;
    await d.deblur(clean, { kernel, deconvolution: { noiseFloor: 0 } });
    expect(backend.sigmas.length).toBe(1);
    expect(backend.sigmas[0]).toBeCloseTo(pnpSigmas(own, 1)[0]!, 9);
    backend.sigmas.length = 0;
    await d.deblur(clean, { kernel: 'none' });
    expect(backend.sigmas.length).toBe(1);
    expect(backend.sigmas[0]).toBeCloseTo(own, 9);
    backend.sigmas.length = 0;
    // The 'best' loop starts from the same σ_n: from 49/255 down to the floor.
    await d.deblur(clean, { kernel, effort: 'best', deconvolution: { color: 'rgb' } });
    expect(backend.sigmas.length).toBe(BEST_ITERATIONS);
    expect(backend.sigmas[0]).toBeCloseTo(PNP_SIGMA_START, 12);
    expect(backend.sigmas.at(-1)).toBeCloseTo(DEFAULT_NOISE_FLOOR, 12);
    backend.sigmas.length = 0;
    // A photo noisier than the floor is regularised at its own σ, as with no floor.
    const noisy = applyBlur(deadLeaves(128, 96, 6), kernel, { noise: 0.03, seed: 6 });
    const noisyOwn = estimateNoise(planesOf(noisy), 128, 96);
    expect(noisyOwn).toBeGreaterThan(DEFAULT_NOISE_FLOOR);
    await d.deblur(noisy, { kernel });
    await d.deblur(noisy, { kernel, deconvolution: { noiseFloor: 0 } });
    expect(backend.sigmas.length).toBe(2);
    expect(backend.sigmas[0]).toBeCloseTo(pnpSigmas(noisyOwn, 1)[0]!, 9);
    expect(backend.sigmas[1]).toBe(backend.sigmas[0]);
    await d.dispose();
    // The hyper-Laplacian alike: the default equals σ = the floor given by hand; a number given is not floored.
    const byFloor = await deconvolve(clean, kernel);
    const byHand = await deconvolve(clean, kernel, { noise: DEFAULT_NOISE_FLOOR });
    expect(byFloor.data.every((v, i) => v === byHand.data[i])).toBe(true);
    const given = await deconvolve(clean, kernel, { noise: 0.001 });
    expect(given.data.every((v, i) => v === byHand.data[i])).toBe(false);
    expect((await deconvolve(clean, kernel, { noise: 0.001, noiseFloor: 0.04 })).data.every((v, i) => v === given.data[i])).toBe(true);
    // The range's ends are accepted; anything else is refused by name.
    for (const ok of [0, 0.05]) await expect(deconvolve(clean, kernel, { noiseFloor: ok })).resolves.toBeDefined();
    for (const bad of [-0.01, 0.06, Number.NaN, '2/255']) {
      await expect(deconvolve(clean, kernel, { noiseFloor: bad as number })).rejects.toThrow(/noiseFloor/);
      await expect(deconvolve(clean, kernel, { noiseFloor: bad as number })).rejects.toBeInstanceOf(InvalidOptionError);
    }
  });

  it("denoises at the photo's noise level without a kernel; a chosen method is kept; network: false skips it", async () => {
    const backend = sigmaRecordingBackend();
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend });
    const { blurry } = shakenScene(kernel, 5, 128, 96);
    await d.deblur(blurry, { kernel: 'none', deconvolution: { noise: 0.03 } });
    expect(backend.sigmas).toEqual([0.03]);
    backend.sigmas.length = 0;
    // A chosen method is kept (in RGB, as the prior was trained), then the network at σ_1.
    const hl = await d.deblur(blurry, { kernel, deconvolution: { method: 'hyper-laplacian', noise: 0.01 } });
    expect(backend.sigmas).toEqual([pnpSigmas(0.01, 1)[0]]);
    const direct = await deconvolve(blurry, kernel, { noise: 0.01, color: 'rgb' });
    let max = 0;
    for (let i = 0; i < hl.data.length; i++) max = Math.max(max, Math.abs(hl.data[i]! - direct.data[i]!));
    expect(max).toBeLessThanOrEqual(1);
    backend.sigmas.length = 0;
    // Without the network, the deconvolution is the caller's as it stands (luma/chroma by default).
    const off = await d.deblur(blurry, { kernel, network: false, deconvolution: { noise: 0.01 } });
    expect(backend.sigmas).toEqual([]);
    expect(off.data).toEqual((await deconvolve(blurry, kernel, { noise: 0.01 })).data);
    await d.dispose();
  });

  it('a guided model gets, with every tile, the photo under that tile: a "network" returning its guide gives back the photo', async () => {
    // The truth is the photo itself: a guide cut from anywhere else, or in another order, would
    // not stitch back into it.
    let runs = 0;
    const backend = functionBackend((input, _dims, options) => {
      runs += 1;
      expect(options?.guide).toBeInstanceOf(Float32Array);
      expect(options!.guide!.length).toBe(input.length);
      expect(options?.sigma).toBeGreaterThan(0);
      return new Float32Array(options!.guide!);
    });
    const d = await createDeblurrer({ model: GUIDED_MODEL, backend, tileSize: 96, overlap: 16 });
    expect(d.model.guideInput).toBe(true);
    const { blurry } = shakenScene(kernel, 6, 160, 128);
    for (const options of [{ kernel, deconvolution: { noise: 0.01 } }, { kernel: 'none' as const, deconvolution: { noise: 0.01 } },
      { kernel, effort: 'best' as const, deconvolution: { noise: 0.01 } }]) {
      runs = 0;
      const out = await d.deblur(blurry, options);
      expect(runs).toBeGreaterThan(1); // tiled
      let max = 0;
      for (let i = 0; i < out.data.length; i++) max = Math.max(max, Math.abs(out.data[i]! - blurry.data[i]!));
      expect(max).toBeLessThanOrEqual(1);
    }
    await d.dispose();
  });

  it('deconvolves in 1536 px tiles before the prior (bounded memory at 12 MP) unless the caller chose a tile size', async () => {
    expect(PRIOR_DECONVOLUTION_TILE_SIZE).toBe(1536);
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend: sigmaRecordingBackend() });
    // 1600 px wide, an 11 px kernel: bridge 19, overlap max(48, 6 x 11) = 66. At 1536 px one tile
    // reads at most 1536 - 19 = 1517 < 1600 px, so the width takes 2 columns of one row (each
    // writing at most 1517 - 66 = 1451 px); at the deconvolution's own default (2048) the photo
    // is one tile.
    const photo = shakenScene(kernel, 7, 1600, 64).blurry;
    const tilesOf = async (deconvolution: { noise: number; tileSize?: number }): Promise<number> => {
      let total = 0;
      await d.deblur(photo, {
        kernel, deconvolution, onProgress: (p) => { if (p.stage === 'deconvolve') total = p.total; },
      });
      return total;
    };
    expect(await tilesOf({ noise: 0.01 })).toBe(2);
    expect(await tilesOf({ noise: 0.01, tileSize: 2048 })).toBe(1);
    await d.dispose();
  });

  it("feeds every model 896 px tiles by default; a chosen tile or the backend's own wins", async () => {
    expect(DEFAULT_TILE_SIZE).toBe(896);
    expect(PRIOR_TILE_SIZE).toBe(DEFAULT_TILE_SIZE);
    expect(defaultTileSizeFor(undefined, modelInfoFromBytes(SIGMA_MODEL))).toBe(896);
    expect(defaultTileSizeFor(512, modelInfoFromBytes(SIGMA_MODEL))).toBe(512);
    expect(defaultTileSizeFor(undefined, modelInfoFromBytes(PLAIN_MODEL))).toBe(896);
    expect(defaultTileSizeFor(2048, modelInfoFromBytes(SIGMA_MODEL))).toBe(2048); // a backend vouches for its own
    // 1000 x 64 px, receptive field 16 (default overlap 24): one 1024 px tile holds it; at 896 a
    // tile reads at most 896 px, so the width takes 2 columns.
    const photo = shakenScene(kernel, 9, 1000, 64).blurry;
    const dims: number[][] = [];
    const recording = () => functionBackend((input, d) => { dims.push([d[2], d[3]]); return new Float32Array(input); });
    const tiles = async (model: Uint8Array, options: { tileSize?: number } = {}, backend = recording()): Promise<number[][]> => {
      dims.length = 0;
      const d = await createDeblurrer({ model, backend, ...options });
      await d.deblur(photo, { kernel: 'none' });
      await d.dispose();
      return [...dims];
    };
    for (const model of [PLAIN_MODEL, SIGMA_MODEL]) {
      const dims = await tiles(model);
      expect(dims).toHaveLength(2);
      expect(Math.max(...dims.map(([, w]) => w!))).toBeLessThanOrEqual(896);
    }
    expect(await tiles(SIGMA_MODEL, { tileSize: 1024 })).toEqual([[64, 1000]]);
    const small = Object.assign(recording(), { preferredTileSize: 512 });
    expect(Math.max(...(await tiles(SIGMA_MODEL, {}, small)).map(([, w]) => w!))).toBeLessThanOrEqual(512);
    // An overlap the default tile cannot hold is refused, saying the tile was the default.
    await expect(createDeblurrer({ model: SIGMA_MODEL, backend: recording(), overlap: 300 })).rejects.toThrow(
      /at least 3 x overlap \+ 16 \(916\) for overlap 300 \(the default tile is too small for that overlap: pass tileSize too\)/,
    );
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend: recording(), overlap: 300, tileSize: 916 });
    await d.dispose();
  });

  it("effort 'best' runs the plug-and-play loop: 4 data steps, each pulled to the network's last estimate", async () => {
    const backend = sigmaRecordingBackend();
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend });
    const { blurry } = shakenScene(kernel, 8, 96, 80);
    const noise = 0.02;
    const progress: string[] = [];
    const out = await d.deblur(blurry, {
      kernel, effort: 'best', deconvolution: { noise },
      onProgress: (p) => progress.push(`${p.stage} ${p.done}/${p.total}`),
    });
    const sigmas = pnpSigmas(noise, BEST_ITERATIONS);
    expect(BEST_ITERATIONS).toBe(4);
    expect(backend.sigmas).toEqual(sigmas); // one network tile per iteration, σ_k in order
    // Progress counts on across the iterations (one tile per stage per iteration here).
    expect(progress.filter((p) => p.startsWith('network'))).toEqual(['network 1/4', 'network 2/4', 'network 3/4', 'network 4/4']);
    expect(progress.filter((p) => p.startsWith('deconvolve'))).toEqual(['deconvolve 1/4', 'deconvolve 2/4', 'deconvolve 3/4', 'deconvolve 4/4']);
    // The identity "network" makes z_k = x_k: the chain of HQS data steps, computed directly (z
    // held at 16 bits in [0, 1], as deblur() holds it), per RGB plane.
    const wide = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 65535) / 65535;
    let max = 0;
    for (let c = 0; c < 3; c++) {
      const y = plane(blurry, c, 255);
      let z: Float64Array = y;
      for (const s of sigmas) z = hqsDataStep(y, 96, 80, kernel, hqsAlpha(noise, s, PNP_WEIGHT), z).map(wide);
      const got = plane(out, c, 255);
      for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i]! - z[i]!));
    }
    expect(max).toBeLessThanOrEqual(1.01 / 255); // 8-bit rounding of the output only
    // 'standard' is one pass, and so is 'best' with luma/chroma planes chosen (the loop's data
    // step is per RGB plane); a bad value is refused before any work.
    backend.sigmas.length = 0;
    await d.deblur(blurry, { kernel, effort: 'standard', deconvolution: { noise } });
    expect(backend.sigmas).toEqual([pnpSigmas(noise, 1)[0]]);
    backend.sigmas.length = 0;
    await d.deblur(blurry, { kernel, effort: 'best', deconvolution: { noise, color: 'ycbcr' } });
    expect(backend.sigmas).toEqual([pnpSigmas(noise, 1)[0]]);
    // One worker or several (whole tiles, or planes split across threads): the same result.
    const oneThread = await d.deblur(blurry, { kernel, effort: 'best', deconvolution: { noise, workers: 1 } });
    expect(oneThread.data).toEqual(out.data);
    await expect(d.deblur(blurry, { kernel, effort: 'max' as never })).rejects.toThrow(InvalidOptionError);
    await d.dispose();
  });

  it("effort 'best' in deconvolution tiles stays close to one field away from the photo's border", async () => {
    const d = await createDeblurrer({ model: SIGMA_MODEL, backend: sigmaRecordingBackend() });
    const W = 700, H = 300;
    const { blurry } = shakenScene(kernel, 8, W, H);
    const tiled = await d.deblur(blurry, { kernel, effort: 'best', deconvolution: { noise: 0.02, tileSize: 256 } });
    const whole = await d.deblur(blurry, { kernel, effort: 'best', deconvolution: { noise: 0.02, tileSize: 2048 } });
    // Tiles read reflected context at the photo's border where one field bridges it, and each of
    // the 4 steps carries the last one's seams: measured 32 levels at 30 px from the border,
    // 7 at 60 px, mean 0.6. Bounded here beyond 60 px.
    let max = 0, sum = 0, n = 0;
    for (let y = 60; y < H - 60; y++) {
      for (let x = 60; x < W - 60; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * W + x) * 3 + c;
          const e = Math.abs(tiled.data[i]! - whole.data[i]!);
          max = Math.max(max, e); sum += e; n++;
        }
      }
    }
    expect(max).toBeLessThanOrEqual(8);
    expect(sum / n).toBeLessThan(1);
    await d.dispose();
  });

  it('a model without the σ input runs without one, and not after a deconvolution unless asked', async () => {
    const backend = sigmaRecordingBackend();
    const d = await createDeblurrer({ model: PLAIN_MODEL, backend });
    expect(d.networkAfterDeconvolution).toBe(false);
    const { blurry } = shakenScene(kernel, 6, 128, 96);
    await d.deblur(blurry, { kernel });
    expect(backend.sigmas).toEqual([]);
    await d.deblur(blurry, { kernel, network: true });
    expect(backend.sigmas).toEqual([undefined]);
    await d.dispose();
  });
});
