/**
 * The option checks every front end shares (the sharp plugin, the Express middleware, the queue
 * and the CLI), written once here as sharp writes its own in lib/is.js: allowed-value tables that
 * double as validators, and one message shape (`Expected <what> for <name> but received <value>`).
 * An adapter checks its options with these once, when it is set up, and stores the result.
 */
import type { BackendChoice } from './backend/resolve.js';
import { minTileSizeFor } from './deblurrer.js';
import type { ModelSource } from './types.js';
import { integerOption, invalidOption, isOneOf, isPlainObject, oneOfOption } from './validate.js';

/**
 * Formats a restored photo can be written in: the ones every browser shows. The table is the
 * validator too ({@link isOutputFormat}, {@link outputFormatOption}); the sharp plugin encodes
 * them, the Express middleware negotiates them, the queue's jobs and the CLI's `--format` take them.
 */
export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Whether `value` is one of {@link OUTPUT_FORMATS}. */
export function isOutputFormat(value: unknown): value is OutputFormat {
  return isOneOf(OUTPUT_FORMATS, value);
}

/**
 * Validates an optional output format: `undefined` stays `undefined`; anything not in
 * {@link OUTPUT_FORMATS} throws `Expected one of 'png', 'jpeg', 'webp' for <name> but received ...`.
 */
export function outputFormatOption(name: string, value: unknown): OutputFormat | undefined {
  return oneOfOption(name, value, OUTPUT_FORMATS);
}

/** Tile sizes an adapter accepts, before any model is loaded: 64 to 8192. */
export const TILE_SIZE_RANGE = [64, 8192] as const;
/** Tile overlaps an adapter accepts: 0 to 1024. */
export const OVERLAP_RANGE = [0, 1024] as const;

/**
 * Validates an optional `tileSize` and `overlap` pair as an adapter can before its model is
 * loaded: each an integer in range ({@link TILE_SIZE_RANGE}, {@link OVERLAP_RANGE}), and, when both
 * are given, a tile of at least 3 x overlap: core's {@link minTileSizeFor} without the model's size
 * multiple, which only the model knows (`Deblurrer.deblur` checks the rest once it is loaded).
 * Returns the values, `undefined` where not given.
 */
export function tilingOptions(tileSize: unknown, overlap: unknown): { tileSize: number | undefined; overlap: number | undefined } {
  const tile = integerOption('tileSize', tileSize, ...TILE_SIZE_RANGE);
  const context = integerOption('overlap', overlap, ...OVERLAP_RANGE);
  checkTileOverlap(tile, context);
  return { tileSize: tile, overlap: context };
}

/**
 * The pair check of {@link tilingOptions} alone, for adapters that check other options between
 * the two values and the pair (the order their errors come in is part of their behaviour).
 */
export function checkTileOverlap(tileSize: number | undefined, overlap: number | undefined): void {
  if (tileSize === undefined || overlap === undefined) return;
  const least = minTileSizeFor(overlap, 0);
  if (tileSize < least) throw invalidOption('tileSize', `an integer of at least 3 x overlap (${least})`, tileSize);
}

/** Backend names an adapter accepts for the deblurrer it creates (or a Backend object). */
const BACKEND_NAMES = ['ort', 'tfjs', 'auto'] as const;

/**
 * Validates an optional `backend` for a deblurrer an adapter creates: `'ort'`, `'tfjs'`, `'auto'` or
 * a Backend object (`load` and `name`), so that a typo fails when the adapter is set up, not on
 * its first image.
 */
export function backendOption(value: unknown): BackendChoice | undefined {
  if (value === undefined) return undefined;
  if (isOneOf(BACKEND_NAMES, value)) return value;
  if (isPlainObject(value) && typeof value.load === 'function' && typeof value.name === 'string') {
    return value as unknown as BackendChoice;
  }
  throw invalidOption('backend', "a Backend object, 'ort', 'tfjs' or 'auto'", value);
}

/** Validates an optional `model` for a deblurrer an adapter creates: a file path or the ONNX bytes. */
export function modelOption(value: unknown): ModelSource | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Uint8Array || (typeof value === 'string' && value.length > 0)) return value;
  throw invalidOption('model', "a file path, a shipped model's name ('sgenet-s', 'sgenet-s-sigma') or a Uint8Array of an ONNX model", value);
}

/** Validates optional backend `threads` for a deblurrer an adapter creates: 1 to 1024, as `createDeblurrer`. */
export function threadsOption(value: unknown): number | undefined {
  return integerOption('threads', value, 1, 1024);
}
