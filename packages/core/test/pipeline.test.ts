import { describe, expect, it } from 'vitest';

import { createDeblurrer, deconvolve, DEFAULT_KERNEL, DEFAULT_MODEL_FILE, describeKernelUsed, DisposedError, estimateKernel, FREE_IDLE_PIXELS, InvalidKernelError, NO_KERNEL_MODEL } from '../src/index.js';
import type { Backend, BlurKernel, Session, SessionRunOptions } from '../src/index.js';
import { twoRegionShake } from '../src/synthetic/index.js';
import type { KernelUsed, Progress } from '../src/index.js';
import { identityBackend } from './helpers.js';
import { polylineKernel, shakenScene } from './kernel-helpers.js';

/** The identity kernel: shakenScene with it gives a sharp photo with noise only. */
const IDENTITY: BlurKernel = { width: 1, height: 1, data: Float32Array.of(1) };

// The identity "model" makes the network stage exact, so each stage's contribution is visible.
// These tests name v0.4.0 (`model: 'sgenet-s'`), a network without a noise input: the pipeline's
// hyper-Laplacian path. The default pair (SGENet-σ after a deconvolution) is tested below.
const kernel = polylineKernel([[-5, -2], [4, 3]], 13);

describe('deblur() runs the three-stage pipeline', () => {
  it("kernel 'auto' equals estimateKernel then deconvolve, reporting each stage", async () => {
    const { blurry } = shakenScene(kernel, 3, 256, 224);
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const stages: Progress['stage'][] = [];
    const used: KernelUsed[] = [];
    const out = await d.deblur(blurry, { kernel: 'auto', onProgress: (p) => stages.push(p.stage), onKernel: (u) => used.push(u) });
    const estimate = await estimateKernel(blurry);
    expect(estimate.identity).toBe(false);
    expect(used).toHaveLength(1);
    expect(used[0]).toMatchObject({ source: 'estimated', identity: false, confidence: estimate.confidence });
    expect(used[0]!.kernel.data).toEqual(estimate.kernel.data);
    expect(out.data).toEqual((await deconvolve(blurry, estimate.kernel)).data);
    expect(stages[0]).toBe('kernel');
    expect(stages.at(-1)).toBe('deconvolve');
    expect(stages).not.toContain('network');
    await d.dispose();
  });

  it("kernel 'auto' deconvolves each region with its own kernel where the estimate found a grid", async () => {
    // Left half one camera path, right half its mirror image (core's planted 2-region shake).
    const { blurry } = twoRegionShake();
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const used: KernelUsed[] = [];
    const out = await d.deblur(blurry, { estimation: { regions: 'auto' }, onKernel: (u) => used.push(u) });
    const estimate = await estimateKernel(blurry, { regions: 'auto' });
    expect(estimate.grid).toBeDefined();
    expect(used[0]!.grid).toEqual(estimate.grid);
    expect(used[0]!.keptBy).toBe('confidence');
    expect(describeKernelUsed(used[0]!)).toMatch(/; regions=2x2$/);
    expect(out.data).toEqual((await deconvolve(blurry, estimate.grid!)).data);
    // By default (regions: 'off') the photo's single kernel.
    const single: KernelUsed[] = [];
    const one = await d.deblur(blurry, { onKernel: (u) => single.push(u) });
    expect(single[0]!.grid).toBeUndefined();
    expect(one.data).toEqual((await deconvolve(blurry, estimate.kernel)).data);
    await d.dispose();
  }, 240_000);

  it('a given PSF is the non-blind mode; network: true runs the network after the deconvolution', async () => {
    const { blurry } = shakenScene(kernel, 5, 192, 160);
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const used: KernelUsed[] = [];
    const stages = new Set<Progress['stage']>();
    const nonBlind = await d.deblur(blurry, { kernel, onKernel: (u) => used.push(u) });
    expect(nonBlind.data).toEqual((await deconvolve(blurry, kernel)).data);
    expect(used[0]).toMatchObject({ source: 'given', identity: false, confidence: 1 });
    // Through the (identity) network the 16-bit intermediate is quantised once more: ±1 level.
    const withNetwork = await d.deblur(blurry, { kernel, network: true, onProgress: (p) => stages.add(p.stage) });
    let max = 0;
    for (let i = 0; i < withNetwork.data.length; i++) max = Math.max(max, Math.abs(withNetwork.data[i]! - nonBlind.data[i]!));
    expect(max).toBeLessThanOrEqual(1);
    expect([...stages]).toEqual(['deconvolve', 'network']);
    await d.dispose();
  });

  it("kernel 'none', and an identity estimate on a sharp photo (kernel 'auto', the default), leave the work to the network", async () => {
    const sharp = shakenScene(IDENTITY, 6, 192, 160).blurry; // noise only
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const noneStages = new Set<Progress['stage']>();
    expect((await d.deblur(sharp, { kernel: 'none', onProgress: (p) => noneStages.add(p.stage) })).data).toEqual(sharp.data);
    expect([...noneStages]).toEqual(['network']);
    const defaultStages = new Set<Progress['stage']>();
    expect((await d.deblur(sharp, { onProgress: (p) => defaultStages.add(p.stage) })).data).toEqual(sharp.data);
    expect([...defaultStages]).toEqual(['kernel', 'network']);
    expect(DEFAULT_KERNEL).toBe('auto');
    // On a blurred photo the default is the blind pipeline: the same output as kernel 'auto'.
    const { blurry } = shakenScene(kernel, 7, 160, 128);
    const byDefault = await d.deblur(blurry);
    expect(byDefault.data).toEqual((await d.deblur(blurry, { kernel: 'auto' })).data);
    expect(byDefault.data).not.toEqual((await d.deblur(blurry, { kernel: 'none' })).data);
    const used: KernelUsed[] = [];
    const stages = new Set<Progress['stage']>();
    const out = await d.deblur(sharp, { kernel: 'auto', onKernel: (u) => used.push(u), onProgress: (p) => stages.add(p.stage) });
    expect(used[0]?.identity).toBe(true);
    expect([...stages]).toEqual(['kernel', 'network']);
    expect(out.data).toEqual(sharp.data);
    await d.dispose();
  });

  it('refuses a bad kernel option or one larger than the photo, with typed errors', async () => {
    const { blurry } = shakenScene(kernel, 7, 64, 48);
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    await expect(d.deblur(blurry, { kernel: { width: 1, height: 1, data: Float32Array.of(0) } })).rejects.toThrow(InvalidKernelError);
    await expect(d.deblur(blurry, { kernel: { width: 65, height: 1, data: new Float32Array(65).fill(1) } })).rejects.toThrow(/larger than the 64 x 48 photo/);
    await expect(d.deblur(blurry, { kernel: 'blind' as never })).rejects.toThrow(/'auto', 'none', a kernel \{ width, height, data \} or a kernel grid/);
    await expect(d.deblur(blurry, { kernel: 'auto', estimation: { maxSize: 2 } })).rejects.toThrow(/maxSize/);
    await d.dispose();
  });
});

