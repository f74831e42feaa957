/**
 * Which TensorFlow.js backend runs the model, and making sure it is the active one while a
 * session works (TensorFlow.js has one global active backend per process).
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '@sgenet/core';

/** Where a session runs, best first: native TensorFlow (GPU build, CPU build), WebAssembly, plain JS. */
export const TFJS_PLATFORMS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TfjsPlatform = (typeof TFJS_PLATFORMS)[number];

/** TensorFlow.js backend name of each platform (both native builds register `tensorflow`). */
const BACKEND_NAME: Record<TfjsPlatform, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const NATIVE_PACKAGE = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** Which native binding this process loaded: only one can register the `tensorflow` backend. */
let nativeLoaded: 'tensorflow-gpu' | 'tensorflow' | undefined;
const initialized = new Map<TfjsPlatform, Promise<void>>();

/** Optional peers are imported by a computed name so TypeScript and bundlers do not require them. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

/**
 * In Node the wasm binaries are read from the installed package (never downloaded): point the
 * loader at `@tensorflow/tfjs-backend-wasm/dist/` resolved from this module.
 */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep;
}

async function load(platform: TfjsPlatform): Promise<void> {
  switch (platform) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      if (nativeLoaded && nativeLoaded !== platform) {
        throw new Error(`${NATIVE_PACKAGE[nativeLoaded]} is already loaded in this process`);
      }
      await importOptional(NATIVE_PACKAGE[platform]);
      nativeLoaded = platform;
      break;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // Only before the wasm backend first initialises; later calls would be ignored or throw.
      if (!tf.engine().registry.wasm) wasm.setWasmPaths(wasmDirectory());
      break;
    }
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
  }
  if (!(await tf.setBackend(BACKEND_NAME[platform]))) {
    throw new Error(`TensorFlow.js could not initialise its ${BACKEND_NAME[platform]} backend`);
  }
  if (platform === 'cpu') silenceNodeGreeting();
}

/**
 * tfjs's plain-JS backend prints a banner ("Hi, looks like you are running TensorFlow.js in
 * Node.js...") on its first tensor in Node. Here the cpu platform is a deliberate last resort that
 * the platform order and BackendUnavailableError already explain, so the banner only adds noise to
 * every process (and test run) that uses it. The backend shows it once, guarded by its `firstUse`
 * flag: clear the flag on our instance only, leaving tfjs's logging otherwise as it is.
 */
function silenceNodeGreeting(): void {
  const backend = tf.findBackend('cpu') as { firstUse?: unknown } | null;
  if (backend && typeof backend.firstUse === 'boolean') backend.firstUse = false;
}

/** Loads and initialises `platform` once per process; rejects with the reason it is unusable. */
export function initializePlatform(platform: TfjsPlatform): Promise<void> {
  let pending = initialized.get(platform);
  if (!pending) {
    pending = load(platform);
    initialized.set(platform, pending);
    // A failure is not cached: a later call may succeed (e.g. after installing a package).
    pending.catch(() => initialized.delete(platform));
  }
  return pending;
}

/**
 * The first usable platform of `wishes`, initialised. Throws BackendUnavailableError listing why
 * each one failed.
 */
export async function selectPlatform(wishes: readonly TfjsPlatform[]): Promise<TfjsPlatform> {
  const failures: string[] = [];
  for (const platform of wishes) {
    try {
      await exclusive(() => initializePlatform(platform));
      return platform;
    } catch (err) {
      failures.push(`${platform}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailableError(
    `No TensorFlow.js platform of ${wishes.join(', ')} could start (${failures.join('; ')}). ` +
      'Install @tensorflow/tfjs-node for native speed, or allow wasm / cpu.',
  );
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `task` alone among every tfjs session of the process. Sessions on different platforms
 * share TensorFlow.js's single active backend; serialising their work keeps one from switching
 * it under another.
 */
export function exclusive<T>(task: () => T | Promise<T>): Promise<T> {
  const run = queue.then(task);
  queue = run.catch(() => undefined);
  return run;
}

/** Makes `platform` the active backend (call inside {@link exclusive}). */
export async function activate(platform: TfjsPlatform): Promise<void> {
  const name = BACKEND_NAME[platform];
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new BackendUnavailableError(`TensorFlow.js could not switch to its ${name} backend`);
  }
}

/** What the wasm platform runs with: SIMD is used when the runtime has it; threads are not in Node. */
export async function wasmFeatures(): Promise<{ simd: boolean; threads: boolean }> {
  const [simd, threads] = await Promise.all([
    tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  ]);
  return { simd: simd === true, threads: threads === true };
}
