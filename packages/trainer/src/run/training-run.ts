// One training run, the loop of TRM-SPEC §3-§5 in one place: each optimiser step is one supervision step on the
// persistent carry. Halted slots take the sampler's new rows and restart from H_init/L_init; every row counts in
// the loss (divided by the batch size); AdamATan2 (or AdamW) updates the weights, sparse sign-SGD the puzzle rows
// of the batch, and the EMA shadow follows the weights. The whole state (weights, moments, EMA, carry, data
// cursor, RNG states) can be exported and imported, so a resumed run continues exactly.
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, Rng, type TrainConfig } from '@trm/core';
import { admitRows } from '../act/admit.js';
import { beginStep, countHalted, endStep, type HaltRule, initialSlots, type SlotState } from '../act/slots.js';
import type { RunStateArrays, RunStateJson } from '../checkpoint/run-state.js';
import type { HostBatch } from '../data/batch.js';
import type { SplitSource } from '../data/split.js';
import { TrainSampler } from '../data/train-sampler.js';
import { type ActMetrics, actMetricSums, readMetrics } from '../loss/act-loss.js';
import { type EvalOptions, type EvalResult, evaluate } from '../evaluate/evaluate.js';
import { type NamedArrays, PUZZLE_TABLE_NAME, TrmModel } from '../model/model.js';
import type { TrmNet } from '../model/net.js';
import { type Carry, initialCarry, resetCarry } from '../model/step.js';
import { AdamAtan2 } from '../optim/adam-atan2.js';
import { AdamW } from '../optim/adamw.js';
import { Ema } from '../optim/ema.js';
import type { DenseOptimizer, OptimizerState } from '../optim/optimizer.js';
import { forwardBackward } from '../train/forward-backward.js';
import {
  loopStateJson,
  restoredSlots,
  runSeeds,
  scheduledLr,
  trainingHaltRule,
  updatePuzzleRows,
} from './loop-parts.js';

export interface RunOptions {
  /** validated; batch_size is the batch the run trains on */
  model: ModelConfig;
  train: TrainConfig;
  /** optimiser steps of the whole run (the LR schedule's horizon) */
  totalSteps: number;
  data: SplitSource;
  /** start from these weights (reference names) instead of the seeded initialisation */
  weights?: NamedArrays;
  /**
   * Test-time adaptation (the reference's freeze_weights): weights, optimiser and EMA stay fixed and only the
   * puzzle-table rows listed here learn.
   */
  freeze?: { trainableIds: ReadonlySet<number> };
  /** maps the data's puzzle identifiers to rows of the model's table (adaptation to new ids) */
  idMap?: Int32Array;
}

export interface StepReport {
  /** optimiser steps done, this one included */
  step: number;
  lr: number;
  /** the reference's metric sums over the rows that halted this step (losses summed over every row) */
  metrics: ActMetrics;
  /** slots that halted this step */
  halted: number;
  batchSize: number;
}

/** What the session and the checkpoints need of a training run, whatever runs its steps (tfjs, ONNX Runtime). */
export interface TrainLoop {
  readonly config: ModelConfig;
  readonly batchSize: number;
  /** optimiser steps done */
  readonly step: number;
  readonly epochs: number;
  trainStep(): Promise<StepReport>;
  /** up to `max` steps at once, where the engine runs several per call (the ONNX Runtime graph of K steps) */
  trainSteps?(max: number): Promise<StepReport[]>;
  /** evaluates the EMA model (the live one without EMA) on a split */
  evaluate(split: SplitSource, opts: EvalOptions): Promise<EvalResult>;
  exportState(): Promise<{ json: RunStateJson; arrays: RunStateArrays }>;
  /** the tensors of the model folder: EMA (or live) parameters, H_init/L_init, the puzzle table */
  folderWeights(): Promise<NamedArrays>;
  importState(json: RunStateJson, arrays: RunStateArrays): void;
  dispose(): void | Promise<void>;
}

export class TrainingRun implements TrainLoop {
  readonly model: TrmModel;
  readonly config: ModelConfig;
  readonly train: TrainConfig;
  readonly batchSize: number;
  private readonly sampler: TrainSampler;
  private readonly exploreRng: Rng;
  private readonly optimizer: DenseOptimizer | null;
  private readonly ema: Ema | null;
  private readonly rule: HaltRule;
  private slots: SlotState;
  private carry: Carry | null = null;
  private data: HostBatch | null = null;
  private steps = 0;

