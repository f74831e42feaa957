import { describe, expect, it, vi } from 'vitest';

import { createDeblurrer, FREE_IDLE_PIXELS } from '../src/index.js';
import type { KernelUsed, Progress } from '../src/index.js';
import type * as Pool from '../src/parallel/pool.js';
import { identityBackend } from './helpers.js';
import { polylineKernel, shakenScene } from './kernel-helpers.js';

/** What happened, in order: the pipeline's stages (onProgress) and each retirement of spare workers. */
const { events } = vi.hoisted(() => ({ events: [] as string[] }));

vi.mock('../src/parallel/pool.js', async (importOriginal) => {
  const pool = await importOriginal<typeof Pool>();
  return {
    ...pool,
    retireSpareWorkers: async (...args: Parameters<typeof pool.retireSpareWorkers>) => {
      events.push('retire');
      return pool.retireSpareWorkers(...args);
    },
  };
});

const kernel = polylineKernel([[-5, -2], [4, 3]], 13);

describe('deblur() on a photo of 3 MP or more: the estimate\'s spare workers stop before the deconvolution', () => {
  it('retires them between the estimate and the deconvolution when a kernel is found, and not on a small photo', async () => {
    const d = await createDeblurrer({ model: 'sgenet-s', backend: identityBackend() });
    const stageOf = (p: Progress) => { if (events.at(-1) !== p.stage) events.push(p.stage); };
    // 2000 x 1500 px is FREE_IDLE_PIXELS.
    expect(2000 * 1500).toBe(FREE_IDLE_PIXELS);
    const large = shakenScene(kernel, 4, 2000, 1500).blurry;
    const found: boolean[] = [];
    // Wiener: the deconvolution's method does not matter here, and it is the quickest.
    const options = { deconvolution: { method: 'wiener' as const }, onProgress: stageOf, onKernel: (u: KernelUsed) => found.push(!u.identity) };
    await d.deblur(large, options);
    expect(found).toEqual([true]);
    // (v0.4.0, `sgenet-s`, does not run after a deconvolution by default: no network stage.)
    expect(events.filter((e) => e !== 'retire')).toEqual(['kernel', 'deconvolve']);
    // The first retirement falls between the estimate's last progress and the deconvolution's first.
    expect(events.indexOf('retire')).toBe(events.indexOf('kernel') + 1);
    expect(events.indexOf('retire')).toBeLessThan(events.indexOf('deconvolve'));
    events.length = 0;
    await d.deblur(shakenScene(kernel, 4, 256, 224).blurry, options);
    expect(found).toEqual([true, true]);
    expect(events).toEqual(['kernel', 'deconvolve']);
    await d.dispose();
  }, 120_000);
});
