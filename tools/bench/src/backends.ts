/**
 * Deblurrers for the in-process measurements. ORT is required (CPU provider, as in the budget);
 * tfjs is optional: @sgenet/tfjs-backend is imported dynamically so that this package builds and
 * runs without it, and a failure becomes a "not available" row instead of an error.
 */
import { createDeblurrer } from '@sgenet/core';
import type { Backend, Deblurrer, DeblurrerOptions } from '@sgenet/core';

import { syntheticPhoto } from './images.js';

import { REPO_ROOT } from './options.js';
import { importFailure, reasonOf } from './report.js';

export async function loadOrt(threads: number | undefined): Promise<Deblurrer> {
  return createDeblurrer({
    backend: 'ort',
    providers: ['cpu'],
    ...(threads !== undefined ? { threads } : {}),
  });
}

export type TfjsLoad =
  | { ok: true; deblurrer: Deblurrer; label: string; note?: string }
  | { ok: false; reason: string };

interface TfjsModule {
  createBackend(options?: { platform?: string }): Backend;
}

function isTfjsModule(v: unknown): v is TfjsModule {
  return typeof v === 'object' && v !== null && typeof (v as { createBackend?: unknown }).createBackend === 'function';
}

/** One untimed inference so that the first timed run does not pay for session warm-up. */
export async function warmUp(d: Deblurrer): Promise<void> {
  await d.deblur(await syntheticPhoto(256, 256, 99), { kernel: 'none' });
}

/** Creates a deblurrer and checks it with one warm-up inference; disposes it if that fails. */
async function loadAndWarm(options: DeblurrerOptions): Promise<Deblurrer> {
  const d = await createDeblurrer(options);
  try {
    await warmUp(d);
    return d;
  } catch (err) {
    await d.dispose().catch(() => undefined);
    throw err;
  }
}

/**
 * Loads the tfjs backend on `platform` (e.g. 'wasm') and warms it up. When that fails, falls back
 * to core's `createDeblurrer({ backend: 'tfjs' })` (the package's default platform); the label
 * says which provider actually runs and why the requested platform did not.
 */
export async function loadTfjs(platform: string, threads: number | undefined): Promise<TfjsLoad> {
  const pkg = '@sgenet/tfjs-backend';
  let mod: unknown;
  try {
    mod = await import(pkg);
  } catch (err) {
    return { ok: false, reason: `${pkg} could not be loaded: ${importFailure(err, REPO_ROOT)}` };
  }
  const common = threads !== undefined ? { threads } : {};
  try {
    if (!isTfjsModule(mod)) throw new Error(`${pkg} exports no createBackend()`);
    const deblurrer = await loadAndWarm({ ...common, backend: mod.createBackend({ platform }) });
    return { ok: true, deblurrer, label: `tfjs (${deblurrer.provider})` };
  } catch (err) {
    const first = `platform '${platform}' failed: ${reasonOf(err)}`;
    try {
      const deblurrer = await loadAndWarm({ ...common, backend: 'tfjs' });
      return { ok: true, deblurrer, label: `tfjs (${deblurrer.provider})`, note: `tfjs ran on its default platform (${deblurrer.provider}): ${first}` };
    } catch (err2) {
      return { ok: false, reason: `${first}; default platform failed too: ${reasonOf(err2)}` };
    }
  }
}
