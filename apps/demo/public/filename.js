// The download name from a Content-Disposition header. A module of its own so the tests can
// import it in Node as well as the page in the browser.

/** The header's parameters, lower-cased names to values; quoted strings unescaped (RFC 6266). */
function parameters(header) {
  const params = new Map();
  // Skips the disposition type, then consumes each quoted value whole, so a `;` or a
  // `filename*=` inside quotes starts no parameter.
  for (const m of header.replace(/^[^;]*/, '').matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const name = m[1].toLowerCase();
    if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim());
  }
  return params;
}

/** A name the browser can save: no path separators or control characters. */
function clean(name) {
  return name.replace(/[\\/\u0000-\u001f\u007f]/g, '_').trim();
}

/**
 * `filename*` first (RFC 5987: `UTF-8''` then percent-encoded UTF-8), because only it keeps
 * non-ASCII names such as `ünï😀 cödé.png`; servers send `filename` beside it as an ASCII
 * fallback, used when `filename*` is absent, in another charset or malformed; else `fallback`.
 */
export function filenameFrom(header, fallback) {
  const params = parameters(header ?? '');
  const extended = /^utf-8'[^']*'(.+)$/i.exec(params.get('filename*') ?? '');
  if (extended) {
    try {
      const name = clean(decodeURIComponent(extended[1]));
      if (name) return name;
    } catch {
      // A malformed percent sequence (URIError): fall back to the ASCII name.
    }
  }
  return clean(params.get('filename') ?? '') || fallback;
}
