import { InvalidOptionError } from './errors.js';

/** sharp-style message: `Expected <expected> for <name> but received <actual> of type <type>`. */
export function invalidOption(name: string, expected: string, actual: unknown): InvalidOptionError {
  const shown = typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
  return new InvalidOptionError(
    `Expected ${expected} for ${name} but received ${shown} of type ${typeof actual}`,
  );
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Refuses option names that are not in `known` (a misspelt `tilesize` would otherwise be silently
 * ignored): `Expected one of <known> for <what> but received "<key>"`.
 */
export function checkOptionNames(options: Record<string, unknown>, known: readonly string[], what = 'option name'): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw invalidOption(what, `one of ${known.join(', ')}`, key);
  }
}

/** Whether `v` is an integer in [`min`, `max`] (the test behind {@link integerOption}). */
export function isIntegerInRange(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * Validates an optional integer option in [min, max]: `undefined` (not given) gives `fallback`,
 * or `undefined` when there is none, so a front end can leave the default to the code it calls.
 * Anything else must be an integer in range, or it throws `InvalidOptionError`
 * `Expected an integer between <min> and <max> for <name> but received ...`: the one integer check
 * of every package (the sharp plugin, the Express middleware, the queue and core itself).
 */
export function integerOption(name: string, value: unknown, min: number, max: number, fallback: number): number;
export function integerOption(name: string, value: unknown, min: number, max: number): number | undefined;
export function integerOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  if (!isIntegerInRange(value, min, max)) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

/** Validates an optional callback option: `undefined` passes through; anything but a function throws. */
export function functionOption<T extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}

/** Validates an optional `AbortSignal` option: `undefined` passes through; anything else must be one. */
export function signalOption(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidOption(name, 'an AbortSignal', value);
  return value;
}

/** Validates an optional finite number option in [min, max], returning the default when undefined. */
export function numberOption(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidOption(name, `a number between ${min} and ${max}`, value);
  }
  return value;
}

/**
 * The noise level a noise-conditioned model (SGENet-σ) is run at: a finite number in [0, 1], the
 * image's units. Backends check `SessionRunOptions.sigma` with it before feeding the model.
 */
export function sigmaOption(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalidOption('sigma', 'a noise level between 0 and 1 (this model is noise-conditioned: SGENet-σ)', value);
  }
  return value;
}

/**
 * The guide a guided model (metadata `guide_input`) is run with: a Float32Array of the input's
 * length (the photo's tile, the input's dims). Backends check `SessionRunOptions.guide` with it.
 */
export function guideOption(value: unknown, length: number): Float32Array {
  if (!(value instanceof Float32Array) || value.length !== length) {
    throw invalidOption('guide', `a Float32Array of ${length} values, the photo's tile in the input's dims (this model is guided by the blurry photo)`,
      value instanceof Float32Array ? `a Float32Array of ${value.length} values` : value);
  }
  return value;
}

/**
 * Validates an optional boolean option: `undefined` (not given) gives `fallback`; anything but a
 * boolean throws `InvalidOptionError` naming the option.
 */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}

/** Whether `value` is one of `table`'s entries: an allowed-value table read as a type guard. */
export function isOneOf<T extends string>(table: readonly T[], value: unknown): value is T {
  return (table as readonly unknown[]).includes(value);
}

/** A table's values as error messages show them: `'png', 'jpeg', 'webp'`. */
export function quotedList(table: readonly string[]): string {
  return table.map((v) => `'${v}'`).join(', ');
}

/**
 * Validates a value against an allowed-value table (sharp's `is.inArray`): anything not in the
 * table throws `InvalidOptionError` `Expected one of 'a', 'b' for <name> but received ...`.
 */
export function oneOf<T extends string>(name: string, value: unknown, table: readonly T[]): T {
  if (!isOneOf(table, value)) throw invalidOption(name, `one of ${quotedList(table)}`, value);
  return value;
}

/** {@link oneOf} for an optional option: `undefined` (not given) stays `undefined`. */
export function oneOfOption<T extends string>(name: string, value: unknown, table: readonly T[]): T | undefined {
  return value === undefined ? undefined : oneOf(name, value, table);
}