/**
 * A backend that records, per loaded session (in load order), the runs and whether each was fed a
 * σ (a noise-conditioned model), and which sessions were disposed. Every "network" is the identity.
 */
function pairRecordingBackend() {
  const sessions: { runs: number; sigmas: number; disposed: boolean; liveAtLoad: number }[] = [];
  const backend: Backend = {
    name: 'test',
    async load(): Promise<Session> {
      // How many sessions were alive when this one was loaded: one warm session at a time.
      const record = { runs: 0, sigmas: 0, disposed: false, liveAtLoad: sessions.filter((r) => !r.disposed).length };
      sessions.push(record);
      return {
        provider: 'js',
        async run(input: Float32Array, _dims, options?: SessionRunOptions) {
          record.runs += 1;
          if (options?.sigma !== undefined) record.sigmas += 1;
          return new Float32Array(input);
        },
        async dispose() { record.disposed = true; },
      };
    },
  };
  return { backend, sessions };
}

describe('the default model pair: SGENet-σ after a deconvolution, v0.4.0 where no kernel is used', () => {
  it('runs SGENet-σ after the data step on a blurred photo, and loads v0.4.0 only while a photo without a kernel needs it', async () => {
    expect(DEFAULT_MODEL_FILE).toBe('sgenet-s-sigma.onnx');
    expect(NO_KERNEL_MODEL).toBe('sgenet-s');
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ backend });
    expect(d.model.sigmaInput).toBe(true);
    expect(d.modelWithoutKernel.name).toBe('sgenet-s');
    expect(d.modelWithoutKernel.sigmaInput).toBe(false);
    expect(d.networkAfterDeconvolution).toBe(true);
    expect(sessions).toHaveLength(1); // the pair's second session waits for a photo that needs it
    // A given kernel: the data step, then SGENet-σ, fed σ on every tile.
    const { blurry } = shakenScene(kernel, 5, 192, 160);
    const stages = new Set<Progress['stage']>();
    await d.deblur(blurry, { kernel, onProgress: (p) => stages.add(p.stage) });
    expect([...stages]).toEqual(['deconvolve', 'network']);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.runs).toBeGreaterThan(0);
    expect(sessions[0]!.sigmas).toBe(sessions[0]!.runs);
    // No kernel: v0.4.0, loaded now, with no σ; the photo passes through the identity unchanged.
    const sharp = shakenScene(IDENTITY, 6, 192, 160).blurry;
    const before = sessions[0]!.runs;
    expect((await d.deblur(sharp, { kernel: 'none' })).data).toEqual(sharp.data);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.runs).toBe(before);
    expect(sessions[1]!.runs).toBeGreaterThan(0);
    expect(sessions[1]!.sigmas).toBe(0);
    // One warm session at a time: SGENet-σ's idle session was freed before v0.4.0's was loaded,
    // and v0.4.0's once the photo was done (each arena would otherwise stay through the other's photos).
    expect(sessions[1]!.liveAtLoad).toBe(0);
    expect(sessions.map((r) => r.disposed)).toEqual([true, true]);
    // An identity estimate takes the same path, on a session loaded again.
    const used: boolean[] = [];
    await d.deblur(sharp, { onKernel: (u) => used.push(u.identity) });
    expect(used).toEqual([true]);
    expect(sessions).toHaveLength(3);
    expect(sessions[2]!.sigmas).toBe(0);
    expect(sessions[2]!.liveAtLoad).toBe(0);
    // The next blurred photo loads SGENet-σ again, and keeps it warm.
    await d.deblur(blurry, { kernel });
    expect(sessions).toHaveLength(4);
    expect(sessions[3]!.sigmas).toBe(sessions[3]!.runs);
    expect(sessions[3]!.runs).toBeGreaterThan(0);
    expect(sessions[3]!.disposed).toBe(false);
    await d.deblur(blurry, { kernel });
    expect(sessions).toHaveLength(4);
    expect(Math.max(...sessions.map((r) => r.liveAtLoad))).toBe(0);
    await d.dispose();
    expect(sessions.map((r) => r.disposed)).toEqual([true, true, true, true]);
    await d.dispose(); // idempotent
  });

  it('keeps SGENet-σ loaded while a photo still uses it, when a photo without a kernel comes meanwhile', async () => {
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const running = new Promise<void>((resolve) => { started = resolve; });
    const freed: boolean[] = [];
    const backend: Backend = {
      name: 'test',
      async load(): Promise<Session> {
        const at = freed.push(false) - 1;
        return {
          provider: 'js',
          // The first session is SGENet-σ (loaded by createDeblurrer): its first tile waits.
          async run(input: Float32Array) { if (at === 0) { started(); await gate; } return new Float32Array(input); },
          async dispose() { freed[at] = true; },
        };
      },
    };
    const d = await createDeblurrer({ backend });
    const { blurry } = shakenScene(kernel, 5, 96, 64);
    const sharp = shakenScene(IDENTITY, 6, 96, 64).blurry;
    const blurred = d.deblur(blurry, { kernel });
    await running; // SGENet-σ's first tile is running
    expect((await d.deblur(sharp, { kernel: 'none' })).data).toEqual(sharp.data);
    expect(freed).toEqual([false, true]);
    release();
    await blurred;
    expect(freed).toEqual([false, true]);
    await d.dispose();
    expect(freed).toEqual([true, true]);
  });

  it('starts a photo of 3 MP or more with no idle session loaded, and keeps sessions warm between smaller ones', async () => {
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ model: 'sgenet-s', backend });
    const small = shakenScene(IDENTITY, 6, 96, 64).blurry;
    await d.deblur(small, { kernel: 'none' });
    await d.deblur(small, { kernel: 'none' });
    expect(sessions).toHaveLength(1);
    // 2000 x 1500 px is FREE_IDLE_PIXELS: the warm session is freed before the photo
    // starts, and loaded again when its network runs (alone: nothing else was alive).
    expect(2000 * 1500).toBe(FREE_IDLE_PIXELS);
    const large = { data: new Uint8Array(2000 * 1500 * 3).fill(90), width: 2000, height: 1500, channels: 3 as const };
    const restored = await d.deblur(large, { kernel: 'none' });
    expect(restored.data.every((v) => v === 90)).toBe(true); // the identity network, unchanged
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.disposed).toBe(true);
    expect(sessions[1]!.liveAtLoad).toBe(0);
    expect(sessions[1]!.runs).toBeGreaterThan(1);
    await d.deblur(small, { kernel: 'none' });
    expect(sessions).toHaveLength(2); // warm again for the small one
    await d.dispose();
    expect(sessions.map((r) => r.disposed)).toEqual([true, true]);
  });

  it('releases SGENet-σ when a photo is aborted during its network, so the next photo can free it', async () => {
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ backend });
    const { blurry } = shakenScene(kernel, 5, 192, 160);
    const controller = new AbortController();
    // Aborted after the network's first tile: the call rejects between tiles.
    await expect(d.deblur(blurry, {
      kernel, tileSize: 128, signal: controller.signal,
      onProgress: (p) => { if (p.stage === 'network') controller.abort(); },
    })).rejects.toThrow(/abort/i);
    expect(sessions[0]!.runs).toBeGreaterThan(0);
    const sharp = shakenScene(IDENTITY, 6, 96, 64).blurry;
    await d.deblur(sharp, { kernel: 'none' });
    expect(sessions[0]!.disposed).toBe(true); // idle again after the abort: freed for v0.4.0
    expect(sessions[1]!.liveAtLoad).toBe(0);
    await d.dispose();
  });

  it('with the pair, a photo of 3 MP or more frees the idle SGENet-σ session before it starts', async () => {
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ backend });
    const large = { data: new Uint8Array(2000 * 1500 * 3).fill(90), width: 2000, height: 1500, channels: 3 as const };
    const used: boolean[] = [];
    // A flat photo: the estimate is the identity, so v0.4.0 runs, on a process with nothing else loaded.
    await d.deblur(large, { onKernel: (u) => used.push(u.identity) });
    expect(used).toEqual([true]);
    expect(sessions.map((r) => r.disposed)).toEqual([true, true]);
    expect(sessions[1]!.liveAtLoad).toBe(0);
    await d.dispose();
  });

  it('a model given runs everywhere: no second session', async () => {
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ model: 'sgenet-s-sigma', backend });
    expect(d.modelWithoutKernel).toBe(d.model);
    const sharp = shakenScene(IDENTITY, 6, 96, 64).blurry;
    await d.deblur(sharp, { kernel: 'none' });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.sigmas).toBe(sessions[0]!.runs); // SGENet-σ denoises at the photo's noise level
    await d.dispose();
    expect(sessions[0]!.disposed).toBe(true);
  });

  it('a load of the second model that fails is reported and tried again by the next photo', async () => {
    let loads = 0;
    const flaky: Backend = {
      name: 'test',
      async load(): Promise<Session> {
        loads += 1;
        if (loads === 2) throw new Error('out of memory');
        return { provider: 'js', async run(input: Float32Array) { return new Float32Array(input); }, async dispose() {} };
      },
    };
    const d = await createDeblurrer({ backend: flaky });
    const sharp = shakenScene(IDENTITY, 6, 96, 64).blurry;
    await expect(d.deblur(sharp, { kernel: 'none' })).rejects.toThrow('out of memory');
    expect((await d.deblur(sharp, { kernel: 'none' })).data).toEqual(sharp.data);
    expect(loads).toBe(3);
    await d.dispose();
  });
  it('loads the second model once for concurrent photos, and frees it when disposed during the load', async () => {
    const sharp = shakenScene(IDENTITY, 6, 96, 64).blurry;
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ backend });
    await Promise.all([d.deblur(sharp, { kernel: 'none' }), d.deblur(sharp, { kernel: 'none' })]);
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.disposed).toBe(true); // freed when the last of them finished
    await d.dispose();
    // A load still pending when dispose() runs: the session it brings is freed, the photo rejects.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const freed: boolean[] = [];
    let loads = 0;
    const slow: Backend = {
      name: 'test',
      async load(): Promise<Session> {
        loads += 1;
        if (loads === 2) await gate;
        const at = freed.push(false) - 1;
        return { provider: 'js', async run(input: Float32Array) { return new Float32Array(input); }, async dispose() { freed[at] = true; } };
      },
    };
    const e = await createDeblurrer({ backend: slow });
    const pending = e.deblur(sharp, { kernel: 'none' });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the second load has started
    const disposing = e.dispose();
    release();
    await disposing;
    await expect(pending).rejects.toThrow(DisposedError);
    expect(freed).toEqual([true, true]);
  });

  it("runs a kernel: 'none' photo on v0.4.0's own defaults (its overlap, 120 px), not SGENet-σ's (96 px)", async () => {
    const { backend, sessions } = pairRecordingBackend();
    const d = await createDeblurrer({ backend });
    const wide = shakenScene(IDENTITY, 6, 1304, 64).blurry;
    // 896 px tiles write cores of at most 896 - 2 x 120 - 2 x 8 = 640 px with v0.4.0's overlap:
    // 3 tiles across 1304 px; SGENet-σ's 96 px would give 688 px cores, 2 tiles.
    await d.deblur(wide, { kernel: 'none' });
    expect(sessions[1]!.runs).toBe(3);
    const alone = pairRecordingBackend();
    const sigma = await createDeblurrer({ backend: alone.backend, model: 'sgenet-s-sigma' });
    await sigma.deblur(wide, { kernel: 'none' });
    expect(alone.sessions[0]!.runs).toBe(2);
    // An overlap no default tile holds is refused either way, before any model is loaded.
    await expect(d.deblur(wide, { kernel: 'none', overlap: 300 })).rejects.toThrow(/\(916\) for overlap 300/);
    expect(sessions).toHaveLength(2);
    await Promise.all([d.dispose(), sigma.dispose()]);
  });
});
