// A training session from start (or a saved checkpoint) to the last step: the loop of TRM-SPEC §3-§5 with what a
// person running it needs around it. A progress bar (step, loss, accuracy, halting rate, samples/s, ETA), metrics
// as JSON lines and the curves as SVG beside the checkpoint, periodic evaluation of the EMA model, a checkpoint at
// every evaluation and at the end, and on abort (Ctrl-C) a save before returning. Lines logged during the run go
// through the progress bar, so that on a terminal they never land on the bar's line.
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cardPath, formatDuration, type NamedArrays, Progress, type ProgressOptions } from '@trm/core';
import { type CardFacts, modelCard, type SplitAccuracy } from '../checkpoint/model-card.js';
import type { SplitSource } from '../data/split.js';
import type { EvalRecord, TrainRecord } from '../metrics/records.js';
import { trainingCurvesSvg } from '../plot/training-curves.js';
import { type ResumePoint, type RunMeta, saveCheckpoint } from './checkpointing.js';
import { MetricsLog, MetricWindow } from './metrics-log.js';
import { type RunOptions, type StepReport, type TrainLoop, TrainingRun } from './training-run.js';
import { yieldToEventLoop } from './yield.js';

export const METRICS_FILE = 'metrics.jsonl';
export const CURVES_FILE = 'curves.svg';

export interface SessionOptions {
  /** settings of the run (for a resumed run: those saved with it) */
  meta: RunMeta;
  train: SplitSource;
  /** evaluated every `meta.eval_every` steps and at the end; null: no evaluation */
  test: SplitSource | null;
  identifiers: string[] | null;
  out: string;
  /** continue from this checkpoint (loadCheckpoint) */
  resume: ResumePoint | null;
  /** a new run that starts from these weights (train --init) instead of the seeded initialisation */
  initWeights?: NamedArrays;
  /** stop after this step (default meta.total_steps) */
  stopAt?: number;
  /** opens the run (default: the tfjs TrainingRun on the active tfjs backend) */
  openRun?: (opts: RunOptions) => Promise<TrainLoop>;
  /** training rows logged as one record */
  logEvery: number;
  /** aborting (Ctrl-C) ends the session after the current step, with a save */
  signal?: AbortSignal;
  quiet?: boolean;
  /** where the progress bar and the log lines go (default stderr) */
  stream?: ProgressOptions['stream'];
  /** for the model card, with paths as the card shows them (cardCommand) */
  command: string;
  machine: string;
}

/** The training data as the card names it: the dataset folder by cardPath (no absolute path of this machine). */
function cardData(meta: RunMeta): string {
  const data = meta.generated ? meta.data : cardPath(meta.data);
  return meta.init === undefined ? data : `${data} (weights from ${cardPath(meta.init)})`;
}

export interface SessionSummary {
  step: number;
  totalSteps: number;
  /** seconds of training, resumed sessions included */
  wallSeconds: number;
  sessionSeconds: number;
  interrupted: boolean;
  lastTrain: TrainRecord | null;
  lastEval: EvalRecord | null;
  out: string;
}

/**
 * The last training record, with the halted-row metrics (token and exact accuracy, halt accuracy, steps) of the
 * latest window in which rows halted when its own window had none: those metrics count only rows that halted in the
 * window, so a window shorter than halt_max_steps steps can hold none (every row running all steps halts only every
 * 16th step), and its zeros are not the model's accuracy.
 */
export function latestTrainView(last: TrainRecord | null, lastHalted: TrainRecord | null): TrainRecord | null {
  if (!last || last.count > 0 || !lastHalted) return last;
  return {
    ...last,
    count: lastHalted.count,
    accuracy: lastHalted.accuracy,
    exact_accuracy: lastHalted.exact_accuracy,
    q_halt_accuracy: lastHalted.q_halt_accuracy,
    steps: lastHalted.steps,
  };
}