  constructor(private readonly opts: RunOptions) {
    this.config = opts.model;
    this.train = opts.train;
    this.batchSize = opts.model.batch_size;
    if (opts.data.metadata.seq_len !== opts.model.seq_len)
      throw new Error(`the data has seq_len ${opts.data.metadata.seq_len}, the model ${opts.model.seq_len}`);
    this.model = opts.weights
      ? TrmModel.fromWeights(opts.model, opts.weights)
      : TrmModel.create(opts.model, opts.train.seed);
    const s = runSeeds(opts.train.seed);
    this.sampler = new TrainSampler(opts.data, this.batchSize, s.sampler);
    this.exploreRng = new Rng(s.explore);
    const t = opts.train;
    const hyper = { beta1: t.beta1, beta2: t.beta2, weightDecay: t.weight_decay };
    this.optimizer = opts.freeze ? null : t.optimizer === 'adamw' ? new AdamW(hyper) : new AdamAtan2(hyper);
    const trained = new Map(this.model.trainableNames.map((n) => [n, this.model.variables.get(n)!]));
    this.ema = opts.freeze || !t.ema ? null : new Ema(trained, t.ema_rate);
    this.rule = trainingHaltRule(opts.model);
    this.slots = initialSlots(this.batchSize);
  }

  /** Optimiser steps done. */
  get step(): number {
    return this.steps;
  }

  get epochs(): number {
    return this.sampler.epochs;
  }

  lrAt(step: number, base: number): number {
    return scheduledLr(step, base, this.train, this.opts.totalSteps);
  }

  /** The net to evaluate: the EMA shadow in place of the weights when EMA is on. */
  evalNet(): TrmNet {
    return this.ema ? this.model.withParams(this.ema.params()) : this.model;
  }

  evaluate(split: SplitSource, opts: EvalOptions): Promise<EvalResult> {
    return evaluate(this.evalNet(), this.model.puzzleTable, split, opts);
  }

