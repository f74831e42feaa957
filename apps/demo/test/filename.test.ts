/**
 * The page's download name (public/filename.js): `filename*` (RFC 5987) first, so non-ASCII
 * names survive; the ASCII `filename` when it is absent or malformed; else the default.
 */
import { describe, expect, it } from 'vitest';

// @ts-expect-error: a plain-JS browser module without type declarations
import { filenameFrom } from '../public/filename.js';

const name = (header: string | null): string => (filenameFrom as (h: string | null, f: string) => string)(header, 'deblurred.png');
const UTF8 = `%C3%BCn%C3%AF%F0%9F%98%80%20c%C3%B6d%C3%A9-deblurred.png`; // ünï😀 cödé-deblurred.png

describe('filenameFrom', () => {
  it('prefers filename* and decodes its UTF-8', () => {
    expect(name(`inline; filename="_n_c_d_-deblurred.png"; filename*=UTF-8''${UTF8}`)).toBe('ünï😀 cödé-deblurred.png');
    expect(name(`inline; filename*=utf-8'en'${UTF8}; filename="x.png"`)).toBe('ünï😀 cödé-deblurred.png');
  });

  it('falls back to filename when filename* is malformed or not UTF-8', () => {
    expect(name(`inline; filename="fallback.png"; filename*=UTF-8''%E0%A4%A.png`)).toBe('fallback.png');
    expect(name(`inline; filename="fallback.png"; filename*=UTF-8''%ZZ`)).toBe('fallback.png');
    expect(name(`inline; filename="fallback.png"; filename*=ISO-8859-1''%FCn.png`)).toBe('fallback.png');
    expect(name(`inline; filename="fallback.png"; filename*=%C3%BC.png`)).toBe('fallback.png');
  });

  it('reads quoted and bare filenames, and only real parameters', () => {
    expect(name('inline; filename="shaky-chart-deblurred.png"')).toBe('shaky-chart-deblurred.png');
    expect(name('inline; filename=plain.png')).toBe('plain.png');
    expect(name('inline; filename="say \\"hi\\".png"')).toBe('say "hi".png');
    // A `filename*=` inside a quoted value is part of that value, not a parameter.
    expect(name(`inline; filename="a; filename*=UTF-8''b.png"`)).toBe(`a; filename*=UTF-8''b.png`);
  });

  it('keeps path separators and control characters out of the name', () => {
    expect(name(`inline; filename*=UTF-8''..%2Fetc%2Fpasswd`)).toBe('.._etc_passwd');
    expect(name(`inline; filename*=UTF-8''a%0Ab.png`)).toBe('a_b.png');
  });

  it('uses the default without a usable name', () => {
    expect(name(null)).toBe('deblurred.png');
    expect(name('')).toBe('deblurred.png');
    expect(name('inline')).toBe('deblurred.png');
    expect(name('inline; filename=""')).toBe('deblurred.png');
    expect(name(`inline; filename*=UTF-8''%ZZ`)).toBe('deblurred.png');
  });
});
