// The records of a run's metrics.jsonl, one JSON object a line: a `train` record per logging window and an `eval`
// record per evaluation. The metrics log writes them and the training curves plot them.
import type { EvalResult } from '../evaluate/evaluate.js';

export interface TrainRecord {
  kind: 'train';
  step: number;
  epoch: number;
  lr: number;
  /** seconds of training so far (resumed runs included) */
  time_s: number;
  /** batch rows processed per second over the window */
  samples_per_s: number;
  steps_per_s: number;
  /** rows that halted in the window (the rows the accuracies below count) */
  count: number;
  accuracy: number;
  exact_accuracy: number;
  q_halt_accuracy: number;
  /** mean supervision steps of the rows that halted */
  steps: number;
  /** loss per row, averaged over the window's steps */
  lm_loss: number;
  q_halt_loss: number;
  /** fraction of slots that halted per step */
  halt_rate: number;
}

export interface EvalRecord extends EvalResult {
  kind: 'eval';
  step: number;
  split: string;
  time_s: number;
}

export type MetricRecord = TrainRecord | EvalRecord;
