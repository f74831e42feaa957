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

export function isIntegerInRange(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Validates an optional integer option, returning the default when it is undefined. */
export function integerOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!isIntegerInRange(value, min, max)) {
    throw invalidOption(name, `an integer between ${min} and ${max}`, value);
  }
  return value;
}

export function functionOption<T extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}

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

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}
