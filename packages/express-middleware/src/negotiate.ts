import { isOutputFormat, OUTPUT_FORMATS } from '@sgenet/core';
import type { OutputFormat } from '@sgenet/core';
import type { Request } from 'express';

import { DeblurHttpError } from './errors.js';

/** Formats the middleware can respond with: core's table (png, jpeg, webp). */
export { OUTPUT_FORMATS };
export type { OutputFormat };

/** Content-Type of each output format. */
export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/**
 * Reads `?format=` (png, jpeg, jpg or webp). Returns `undefined` when absent; throws a 400
 * `ERR_SGENET_INVALID_FORMAT` when present but not one of those.
 */
export function formatFromQuery(req: Request): OutputFormat | undefined {
  const raw: unknown = (req.query as Record<string, unknown> | undefined)?.format;
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (value === 'jpg') return 'jpeg';
  if (isOutputFormat(value)) return value;
  throw new DeblurHttpError(
    400,
    'ERR_SGENET_INVALID_FORMAT',
    `Unsupported format ${JSON.stringify(raw)} in ?format=: use png, jpeg or webp`,
  );
}

/**
 * Picks the response format: `?format=` first, then the `Accept` header (q-values honoured),
 * then `fallback`. An `Accept` that names none of png/jpeg/webp is ignored (the fallback is
 * sent) rather than answered with 406, as RFC 9110 allows.
 */
export function negotiateFormat(req: Request, fallback: OutputFormat): OutputFormat {
  const fromQuery = formatFromQuery(req);
  if (fromQuery) return fromQuery;
  if (!req.headers.accept) return fallback;
  const ordered = [fallback, ...OUTPUT_FORMATS.filter((f) => f !== fallback)];
  const picked = req.accepts(ordered.map((f) => CONTENT_TYPES[f]));
  if (typeof picked !== 'string') return fallback;
  const found = ordered.find((f) => CONTENT_TYPES[f] === picked);
  return found ?? fallback;
}
