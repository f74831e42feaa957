/** Tables rendered twice: aligned text for the console and GitHub markdown for BENCHMARKS.md. */

export type Align = 'l' | 'r';

export interface Table {
  title: string;
  columns: readonly string[];
  /** Per column; default: first column left, the rest right. */
  align?: readonly Align[];
  rows: string[][];
  /** Lines printed under the table (both outputs). */
  notes?: string[];
}

export type SectionStatus = 'ok' | 'failed' | 'skipped';

/** What one section of the benchmark produced. */
export interface SectionResult {
  id: string;
  title: string;
  /** A failing required section makes the process exit non-zero. */
  required: boolean;
  status: SectionStatus;
  /** Why it failed or was skipped. */
  reason?: string;
  tables: Table[];
  /** Extra markdown placed after the tables (figures, verbatim reports). */
  markdown?: string;
  /** How the numbers were produced: command, method, source file. */
  method: string[];
}

function alignOf(t: Table, i: number): Align {
  return t.align?.[i] ?? (i === 0 ? 'l' : 'r');
}

/** Visible width: counts code points, so the ✓/✗ and × signs do not skew the columns. */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, n: number, a: Align): string {
  const fill = ' '.repeat(Math.max(0, n - width(s)));
  return a === 'l' ? s + fill : fill + s;
}

export function renderText(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(width(c), ...t.rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    '  ' + widths.map((w, i) => pad(cells[i] ?? '', w, alignOf(t, i))).join('  ');
  const out = [`${t.title}`, line(t.columns), '  ' + widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of t.rows) out.push(line(r));
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join('\n');
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMarkdown(t: Table, heading = '###'): string {
  const out = [`${heading} ${t.title}`, ''];
  out.push(`| ${t.columns.map(mdCell).join(' | ')} |`);
  out.push(`|${t.columns.map((_, i) => (alignOf(t, i) === 'r' ? '---:' : ':---')).join('|')}|`);
  for (const r of t.rows) out.push(`| ${t.columns.map((_, i) => mdCell(r[i] ?? '')).join(' | ')} |`);
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `${n}  `));
  return out.join('\n');
}

/** Formats a number with fixed digits; `–` for missing or non-finite values. */
export function num(v: number | undefined | null, digits = 2): string {
  return v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function pct(v: number | undefined | null, digits = 0): string {
  return v === undefined || v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`;
}

export function verdict(pass: boolean | null): string {
  return pass === null ? '–' : pass ? '✓ pass' : '✗ miss';
}

/** One line of an error, for a table cell or a section's reason. */
export function reasonOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? msg;
  return first.length > 240 ? `${first.slice(0, 237)}...` : first;
}

/** A short reason for a failed dynamic import: "not built" for a missing dist file. */
export function importFailure(err: unknown, repoRoot: string): string {
  const msg = reasonOf(err);
  if ((err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') return msg;
  const target = /Cannot find (?:module|package) '([^']+)'/.exec(msg)?.[1];
  if (!target) return msg;
  const shown = target.startsWith(repoRoot) ? target.slice(repoRoot.length) : target;
  return /[\\/]dist[\\/]/.test(target) ? `${shown} is missing: not built (run npm run build)` : `cannot find ${shown}`;
}

/** Long reasons go under a table as numbered notes; cells say "see note N". */
export class Notes {
  private readonly reasons: string[] = [];

  ref(reason: string, prefix = ''): string {
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
    return `${prefix}see note ${this.reasons.indexOf(reason) + 1}`;
  }

  lines(): string[] {
    return this.reasons.map((r, i) => `Note ${i + 1}: ${r}`);
  }
}