/** The fields after the progress bar; "-" until the first training record. */
export function progressFields(
  step: number,
  totalSteps: number,
  last: TrainRecord | null,
): Record<string, string | number> {
  return {
    step: `${step}/${totalSteps}`,
    loss: last ? last.lm_loss : '-',
    acc: last ? last.accuracy : '-',
    halt: last ? last.halt_rate : '-',
    'samples/s': last ? Math.round(last.samples_per_s) : '-',
  };
}

/**
 * One session of a run: the loop and what it keeps while it goes (the metrics file, the window of steps not yet
 * logged, the progress bar, the last training and evaluation records, the wall clock of the whole run).
 */
class Session {
  private readonly start: number;
  private readonly began: number;
  private readonly wallBefore: number;
  private readonly metrics: MetricsLog;
  private readonly window = new MetricWindow();
  private readonly progress: Progress;
  /** the last training record, with the halted-row metrics of the last one that had halted rows (latestTrainView) */
  private lastTrain: TrainRecord | null = null;
  /** the last training record in which rows halted */
  private lastHalted: TrainRecord | null = null;
  private lastEval: EvalRecord | null;

  constructor(
    private readonly o: SessionOptions,
    private readonly run: TrainLoop,
    /** the run's settings, with wall_s brought up to date at every save */
    private readonly meta: RunMeta,
    private readonly stopAt: number,
  ) {
    this.start = run.step;
    this.metrics = new MetricsLog(join(o.out, METRICS_FILE), { keepExisting: o.resume !== null, upToStep: this.start });
    this.began = performance.now();
    this.wallBefore = meta.wall_s;
    this.progress = new Progress(`train ${meta.preset ?? meta.model.task}`, Math.max(0, stopAt - this.start), {
      unit: 'steps',
      silent: o.quiet,
      stream: o.stream,
    });
    this.lastEval = this.metrics.lastEval() ?? null;
  }

  /** Trains to the stop step (or an abort), evaluates at the end unless interrupted, and saves. */
  async train(): Promise<SessionSummary> {
    const { run, o } = this;
    const interrupted = await this.loop();
    this.progress.finish();
    if (!interrupted) await this.evaluate();
    else {
      // The steps since the last record become one, so that a run continued with --resume leaves no gap.
      this.flushWindow();
      this.log(`interrupted at step ${run.step}: saving to ${o.out}`);
    }
    await this.save();
    const summary: SessionSummary = {
      step: run.step,
      totalSteps: this.meta.total_steps,
      wallSeconds: this.meta.wall_s,
      sessionSeconds: (performance.now() - this.began) / 1000,
      interrupted,
      lastTrain: this.lastTrain,
      lastEval: this.lastEval,
      out: o.out,
    };
    this.log(
      `trained ${run.step - this.start} steps in ${formatDuration(summary.sessionSeconds)}; checkpoint in ${o.out}`,
    );
    return summary;
  }

  /** The training loop, with an evaluation and a save every eval_every steps; true when an abort ended it. */
  private async loop(): Promise<boolean> {
    const { run, meta } = this;
    while (run.step < this.stopAt) {
      if (this.o.signal?.aborted) return true;
      // an engine that trains several steps per call never runs past the next evaluation or the stop step
      const untilEval = meta.eval_every > 0 ? meta.eval_every - (run.step % meta.eval_every) : Infinity;
      const called = performance.now();
      const reports = run.trainSteps
        ? await run.trainSteps(Math.min(untilEval, this.stopAt - run.step))
        : [await run.trainStep()];
      // each step's share of the call, for the logged rates (evaluations and saves between calls are not training)
      const share = (performance.now() - called) / 1000 / Math.max(1, reports.length);
      // On wasm and cpu a step never waits for I/O, so without this the loop would starve the event loop and a
      // Ctrl-C (a signal event) would not be seen until the end of the run.
      await yieldToEventLoop();
      for (const r of reports) {
        this.logSteps(r, share);
        this.progress.tick(1, progressFields(r.step, meta.total_steps, this.lastTrain));
        const evalDue = meta.eval_every > 0 && r.step % meta.eval_every === 0 && r.step < this.stopAt;
        if (evalDue) {
          await this.evaluate();
          await this.save();
        }
      }
    }
    return false;
  }

