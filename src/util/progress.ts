/**
 * A progress bar on stderr with rate and ETA. Redraws at most every 100 ms; when stderr is not a
 * terminal (CI, pipes) it prints a plain line every few seconds instead, so logs stay readable.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Minimum ms between non-TTY lines. */
  plainEveryMs?: number;
  quiet?: boolean;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export class Progress {
  private readonly start = performance.now();
  private last = 0;
  private lastPlain = 0;
  private done = 0;
  private startDone = 0;
  private text = '';
  private readonly stream: NodeJS.WriteStream;
  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
  }
  /** Resumed work: count rate from here, not from zero. */
  resumeAt(done: number): void { this.done = this.startDone = done; }
  update(done: number, text = ''): void {
    this.done = done; this.text = text;
    const now = performance.now();
    if (now - this.last < 100 && done < this.opts.total) return;
    this.last = now;
    this.draw(now, false);
  }
  private draw(now: number, final: boolean): void {
    if (this.opts.quiet) return;
    const { total, label } = this.opts;
    const unit = this.opts.unit ?? 'it';
    const elapsed = (now - this.start) / 1000;
    const rate = (this.done - this.startDone) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (total - this.done) / rate : NaN;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const stats = `${this.done}/${total} ${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s ETA ${formatDuration(eta)} ${this.text}`;
    if (this.stream.isTTY) {
      const width = 24;
      const fill = Math.round(frac * width);
      this.stream.write(`\r\x1b[2K${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${stats}` + (final ? '\n' : ''));
    } else if (final || now - this.lastPlain >= (this.opts.plainEveryMs ?? 5000)) {
      this.lastPlain = now;
      this.stream.write(`${label} ${(frac * 100).toFixed(0)}% ${stats}\n`);
    }
  }
  finish(text?: string): void {
    if (text !== undefined) this.text = text;
    this.draw(performance.now(), true);
  }
}
