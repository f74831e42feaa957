import { BackendUnavailableError } from '../errors.js';
import type { Backend } from '../types.js';
import { invalidOption } from '../validate.js';

/** Backend names core can resolve by itself, in the order `'auto'` tries them. */
export const BACKEND_PACKAGES = {
  ort: '@sgenet/ort-backend',
  tfjs: '@sgenet/tfjs-backend',
} as const;

export type BackendName = keyof typeof BACKEND_PACKAGES;

/** A backend object, a name, or `'auto'` (ort, then tfjs: whichever is installed). */
export type BackendChoice = Backend | BackendName | 'auto';

interface BackendModule {
  createBackend(): Backend;
}

function isBackend(v: unknown): v is Backend {
  return (
    typeof v === 'object' && v !== null &&
    typeof (v as Backend).load === 'function' && typeof (v as Backend).name === 'string'
  );
}

async function importBackend(name: BackendName): Promise<Backend> {
  const pkg = BACKEND_PACKAGES[name];
  let mod: BackendModule;
  try {
    // Core depends on no backend: they are optional peers, loaded only when asked for.
    mod = (await import(pkg)) as BackendModule;
  } catch (err) {
    throw new BackendUnavailableError(
      `The ${name} backend is not installed: run \`npm install ${pkg}\``,
      { cause: err },
    );
  }
  return mod.createBackend();
}

/** Turns a {@link BackendChoice} into a Backend, importing the package when given a name. */
export async function resolveBackend(choice: unknown = 'auto'): Promise<Backend> {
  if (isBackend(choice)) return choice;
  if (choice === 'ort' || choice === 'tfjs') return importBackend(choice);
  if (choice !== 'auto') {
    throw invalidOption('backend', "a Backend object, 'ort', 'tfjs' or 'auto'", choice);
  }
  const failures: unknown[] = [];
  for (const name of Object.keys(BACKEND_PACKAGES) as BackendName[]) {
    try {
      return await importBackend(name);
    } catch (err) {
      failures.push(err);
    }
  }
  throw new BackendUnavailableError(
    'No SGENet backend is installed: run `npm install @sgenet/ort-backend` (or @sgenet/tfjs-backend)',
    { cause: failures },
  );
}