  async folderWeights(): Promise<NamedArrays> {
    const ema = this.ema ? await this.ema.exportState() : null;
    const weights: NamedArrays = {};
    for (const [name, v] of this.model.variables)
      weights[name] = ema?.[name] ?? { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
    const table = this.model.puzzleTable;
    if (table) weights[PUZZLE_TABLE_NAME] = { shape: [table.rows, table.dim], data: table.data };
    return weights;
  }

  /** One supervision step = one optimiser step. */
  async trainStep(): Promise<StepReport> {
    const B = this.batchSize;
    const S = this.config.seq_len;
    const incoming = this.sampler.next();
    if (this.opts.idMap) for (let i = 0; i < B; i++) incoming.puzzleIds[i] = this.opts.idMap[incoming.puzzleIds[i]!]!;
    const start = beginStep(this.slots);
    const data = admitRows(this.data, incoming, start.reset);
    const previous = this.carry ?? initialCarry(this.model, B);
    const carry = resetCarry(this.model, previous, Array.from(start.reset, Boolean));
    tf.dispose([previous.zH, previous.zL]);

    const tokens = tf.tensor2d(data.inputs, [B, S], 'int32');
    const labels = tf.tensor2d(data.labels, [B, S], 'int32');
    const table = this.model.puzzleTable;
    const puzzleRows = table ? table.gatherTensor(data.puzzleIds) : null;
    const fb = forwardBackward(this.model, carry, { tokens, labels, puzzleRows }, { lossScale: 1 / B });
    tf.dispose([carry.zH, carry.zL]);

    const step = this.steps + 1;
    const lr = this.lrAt(step, this.train.lr);
    if (this.optimizer) this.optimizer.apply(this.model.variables, fb.grads, lr);
    if (table && fb.puzzleGrad) {
      const rowGrads = (await fb.puzzleGrad.data()) as Float32Array;
      const lrRows = this.lrAt(step, this.train.puzzle_emb_lr);
      const keep = this.opts.freeze?.trainableIds;
      updatePuzzleRows(table, data.puzzleIds, rowGrads, lrRows, this.train.puzzle_emb_weight_decay, keep);
    }
    this.ema?.update(this.model.variables);

    const qHalt = await fb.qHalt.data();
    const qContinue = this.rule.noActContinue ? null : await fb.qContinue.data();
    const end = endStep(start.steps, qHalt, qContinue, this.rule, this.exploreRng);
    const sums = tf.tidy(() =>
      actMetricSums({
        logits: fb.logits,
        labels,
        qHalt: fb.qHalt,
        halted: tf.tensor1d(end.halted, 'bool'),
        steps: tf.tensor1d(end.steps, 'float32'),
        lmLoss: fb.loss.lmLoss,
        qHaltLoss: fb.loss.qHaltLoss,
      }),
    );
    const metrics = await readMetrics(sums);

    tf.dispose([
      tokens,
      labels,
      fb.logits,
      fb.qHalt,
      fb.qContinue,
      ...Object.values(fb.loss),
      ...Object.values(fb.grads),
    ]);
    if (puzzleRows) puzzleRows.dispose();
    if (fb.puzzleGrad) fb.puzzleGrad.dispose();
    this.carry = fb.carry;
    this.data = data;
    this.slots = { steps: end.steps, halted: end.halted };
    this.steps = step;
    return { step, lr, metrics, halted: countHalted(this.slots), batchSize: B };
  }

  /** The state to save beside the weights (see RunStateJson / RunStateArrays). */
  async exportState(): Promise<{ json: RunStateJson; arrays: RunStateArrays }> {
    const params: NamedArrays = {};
    for (const name of this.model.trainableNames) {
      const v = this.model.variables.get(name)!;
      params[name] = { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
    }
    const optimizer: OptimizerState | null = this.optimizer ? await this.optimizer.exportState() : null;
    const carry =
      this.carry && this.data
        ? {
            zH: { shape: this.carry.zH.shape.slice(), data: (await this.carry.zH.data()) as Float32Array },
            zL: { shape: this.carry.zL.shape.slice(), data: (await this.carry.zL.data()) as Float32Array },
            data: this.data,
          }
        : null;
    return {
      json: loopStateJson({
        step: this.steps,
        sampler: this.sampler.cursor(),
        exploreRng: this.exploreRng.getState(),
        slots: this.slots,
        optimizer,
        hasCarry: carry !== null,
      }),
      arrays: {
        params,
        ema: this.ema ? await this.ema.exportState() : null,
        optimizer: optimizer?.tensors ?? {},
        carry,
      },
    };
  }

  /**
   * Continues from an exported state of a run with the same config, data and seed. The model must already hold
   * the checkpoint's buffers (H_init, L_init, puzzle table); the live weights come from `arrays.params`.
   */
  importState(json: RunStateJson, arrays: RunStateArrays): void {
    const slots = restoredSlots(json, this.batchSize, arrays.carry !== null);
    this.model.importWeights(arrays.params);
    if (this.ema) {
      if (!arrays.ema) throw new Error('the saved state has no EMA shadow, but this run uses EMA');
      this.ema.importState(arrays.ema);
    }
    if (this.optimizer) {
      if (!json.optimizer || json.optimizer.name !== this.optimizer.name)
        throw new Error(
          `the saved optimiser is ${json.optimizer?.name ?? 'none'}, this run uses ${this.optimizer.name}`,
        );
      this.optimizer.importState({ name: this.optimizer.name, step: json.optimizer.step, tensors: arrays.optimizer });
    }
    this.sampler.restore(json.sampler);
    this.exploreRng.setState(json.exploreRng);
    this.slots = slots;
    if (this.carry) tf.dispose([this.carry.zH, this.carry.zL]);
    this.carry = null;
    this.data = null;
    if (arrays.carry) {
      const { zH, zL, data } = arrays.carry;
      this.carry = {
        zH: tf.tensor3d(zH.data, zH.shape as [number, number, number]),
        zL: tf.tensor3d(zL.data, zL.shape as [number, number, number]),
      };
      this.data = data;
    }
    this.steps = json.step;
  }

  dispose(): void {
    if (this.carry) tf.dispose([this.carry.zH, this.carry.zL]);
    this.optimizer?.dispose();
    this.ema?.dispose();
    this.model.dispose();
  }
}
