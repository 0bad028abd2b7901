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
import { type RunOptions, type TrainLoop, TrainingRun } from './training-run.js';
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
    const start = run.step;
    const stopAt = Math.min(o.stopAt ?? meta.total_steps, meta.total_steps);
    const metrics = new MetricsLog(join(o.out, METRICS_FILE), { keepExisting: o.resume !== null, upToStep: start });
    const window = new MetricWindow();
    const began = performance.now();
    const wallBefore = meta.wall_s;
    const wall = () => wallBefore + (performance.now() - began) / 1000;
    const progress = new Progress(`train ${meta.preset ?? meta.model.task}`, Math.max(0, stopAt - start), {
      unit: 'steps',
      silent: o.quiet,
      stream: o.stream,
    });
    const log = (line: string) => progress.log(line);
    let lastTrain: TrainRecord | null = null;
    let lastEval: EvalRecord | null = metrics.lastEval() ?? null;

    const writeCurves = () =>
      writeFileSync(
        join(o.out, CURVES_FILE),
        trainingCurvesSvg(metrics.records, meta.preset ?? '', meta.model.halt_max_steps),
      );
    const doEval = async () => {
      if (!o.test) return;
      const t0 = performance.now();
      const r = await run.evaluate(o.test, {
        batchSize: run.batchSize,
        limit: meta.eval_examples > 0 ? meta.eval_examples : undefined,
      });
      lastEval = { kind: 'eval', split: 'test', step: run.step, time_s: wall(), ...r };
      metrics.append(lastEval);
      log(
        `eval step ${run.step}: exact ${(100 * r.exact_accuracy).toFixed(1)} % at ${meta.model.halt_max_steps} steps, ${(100 * r.exact_accuracy_halted).toFixed(1)} % with halting (${r.steps_halted.toFixed(2)} steps) on ${r.examples} test examples [${((performance.now() - t0) / 1000).toFixed(1)} s]`,
      );
    };
    const save = async () => {
      meta.wall_s = wall();
      const evals: SplitAccuracy[] = lastEval ? [lastEval] : [];
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
        trainMetrics: lastTrain,
        evals,
      };
      await saveCheckpoint({ dir: o.out, run, meta, card: modelCard(facts), identifiers: o.identifiers });
      writeCurves();
    };

    let interrupted = false;
    while (run.step < stopAt) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      const r = await run.trainStep();
      // On wasm and cpu a step never waits for I/O, so without this the loop would starve the event loop and a
      // Ctrl-C (a signal event) would not be seen until the end of the run.
      await yieldToEventLoop();
      window.add(r);
      if (window.size >= o.logEvery || r.step === stopAt) {
        const record = window.flush(run.epochs, wall());
        if (record) {
          lastTrain = record;
          metrics.append(record);
        }
      }
      progress.tick(1, progressFields(r.step, meta.total_steps, lastTrain));
      const evalDue = meta.eval_every > 0 && r.step % meta.eval_every === 0 && r.step < stopAt;
      if (evalDue) {
        await doEval();
        await save();
      }
    }
    progress.finish();
    if (!interrupted) await doEval();
    else log(`interrupted at step ${run.step}: saving to ${o.out}`);
    await save();
    const summary: SessionSummary = {
      step: run.step,
      totalSteps: meta.total_steps,
      wallSeconds: meta.wall_s,
      sessionSeconds: (performance.now() - began) / 1000,
      interrupted,
      lastTrain,
      lastEval,
      out: o.out,
    };
    log(`trained ${run.step - start} steps in ${formatDuration(summary.sessionSeconds)}; checkpoint in ${o.out}`);
    return summary;
  } finally {
    await run.dispose();
  }
}
