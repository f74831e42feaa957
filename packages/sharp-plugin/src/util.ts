export { ImageTooLargeError, invalidOption } from '@sgenet/core';

/** A non-null, non-array object. */
export function isSgenetPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
