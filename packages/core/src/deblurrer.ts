import { resolveBackend } from './backend/resolve.js';
import type { BackendChoice } from './backend/resolve.js';
import { DisposedError, throwIfAborted } from './errors.js';
import { defaultModelPath, modelInfoFromBytes, readModelBytes } from './model/model-info.js';
import type { ModelInfo } from './model/model-info.js';
import { allocateLike, describeImage, readTensor, writeRows } from './pixels/image.js';
import { runTiles } from './tiling/run-tiles.js';
import type { ModelSource, ProgressCallback, RawImage, Session } from './types.js';
import { functionOption, integerOption, invalidOption, isPlainObject, signalOption } from './validate.js';
import { planTiles } from './tiling/plan.js';

/** sharp's default `limitInputPixels`: 0x3FFF squared. */
export const DEFAULT_MAX_PIXELS = 0x3fff * 0x3fff;
export const DEFAULT_TILE_SIZE = 1024;

/** Per-call options of {@link Deblurrer.deblur}; they override the deblurrer's defaults. */
export interface DeblurOptions {
  /**
   * Largest tile side fed to the model, 64 to 8192. Memory grows with its square. Default 1024, or
   * the backend's `preferredTileSize` (768 on tfjs, whose WebAssembly heap never shrinks).
   */
  tileSize?: number;
  /** Context (px) each tile reads beyond the part it writes. Default from the model metadata. */
  overlap?: number;
  /** Tiles run at the same time (1 to 16). Default 1: backends already use every core per tile. */
  concurrency?: number;
  /** Called after every tile with `{ done, total }`. */
  onProgress?: ProgressCallback;
  /** Cancels the call between tiles: it then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** Options of {@link createDeblurrer}. */
export interface DeblurrerOptions extends DeblurOptions {
  /** A backend object, `'ort'`, `'tfjs'` or `'auto'` (default: ort if installed, else tfjs). */
  backend?: BackendChoice;
  /** An ONNX file (path or bytes) following the SGENet export contract. Default: the shipped model. */
  model?: ModelSource;
  /** Execution providers to try, in order (backend specific, e.g. `['cuda', 'cpu']`). */
  providers?: readonly string[];
  /** Threads for the backend. Default: all available cores. */
  threads?: number;
  /** Largest image accepted, in pixels. Default 268 402 689 (sharp's default). */
  maxPixels?: number;
}

/** A loaded model ready to deblur images. Create with {@link createDeblurrer}. */
export interface Deblurrer {
  /** The model's metadata. */
  readonly model: ModelInfo;
  /** The backend's name (`ort`, `tfjs`) and the provider the session runs on (`cpu`, `cuda`...). */
  readonly backend: string;
  readonly provider: string;
  /** Deblurs one image. Resolves with a new image of the same size, channels and bit depth. */
  deblur(image: RawImage, options?: DeblurOptions): Promise<RawImage>;
  /** Frees the backend session. */
  dispose(): Promise<void>;
}

interface ResolvedRunOptions {
  tileSize: number;
  overlap: number;
  concurrency: number;
  onProgress: ProgressCallback | undefined;
  signal: AbortSignal | undefined;
}

function resolveRunOptions(
  raw: unknown,
  defaults: ResolvedRunOptions,
  info: ModelInfo,
  where: string,
): ResolvedRunOptions {
  if (raw === undefined) return defaults;
  if (!isPlainObject(raw)) throw invalidOption(where, 'an object', raw);
  const tileSize = integerOption('tileSize', raw.tileSize, 64, 8192, defaults.tileSize);
  // A smaller tile shrinks the default overlap with it; an explicit overlap is never changed.
  const overlap = integerOption('overlap', raw.overlap, 0, 1024, raw.tileSize !== undefined && raw.overlap === undefined
    ? Math.min(defaults.overlap, maxOverlapFor(tileSize, info))
    : defaults.overlap);
  if (overlap > maxOverlapFor(tileSize, info)) {
    throw invalidOption(
      'tileSize',
      `an integer of at least 3 x overlap + ${2 * info.multiple} (${3 * overlap + 2 * info.multiple}) for overlap ${overlap}`,
      tileSize,
    );
  }
  return {
    tileSize,
    overlap,
    concurrency: integerOption('concurrency', raw.concurrency, 1, 16, defaults.concurrency),
    onProgress: functionOption<ProgressCallback>('onProgress', raw.onProgress) ?? defaults.onProgress,
    signal: signalOption('signal', raw.signal) ?? defaults.signal,
  };
}

/**
 * Largest overlap a tile size allows: cores must stay at least one overlap wide so that at most
 * two feather ramps meet, plus room for grid alignment.
 */
function maxOverlapFor(tileSize: number, info: ModelInfo): number {
  return Math.floor((tileSize - 2 * info.multiple) / 3);
}

/** Default overlap: the receptive field plus the feather ramp (a quarter of the overlap). */
export function defaultOverlap(info: ModelInfo): number {
  return Math.ceil((info.receptiveField * 4) / 3 / info.multiple) * info.multiple;
}

/**
 * Loads a model on a backend and returns a {@link Deblurrer}.
 *
 * @example
 * ```ts
 * import { createDeblurrer } from '@sgenet/core';
 * const deblurrer = await createDeblurrer();          // shipped model, ort (or tfjs) backend
 * const sharp = await deblurrer.deblur({ data, width, height, channels: 3 });
 * await deblurrer.dispose();
 * ```
 */
export async function createDeblurrer(options: DeblurrerOptions = {}): Promise<Deblurrer> {
  if (!isPlainObject(options as unknown)) throw invalidOption('options', 'an object', options);
  const maxPixels = integerOption('maxPixels', options.maxPixels, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_PIXELS);
  const threads = integerOption('threads', options.threads, 1, 1024, 0) || undefined;
  if (options.providers !== undefined && !(Array.isArray(options.providers) && options.providers.every((p) => typeof p === 'string'))) {
    throw invalidOption('providers', 'an array of strings', options.providers);
  }
  const backend = await resolveBackend(options.backend ?? 'auto');
  const bytes = await readModelBytes(options.model ?? defaultModelPath());
  const info = modelInfoFromBytes(bytes);
  const backendTileSize = integerOption(
    'backend.preferredTileSize', backend.preferredTileSize, 64, 8192, DEFAULT_TILE_SIZE,
  );
  const baseDefaults: ResolvedRunOptions = {
    tileSize: backendTileSize,
    overlap: Math.min(defaultOverlap(info), maxOverlapFor(backendTileSize, info)),
    concurrency: 1,
    onProgress: undefined,
    signal: undefined,
  };
  const defaults = resolveRunOptions(
    {
      tileSize: options.tileSize,
      overlap: options.overlap,
      concurrency: options.concurrency,
      onProgress: options.onProgress,
      signal: options.signal,
    },
    baseDefaults,
    info,
    'options',
  );
  throwIfAborted(defaults.signal);
  const session: Session = await backend.load(bytes, {
    ...(options.providers ? { providers: options.providers } : {}),
    ...(threads ? { threads } : {}),
  });
  let disposed = false;

  return {
    model: info,
    backend: backend.name,
    provider: session.provider,
    async deblur(image: RawImage, callOptions?: DeblurOptions): Promise<RawImage> {
      if (disposed) throw new DisposedError('Deblurrer');
      const run = resolveRunOptions(callOptions, defaults, info, 'deblur options');
      const layout = describeImage(image, maxPixels);
      throwIfAborted(run.signal);
      const plan = planTiles(layout.width, layout.height, {
        tileSize: run.tileSize,
        overlap: run.overlap,
        multiple: info.multiple,
      });
      const output = allocateLike(image, layout);
      await runTiles(plan, {
        concurrency: run.concurrency,
        signal: run.signal,
        onProgress: run.onProgress,
        read: (tile) =>
          readTensor(image, layout, tile.x.readStart, tile.y.readStart, tile.x.readLength, tile.y.readLength),
        infer: (tensor, tile) => session.run(tensor, [1, 3, tile.y.readLength, tile.x.readLength]),
        write: (acc, accRows, fromRow, rowCount, accFirstRow) =>
          writeRows(acc, accRows, fromRow, rowCount, accFirstRow, image, output, layout),
      });
      return output;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await session.dispose();
    },
  };
}
