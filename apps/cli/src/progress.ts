/** A one-line progress bar for TTYs; silent elsewhere (logs get one line per finished file). */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream, enabled: boolean) {
    this.enabled = enabled && stream.isTTY === true;
  }

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
    const line = `${bar} ${done}/${total} ${unit}  ${label}`.slice(0, cols - 1);
    this.stream.write(`\r\x1b[2K${line}`);
  }

  clear(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
