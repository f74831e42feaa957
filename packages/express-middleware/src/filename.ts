import type { OutputFormat } from './negotiate.js';

/** Longest base name kept, in characters (code points). */
const MAX_BASE = 80;

// C0/C1 controls and DEL, bidirectional controls (they can disguise an extension), and the
// characters Windows does not allow in a file name (path separators among them).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069<>:"/\\|?*]+/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The two forms of a download name: the full one in UTF-8, and the ASCII one for old clients. */
export interface DownloadName {
  /** The name as it should be saved: the upload's base name (any script), `-deblurred` and the extension. */
  name: string;
  /** ASCII letters, digits, `.`, `_` and `-` only (accents dropped, the rest `_`): no quote, backslash, control character or path separator. */
  ascii: string;
}

/** The download name for the result of an upload called `original`. */
export function downloadName(original: string | undefined, format: OutputFormat): DownloadName {
  const ext = format === 'jpeg' ? 'jpg' : format;
  const base = (original ?? '')
    .replace(LONE_SURROGATE, '\uFFFD')
    .split(/[/\\]/)
    .pop()!
    .replace(/\.[^.]*$/, '')
    .replace(UNSAFE, '_')
    .trim();
  const kept = Array.from(base).slice(0, MAX_BASE).join('') || 'image';
  let ascii = kept
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, MAX_BASE);
  if (!/[A-Za-z0-9]/.test(ascii)) ascii = 'image';
  return { name: `${kept}-deblurred.${ext}`, ascii: `${ascii}-deblurred.${ext}` };
}

/** RFC 8187 `ext-value` of a UTF-8 string: percent-encoded but for the attr-char set. */
export function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `Content-Disposition` for a download (RFC 6266): `inline; filename="<ASCII>"`, plus
 * `filename*=UTF-8''<percent-encoded UTF-8>` when the name is not plain ASCII already (clients that
 * understand `filename*` prefer it).
 */
export function contentDisposition(original: string | undefined, format: OutputFormat): string {
  const { name, ascii } = downloadName(original, format);
  return name === ascii ? `inline; filename="${ascii}"` : `inline; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}
