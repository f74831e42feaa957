import { extname } from 'node:path';

const ELLIPSIS = '…';

/**
 * Shortens a file name (or path) to at most `max` characters by cutting it in the middle, so that
 * both its start and its end stay readable: `IMG_4548_small.png` in 16 becomes
 * `IMG_45…small.png`. The extension is kept whole when there is room for it and at least one
 * character of the name on either side of the ellipsis; otherwise the whole text is cut in the
 * middle. Lengths count Unicode code points, so a surrogate pair is never split.
 *
 * @param name - The text to fit, usually a file name or path.
 * @param max - The most characters the result may have; 0 or less gives `''`.
 * @returns `name` itself when it fits, else a `max`-character string with one `…`.
 */
export function shortenMiddle(name: string, max: number): string {
  const chars = Array.from(name);
  if (chars.length <= max) return name;
  if (max <= 0) return '';
  if (max === 1) return ELLIPSIS;
  const ext = Array.from(extname(name));
  // The stem gets what the extension and the ellipsis leave, the larger half at its start.
  const stemRoom = max - ext.length - 1;
  if (ext.length > 0 && stemRoom >= 2) {
    const stem = chars.slice(0, chars.length - ext.length);
    const head = Math.ceil(stemRoom / 2);
    const tail = stemRoom - head;
    return [...stem.slice(0, head), ELLIPSIS, ...stem.slice(stem.length - tail), ...ext].join('');
  }
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return [...chars.slice(0, head), ELLIPSIS, ...chars.slice(chars.length - tail)].join('');
}

/** A one-line progress bar for TTYs; silent elsewhere (logs get one line per finished file). */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream, enabled: boolean) {
    this.enabled = enabled && stream.isTTY === true;
  }

  /** Draws `done` of `total` with `label` (a file name, shortened in the middle to fit). */
  update(label: string, done: number, total: number, stage?: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const cols = this.stream.columns ?? 80;
    const unit = stage === 'kernel' ? 'kernel steps' : stage === 'deconvolve' ? 'deconvolution tiles' : stage === 'jobs' ? 'jobs' : 'tiles';
    const head = `${bar} ${done}/${total} ${unit}`;
    // One column spare: writing the last column makes some terminals wrap.
    const room = cols - 1 - head.length - 2;
    const line = room >= 1 ? `${head}  ${shortenMiddle(label, room)}` : head.slice(0, Math.max(0, cols - 1));
    this.stream.write(`\r\x1b[2K${line}`);
  }

  clear(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
