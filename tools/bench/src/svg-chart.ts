/**
 * A hand-written SVG line-and-dot chart (no plotting dependency): one series per method, one
 * point per category. Dots, not bars, because PSNR has no meaningful zero.
 */

export interface ChartSeries {
  name: string;
  color: string;
  values: readonly (number | null)[];
  /** Dashed line: a reference rather than a contender. */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  categories: readonly string[];
  series: readonly ChartSeries[];
  yLabel: string;
  width?: number;
  height?: number;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" tick step (1, 2 or 5 x 10^k) giving about `target` ticks over `span`. */
function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

export function lineChartSvg(spec: ChartSpec): string {
  const W = spec.width ?? 820;
  const H = spec.height ?? 440;
  const legendW = 300;
  const m = { left: 64, right: legendW + 20, top: spec.subtitle ? 64 : 44, bottom: 48 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  if (all.length === 0) throw new Error('lineChartSvg: no finite values to plot');
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = niceStep(hi - lo, 6);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const n = spec.categories.length;
  const x = (i: number) => m.left + (n === 1 ? pw / 2 : (i + 0.5) * (pw / n));
  const y = (v: number) => m.top + ph - ((v - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold" fill="#111">${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${m.left}" y="44" fill="#555">${escapeXml(spec.subtitle)}</text>`);
  // Grid and y axis.
  for (let v = lo; v <= hi + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${m.left}" y1="${yy}" x2="${m.left + pw}" y2="${yy}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${m.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#333">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(spec.yLabel)}</text>`);
  spec.categories.forEach((c, i) => {
    out.push(`<text x="${x(i).toFixed(1)}" y="${m.top + ph + 20}" text-anchor="middle" fill="#333">${escapeXml(c)}</text>`);
  });
  // Series.
  spec.series.forEach((s) => {
    const pts = s.values
      .map((v, i) => (v === null || !Number.isFinite(v) ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    if (pts.length > 1) {
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${s.color}"><title>${escapeXml(`${s.name}, ${spec.categories[i] ?? ''}: ${v.toFixed(2)}`)}</title></circle>`);
    });
  });
  // Legend with each series' mean.
  const lx = m.left + pw + 20;
  spec.series.forEach((s, k) => {
    const ly = m.top + 10 + k * 24;
    const vals = s.values.filter((v): v is number => v !== null && Number.isFinite(v));
    const mean = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : Number.NaN;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<circle cx="${lx + 11}" cy="${ly}" r="4" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle" fill="#111">${escapeXml(s.name)}${Number.isFinite(mean) ? ` (mean ${mean.toFixed(2)})` : ''}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
