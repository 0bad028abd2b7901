// Training metrics as JSON lines (metrics.jsonl beside the checkpoint): one `train` record per logging window,
// averaged as the reference logs them (losses per row of the batch, the rest per halted row), and one `eval`
// record per evaluation (their types are metrics/records.ts). The records are kept in memory too, for the plot and
// the model card.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { EvalRecord, MetricRecord, TrainRecord } from '../metrics/records.js';
import type { StepReport } from './training-run.js';

/**
 * Sums StepReports until `flush` turns them into one TrainRecord. The record's rates divide by the seconds given
 * with the steps when every step came with its own (an engine that runs several steps per call gives each its share
 * of the call, so that a window that ends inside a call is not credited with steps it did not wait for), else by
 * the clock since the last flush.
 */
export class MetricWindow {
  private n = 0;
  private sums = { count: 0, accuracy: 0, exact: 0, qacc: 0, steps: 0, lm: 0, qh: 0, halted: 0, rows: 0 };
  private last: StepReport | null = null;
  private started = performance.now();
  /** seconds given with the steps so far; null once a step came without */
  private timed: number | null = 0;

  add(r: StepReport, seconds?: number): void {
    this.timed = seconds === undefined || this.timed === null ? null : this.timed + seconds;
    const m = r.metrics;
    const s = this.sums;
    s.count += m.count;
    s.accuracy += m.accuracy;
    s.exact += m.exact_accuracy;
    s.qacc += m.q_halt_accuracy;
    s.steps += m.steps;
    s.lm += m.lm_loss / r.batchSize;
    s.qh += m.q_halt_loss / r.batchSize;
    s.halted += r.halted;
    s.rows += r.batchSize;
    this.n++;
    this.last = r;
  }

  get size(): number {
    return this.n;
  }

  flush(epoch: number, timeS: number): TrainRecord | null {
    if (!this.last) return null;
    const s = this.sums;
    const c = Math.max(s.count, 1);
    const seconds = Math.max(this.timed ?? (performance.now() - this.started) / 1000, 1e-9);
    const rec: TrainRecord = {
      kind: 'train',
      step: this.last.step,
      epoch,
      lr: this.last.lr,
      time_s: timeS,
      samples_per_s: s.rows / seconds,
      steps_per_s: this.n / seconds,
      count: s.count,
      accuracy: s.accuracy / c,
      exact_accuracy: s.exact / c,
      q_halt_accuracy: s.qacc / c,
      steps: s.steps / c,
      lm_loss: s.lm / this.n,
      q_halt_loss: s.qh / this.n,
      halt_rate: s.halted / s.rows,
    };
    this.n = 0;
    this.sums = { count: 0, accuracy: 0, exact: 0, qacc: 0, steps: 0, lm: 0, qh: 0, halted: 0, rows: 0 };
    this.last = null;
    this.started = performance.now();
    this.timed = 0;
    return rec;
  }
}

/** Appends records to a JSON-lines file and remembers them (those already in the file too, on resume). */
export class MetricsLog {
  readonly records: MetricRecord[] = [];

  constructor(
    readonly path: string,
    opts: { keepExisting: boolean; upToStep?: number },
  ) {
    if (opts.keepExisting && existsSync(path)) {
      const kept: MetricRecord[] = [];
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const rec = JSON.parse(line) as MetricRecord;
        // Records written after the checkpoint being resumed from describe steps that will be redone.
        if (opts.upToStep === undefined || rec.step <= opts.upToStep) kept.push(rec);
      }
      this.records.push(...kept);
    }
    // Rewrite so the file holds exactly what is remembered.
    appendFileSync(path, '', { flag: 'w' });
    for (const r of this.records) appendFileSync(path, `${JSON.stringify(r)}\n`);
  }

  append(rec: MetricRecord): void {
    this.records.push(rec);
    appendFileSync(this.path, `${JSON.stringify(rec)}\n`);
  }

  lastEval(): EvalRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i]!;
      if (r.kind === 'eval') return r;
    }
    return undefined;
  }
}
