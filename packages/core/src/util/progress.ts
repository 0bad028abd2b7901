// A progress bar for long work (dataset building, training, batch solving). On a terminal it redraws one
// line on stderr; elsewhere (CI logs, pipes) it prints a plain line at most every `logEveryMs`. Lines printed while
// the bar runs go through `log`, which keeps them off the bar's line.

export interface ProgressOptions {
  /** What is being counted, shown after the numbers ("puzzles", "steps"). */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Minimum time between redraws on a terminal. */
  redrawMs?: number;
  /** Minimum time between plain lines when not on a terminal. */
  logEveryMs?: number;
  /** Disable all output (tests, --quiet). */
  silent?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class Progress {
  private done = 0;
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private fields = '';
  /** whether the bar's line is on screen and unfinished (a terminal only) */
  private drawn = false;
  private finished = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Advances by `n` and optionally replaces the extra fields shown after the bar (e.g. "loss 0.42"). */
  tick(n = 1, fields?: Record<string, string | number>): void {
    this.done += n;
    if (fields) this.setFields(fields);
    this.maybeDraw(false);
  }

  /** Sets the absolute position. */
  update(done: number, fields?: Record<string, string | number>): void {
    this.done = done;
    if (fields) this.setFields(fields);
    this.maybeDraw(false);
  }

  setFields(fields: Record<string, string | number>): void {
    this.fields = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
      .join('  ');
  }

  /** Elapsed seconds since the bar was created. */
  get elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  /** Draws the final state and ends the line; prints `summary` when given. Later calls do nothing. */
  finish(summary?: string): void {
    if (this.finished) return;
    this.maybeDraw(true);
    this.finished = true;
    this.drawn = false;
    if (this.opts.silent) return;
    if (this.tty) this.stream.write('\n');
    if (summary) this.stream.write(`${summary}\n`);
  }

  /**
   * Prints `line` on a line of its own. On a terminal the bar is cleared first and drawn again below the line, so
   * the line never lands on the bar.
   */
  log(line: string): void {
    if (this.opts.silent) return;
    if (!this.drawn) {
      this.stream.write(`${line}\n`);
      return;
    }
    this.stream.write(`\r\x1b[2K${line}\n`);
    this.maybeDraw(true);
  }

  private maybeDraw(force: boolean): void {
    if (this.opts.silent || this.finished) return;
    const now = performance.now();
    const every = this.tty ? (this.opts.redrawMs ?? 100) : (this.opts.logEveryMs ?? 10_000);
    if (!force && now - this.lastDraw < every) return;
    this.lastDraw = now;
    const line = this.render();
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else this.stream.write(`${line}\n`);
  }

  render(): string {
    const elapsed = this.elapsed;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
    const unit = this.opts.unit ?? 'items';
    return (
      `${this.label} [${bar}] ${this.done}/${this.total} ${(frac * 100).toFixed(1)}%  ` +
      `${formatNumber(rate)} ${unit}/s  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}` +
      (this.fields ? `  ${this.fields}` : '')
    );
  }
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