  /** Adds the step to the window; every logEvery steps (and at the stop step) the window becomes one record. */
  private logSteps(r: StepReport, seconds: number): void {
    this.window.add(r, seconds);
    if (this.window.size < this.o.logEvery && r.step !== this.stopAt) return;
    this.flushWindow();
  }

  /** The steps of the window as one training record (nothing when it is empty). */
  private flushWindow(): void {
    if (this.window.size === 0) return;
    const record = this.window.flush(this.run.epochs, this.wall());
    if (record) {
      if (record.count > 0) this.lastHalted = record;
      this.lastTrain = latestTrainView(record, this.lastHalted);
      this.metrics.append(record);
    }
  }

  /** Seconds of training of the whole run, earlier sessions included. */
  private wall(): number {
    return this.wallBefore + (performance.now() - this.began) / 1000;
  }

  private log(line: string): void {
    this.progress.log(line);
  }

  /** Evaluates on the test split (when there is one), logs and records the result. */
  private async evaluate(): Promise<void> {
    const { run, meta, o } = this;
    if (!o.test) return;
    const t0 = performance.now();
    const r = await run.evaluate(o.test, {
      batchSize: run.batchSize,
      limit: meta.eval_examples > 0 ? meta.eval_examples : undefined,
    });
    this.lastEval = { kind: 'eval', split: 'test', step: run.step, time_s: this.wall(), ...r };
    this.metrics.append(this.lastEval);
    this.log(
      `eval step ${run.step}: exact ${(100 * r.exact_accuracy).toFixed(1)} % at ${meta.model.halt_max_steps} steps, ${(100 * r.exact_accuracy_halted).toFixed(1)} % with halting (${r.steps_halted.toFixed(2)} steps) on ${r.examples} test examples [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
    );
  }

  /** The checkpoint with its model card, then the curves beside it. */
  private async save(): Promise<void> {
    const { run, meta, o } = this;
    meta.wall_s = this.wall();
    const evals: SplitAccuracy[] = this.lastEval ? [this.lastEval] : [];
    const facts: CardFacts = {
      title: `TRM ${meta.preset ?? meta.model.task}`,
      preset: meta.preset,
      model: meta.model,
      train: meta.train,
      data: cardData(meta),
      steps: run.step,
      totalSteps: meta.total_steps,
      wallSeconds: meta.wall_s,
      backend: meta.backend,
      machine: o.machine,
      command: o.command,
      trainMetrics: this.lastTrain,
      evals,
    };
    await saveCheckpoint({ dir: o.out, run, meta, card: modelCard(facts), identifiers: o.identifiers });
    writeFileSync(
      join(o.out, CURVES_FILE),
      trainingCurvesSvg(this.metrics.records, meta.preset ?? '', meta.model.halt_max_steps),
    );
  }
}

export async function runSession(o: SessionOptions): Promise<SessionSummary> {
  const meta = structuredClone(o.meta);
  await mkdir(o.out, { recursive: true });
  const runOptions: RunOptions = {
    model: meta.model,
    train: meta.train,
    totalSteps: meta.total_steps,
    data: o.train,
    weights: o.resume?.weights ?? o.initWeights,
  };
  const run = o.openRun ? await o.openRun(runOptions) : new TrainingRun(runOptions);
  try {
    if (o.resume) run.importState(o.resume.json, o.resume.arrays);
    const stopAt = Math.min(o.stopAt ?? meta.total_steps, meta.total_steps);
    return await new Session(o, run, meta, stopAt).train();
  } finally {
    await run.dispose();
  }
}
