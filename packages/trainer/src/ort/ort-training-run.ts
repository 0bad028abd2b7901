// A training run whose every step is one ONNX Runtime run of the generated training graph per device (CUDA,
// WebGPU or CPU provider), with the loop of TRM-SPEC §3-5 exactly as the tfjs TrainingRun has it: the same
// sampler, carry bookkeeping, halting with exploration, optimiser, sign-SGD of the puzzle rows and EMA, and the
// same saved state, so a run can move between the two backends. The weights, moments and EMA live in host memory
// (onnxruntime-node returns every output there); with several devices, each takes a contiguous share of the
// batch's rows and their gradients are summed on the host (the loss is already scaled by 1 / global batch).
import { f16ToF32, f32ToF16, type ModelConfig, Rng, stateLen } from '@trm/core';
import { admitRows } from '../act/admit.js';
import {
  beginStep,
  countHalted,
  endStep,
  type HaltRule,
  initialSlots,
  type SlotState,
  type StepEnd,
} from '../act/slots.js';
import type { RunStateArrays, RunStateJson } from '../checkpoint/run-state.js';
import type { HostBatch } from '../data/batch.js';
import type { SplitSource } from '../data/split.js';
import { TrainSampler } from '../data/train-sampler.js';
import { type EvalOptions, type EvalResult, evaluateSteps } from '../evaluate/evaluate.js';
import type { ActMetrics } from '../loss/act-loss.js';
import { type NamedArrays, PUZZLE_TABLE_NAME, TrmModel } from '../model/model.js';
import { PuzzleTable } from '../model/puzzle-table.js';
import { type DeviceUpdate, HostOptimizer } from '../optim/host-optim.js';
import { DynamicLossScale } from '../optim/loss-scale.js';
import {
  loopStateJson,
  restoredSlots,
  runSeeds,
  scheduledLr,
  trainingHaltRule,
  updatePuzzleRows,
} from '../run/loop-parts.js';
import type { RunOptions, StepReport, TrainLoop } from '../run/training-run.js';
import { OrtEvalSession } from './eval-step.js';
import { deviceUpdate, type OptimizerPlace } from './optimizer-update.js';
import type { NoGradForm, TrainCarry, TrainOps, TrainPrecision, TrainStepsForm } from '@trm/graph';
import { type MultiStepResult, OrtMultiStep } from './multi-step.js';
import { type CarryArray, isOutOfMemory, type OrtProvider, type OrtStepResult, OrtTrainStep } from './train-step.js';

export interface OrtRunOptions extends RunOptions {
  provider: OrtProvider;
  /** devices (one session each) the batch is split over; default 1 */
  devices?: number;
  /**
   * sessions per device (default 1): with 2, a device's rows are split over two sessions in worker threads that run
   * at once, so that one's host transfers overlap the other's kernels
   */
  lanes?: number;
  /** intra-op threads per CPU session */
  threads?: number;
  /** worker threads of the host optimiser (default: 1, the calling thread) */
  optimizerThreads?: number;
  /**
   * Rows per session run (default: a device's whole share). A smaller value runs a device's share in several runs
   * whose gradients are summed (gradient accumulation): the same step in less device memory.
   */
  microBatch?: number;
  /** arithmetic of the training graph (default fp32); fp16 scales the loss dynamically */
  precision?: TrainPrecision;
  /** where the optimiser and EMA update runs: on the host (default) or as a graph on the first device */
  optimizerOn?: OptimizerPlace;
  /** op forms of the recursions outside the gradient (default DEFAULT_NO_GRAD_FORM) */
  noGradForm?: NoGradForm;
  /** op forms of the differentiated part of the training graph (default TRAIN_OPS's) */
  trainOps?: Partial<TrainOps>;
  /**
   * graph runs write into output buffers kept from step to step (single-device runs; default on: 3-7 % faster
   * on the CPU provider, BENCHMARKS.md)
   */
  reuseOutputs?: boolean;
  /** element type of the carry on the host and in the graph (default: float16 in fp16, else float32) */
  carry?: TrainCarry;
  /**
   * Optimiser steps per graph run (default 1). With K > 1 one run of a graph of K steps trains them (see
   * ort/multi-step.ts): the carry, weights, moments, EMA and loss scale stay on the device between them. One
   * device, the whole batch per run, the optimiser in the graph; not with `freeze`.
   */
  stepsPerRun?: number;
  /** with stepsPerRun > 1: the steps as one ONNX Loop (default) or unrolled (see multi-step-graph.ts) */
  stepsForm?: TrainStepsForm;
  /** ONNX Runtime's profiler on the training sessions, written under this prefix (device d: `<prefix>-d<d>`) */
  profilePrefix?: string;
}

/** Where the time of the last step went (seconds). */
export interface StepTiming {
  /** session.run of every device (graph + host transfers) */
  run: number;
  /** optimiser, EMA and sign-SGD on the host */
  optimizer: number;
  /** everything else on the host (data, carry, halting, metrics) */
  host: number;
}

/** Row ranges [from, to) of `n` rows over `parts` devices (the first ones take the remainder). */
export function shareRows(n: number, parts: number): [number, number][] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  const out: [number, number][] = [];
  let from = 0;
  for (let i = 0; i < parts; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push([from, from + size]);
    from += size;
  }
  return out;
}

export class OrtTrainingRun implements TrainLoop {
  readonly config: ModelConfig;
  readonly batchSize: number;
  readonly lastTiming: StepTiming = { run: 0, optimizer: 0, host: 0 };
  /** H_init, L_init (never trained) */
  private readonly buffers: NamedArrays;
  readonly table: PuzzleTable | null;
  private readonly sampler: TrainSampler;
  private readonly exploreRng: Rng;
  private readonly optim: HostOptimizer;
  private readonly rule: HaltRule;
  private slots: SlotState;
  /** the carry, float32 or (carry fp16) float16 bits */
  private zH: CarryArray;
  private zL: CarryArray;
  private data: HostBatch | null = null;
  private steps = 0;
  /** float16 graphs only */
  readonly lossScale: DynamicLossScale | null;

  private constructor(
    private readonly opts: OrtRunOptions,
    weights: NamedArrays,
    private readonly sessions: OrtTrainStep[],
    device: DeviceUpdate | undefined,
    /** the graph of several steps per run, in place of `sessions` */
    private multi: OrtMultiStep | null = null,
    /** opens `multi` again (after an evaluation that needed its device memory) */
    private readonly reopenMulti: (() => Promise<OrtMultiStep>) | null = null,
  ) {
    this.config = opts.model;
    this.batchSize = opts.model.batch_size;
    const initial: NamedArrays = {};
    const first = multi ?? sessions[0]!;
    for (const n of first.params) initial[n] = weights[n]!;
    this.buffers = { H_init: weights.H_init!, L_init: weights.L_init! };
    const t = weights[PUZZLE_TABLE_NAME];
    this.table = t ? new PuzzleTable(t.shape[0]!, t.shape[1]!, t.data.slice()) : null;
    const s = runSeeds(opts.train.seed);
    this.sampler = new TrainSampler(opts.data, this.batchSize, s.sampler);
    this.exploreRng = new Rng(s.explore);
    const tc = opts.train;
    const hyper = { beta1: tc.beta1, beta2: tc.beta2, weightDecay: tc.weight_decay };
    this.optim = new HostOptimizer(initial, {
      optimizer: opts.freeze ? null : tc.optimizer,
      hyper,
      emaRate: opts.freeze || !tc.ema ? null : tc.ema_rate,
      threads: opts.optimizerThreads,
      device,
      external: multi !== null,
    });
    this.rule = trainingHaltRule(opts.model);
    if (!this.rule.noActContinue) throw new Error('the ONNX Runtime backend trains with no_ACT_continue = true only');
    this.slots = initialSlots(this.batchSize);
    const stateSize = this.batchSize * stateLen(this.config) * this.config.hidden_size;
    const half = first.carry === 'fp16';
    this.zH = half ? new Uint16Array(stateSize) : new Float32Array(stateSize);
    this.zL = half ? new Uint16Array(stateSize) : new Float32Array(stateSize);
    this.lossScale = first.precision === 'fp16' ? new DynamicLossScale() : null;
  }

  /**
   * Opens the sessions. Without `opts.weights` the model starts from the seeded initialisation of the tfjs model
   * (TrmModel.create, on tfjs's active backend), so both backends start from the same weights for a seed.
   */
  static async create(opts: OrtRunOptions): Promise<OrtTrainingRun> {
    if (opts.data.metadata.seq_len !== opts.model.seq_len)
      throw new Error(`the data has seq_len ${opts.data.metadata.seq_len}, the model ${opts.model.seq_len}`);
    let weights = opts.weights;
    if (!weights) {
      const model = TrmModel.create(opts.model, opts.train.seed);
      weights = await model.exportWeights();
      model.dispose();
    }
    const K = opts.stepsPerRun ?? 1;
    if (!Number.isInteger(K) || K < 1) throw new Error(`stepsPerRun must be a positive integer (got ${K})`);
    if (K > 1) return OrtTrainingRun.createMulti(opts, weights, K);
    const devices = opts.devices ?? 1;
    if (!Number.isInteger(devices) || devices < 1)
      throw new Error(`devices must be a positive integer (got ${devices})`);
    const lanes = opts.lanes ?? 1;
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`lanes must be a positive integer (got ${lanes})`);
    const total = devices * lanes;
    if (total > opts.model.batch_size)
      throw new Error(
        `the batch (${opts.model.batch_size}) must have at least one row per session (${devices} device(s) x ${lanes} lane(s))`,
      );
    const sessions: OrtTrainStep[] = [];
    for (let d = 0; d < total; d++)
      sessions.push(
        await OrtTrainStep.create(opts.model, weights, {
          provider: opts.provider,
          deviceId: opts.provider === 'cpu' ? undefined : Math.floor(d / lanes),
          threads: opts.threads,
          precision: opts.precision,
          noGradForm: opts.noGradForm,
          trainOps: opts.trainOps,
          reuseOutputs: opts.reuseOutputs ?? true,
          carry: opts.carry,
          profilePrefix: opts.profilePrefix ? `${opts.profilePrefix}-d${d}` : undefined,
          worker: total > 1,
        }),
      );
    // The optimiser on the device: the update graph in a session of the first device's provider.
    const tc = opts.train;
    const device =
      opts.optimizerOn === 'device' && !opts.freeze
        ? await deviceUpdate(tc.optimizer, tc.ema, { provider: opts.provider, deviceId: 0, threads: opts.threads })
        : undefined;
    return new OrtTrainingRun(opts, weights, sessions, device);
  }

  /** A run of K > 1 steps per graph run: one device, the whole batch, the optimiser in the graph. */
  private static async createMulti(opts: OrtRunOptions, weights: NamedArrays, K: number): Promise<OrtTrainingRun> {
    const refuse = (why: string): never => {
      throw new Error(`several steps per run (${K}) ${why}`);
    };
    if ((opts.devices ?? 1) > 1 || (opts.lanes ?? 1) > 1) refuse('run on one device in one session');
    if (opts.microBatch !== undefined && opts.microBatch < opts.model.batch_size)
      refuse('take the whole batch per run (no --micro-batch)');
    if (opts.freeze) refuse('do not adapt puzzle rows alone');
    if (opts.optimizerOn === 'device') refuse('have the optimiser in their graph already (no --optimizer-on device)');
    const tc = opts.train;
    const rule = trainingHaltRule(opts.model);
    const scale = new DynamicLossScale();
    const precision = opts.precision ?? 'fp32';
    const table = weights[PUZZLE_TABLE_NAME];
    // kept for reopening the graph: the puzzle table is an input of each run, not part of the graph
    const { [PUZZLE_TABLE_NAME]: _table, ...graphWeights } = weights;
    const open = () =>
      OrtMultiStep.create(opts.model, graphWeights, {
        provider: opts.provider,
        deviceId: opts.provider === 'cpu' ? undefined : 0,
        threads: opts.threads,
        precision,
        noGradForm: opts.noGradForm,
        trainOps: opts.trainOps,
        carry: opts.carry,
        profilePrefix: opts.profilePrefix ? `${opts.profilePrefix}-d0` : undefined,
        steps: K,
        form: opts.stepsForm,
        optimizer: tc.optimizer,
        ema: tc.ema,
        hyper: { beta1: tc.beta1, beta2: tc.beta2, eps: 1e-8, emaRate: tc.ema_rate },
        maxSteps: rule.maxSteps,
        learnedHalt: rule.training && rule.maxSteps > 1,
        lossScale:
          precision === 'fp16' ? { growthInterval: scale.growthInterval, min: scale.min, max: scale.max } : null,
        puzzleRows: table ? table.shape[0]! : 0,
      });
    return new OrtTrainingRun(opts, weights, [], undefined, await open(), open);
  }

  get step(): number {
    return this.steps;
  }

  get epochs(): number {
    return this.sampler.epochs;
  }

  private lrAt(step: number, base: number): number {
    return scheduledLr(step, base, this.opts.train, this.opts.totalSteps);
  }

  /**
   * One optimiser step: admit new rows into the halted slots, run the training graph on the devices, apply the
   * gradients on the host, advance the halting, and keep the carry for the next step.
   */
  async trainStep(): Promise<StepReport> {
    if (this.multi) return (await this.trainSteps(1))[0]!;
    const t0 = performance.now();
    const B = this.batchSize;
    const incoming = this.sampler.next();
    if (this.opts.idMap) for (let i = 0; i < B; i++) incoming.puzzleIds[i] = this.opts.idMap[incoming.puzzleIds[i]!]!;
    const start = beginStep(this.slots);
    const data = admitRows(this.data, incoming, start.reset);
    const { merged, runSeconds } = await this.runDevices(data, start.reset);

    const t1 = performance.now();
    const step = this.steps + 1;
    const lr = this.lrAt(step, this.opts.train.lr);
    await this.applyGradients(merged, data.puzzleIds, step, lr);
    const t2 = performance.now();

    const end = endStep(start.steps, merged.qHalt, null, this.rule, this.exploreRng);
    const metrics = haltedMetrics(merged, end);
    this.zH = merged.zH;
    this.zL = merged.zL;
    this.data = data;
    this.slots = { steps: end.steps, halted: end.halted };
    this.steps = step;
    const t3 = performance.now();
    this.lastTiming.run = runSeconds;
    this.lastTiming.optimizer = (t2 - t1) / 1000;
    this.lastTiming.host = (t3 - t0) / 1000 - runSeconds - this.lastTiming.optimizer;
    return { step, lr, metrics, halted: countHalted(this.slots), batchSize: B };
  }

  /**
   * Up to `max` optimiser steps: with several steps per run, min(max, K) of them in one graph run (the session loop
   * asks for no more than it has until its next evaluation); otherwise one.
   */
  async trainSteps(max: number): Promise<StepReport[]> {
    if (!this.multi) return [await this.trainStep()];
    const t0 = performance.now();
    const K = this.multi.steps;
    const n = Math.max(1, Math.min(max, K));
    const B = this.batchSize;
    const S = this.config.seq_len;
    const tc = this.opts.train;
    const f = {
      tokens: new Int32Array(K * B * S),
      labels: new Int32Array(K * B * S),
      ids: new Int32Array(K * B),
      minHalt: new Float32Array(K * B),
      active: new Uint8Array(K),
      lr: new Float32Array(K),
      wdAlpha: new Float32Array(K),
      bc1Reciprocal: new Float32Array(K),
      bc2Sqrt: new Float32Array(K),
      puzzleLr: new Float32Array(K),
      puzzleDecay: new Float32Array(K),
    };
    // What does not depend on the data, drawn in the order the one-step loop draws it.
    const incoming: HostBatch[] = [];
    const lrs: number[] = [];
    const learned = this.rule.training && this.rule.maxSteps > 1;
    for (let j = 0; j < n; j++) {
      const batch = this.sampler.next();
      if (this.opts.idMap) for (let i = 0; i < B; i++) batch.puzzleIds[i] = this.opts.idMap[batch.puzzleIds[i]!]!;
      incoming.push(batch);
      f.tokens.set(batch.inputs, j * B * S);
      f.labels.set(batch.labels, j * B * S);
      f.ids.set(batch.puzzleIds, j * B);
      if (learned)
        for (let i = 0; i < B; i++) {
          const explore = this.exploreRng.random() < this.rule.explorationProb;
          const draw = this.exploreRng.int(2, this.rule.maxSteps);
          f.minHalt[j * B + i] = explore ? draw : 0;
        }
      const step = this.steps + j + 1;
      const lr = this.lrAt(step, tc.lr);
      lrs.push(lr);
      f.lr[j] = lr;
      f.wdAlpha[j] = 1 - lr * tc.weight_decay;
      const lrRows = this.lrAt(step, tc.puzzle_emb_lr);
      f.puzzleLr[j] = lrRows;
      f.puzzleDecay[j] = Math.fround(1 - lrRows * tc.puzzle_emb_weight_decay);
      f.active[j] = 1;
    }
    for (let j = 0; j < K; j++) {
      const t = this.optim.step + j + 1;
      f.bc1Reciprocal[j] = 1 / (1 - tc.beta1 ** t);
      f.bc2Sqrt[j] = Math.sqrt(1 - tc.beta2 ** t);
    }
    const flat = this.optim.flatState();
    const data = this.data;
    const r = await this.multi.run({
      ...f,
      state: {
        tokens: data ? data.inputs : new Int32Array(B * S),
        labels: data ? data.labels : new Int32Array(B * S),
        ids: data ? data.puzzleIds : new Int32Array(B),
        steps: Float32Array.from(this.slots.steps),
        halted: this.slots.halted,
        zH: this.zH,
        zL: this.zL,
        p: flat.p,
        m: flat.m,
        v: flat.v,
        e: flat.e,
        scale: this.lossScale?.scale ?? 1,
        good: this.lossScale?.goodSteps ?? 0,
        table: this.table ? this.table.data : null,
      },
    });
    return this.afterMulti(r, incoming, lrs, t0);
  }

  /** Takes back a K-step run's state and makes one report per step it trained. */
  private afterMulti(r: MultiStepResult, incoming: HostBatch[], lrs: number[], began: number): StepReport[] {
    const B = this.batchSize;
    const n = incoming.length;
    const flat = this.optim.flatState();
    flat.p.set(r.state.p);
    flat.m.set(r.state.m);
    flat.v.set(r.state.v);
    if (this.opts.train.ema) flat.e.set(r.state.e);
    let applied = 0;
    for (let j = 0; j < n; j++) applied += r.applied[j]!;
    this.optim.updated(applied);
    if (this.lossScale) {
      this.lossScale.restore({ scale: r.state.scale, goodSteps: r.state.good });
      this.lossScale.skipped += n - applied;
    }
    if (this.table && r.state.table) this.table.data.set(r.state.table);
    this.zH = r.state.zH;
    this.zL = r.state.zL;
    const reports: StepReport[] = [];
    for (let j = 0; j < n; j++) {
      // the admission the graph made, replayed on the host's copy of the slots' samples
      this.data = admitRows(this.data, incoming[j]!, beginStep(this.slots).reset);
      const rows = (a: Float32Array) => a.subarray(j * B, (j + 1) * B);
      const end: StepEnd = {
        steps: Int32Array.from(rows(r.steps)),
        halted: Uint8Array.from(rows(r.halted)),
        minHalt: new Int32Array(B),
      };
      const metrics = haltedMetrics(
        {
          lmLoss: r.lmLoss[j]!,
          qHaltLoss: r.qHaltLoss[j]!,
          qHalt: rows(r.qHalt),
          rowCorrect: rows(r.rowCorrect),
          rowAccuracy: rows(r.rowAccuracy),
          rowCount: rows(r.rowCount),
        },
        end,
      );
      this.slots = { steps: end.steps, halted: end.halted };
      this.steps++;
      reports.push({ step: this.steps, lr: lrs[j]!, metrics, halted: countHalted(this.slots), batchSize: B });
    }
    // per step: the graph run (which includes the optimiser) and the host's share of the rest
    this.lastTiming.run = r.runSeconds / n;
    this.lastTiming.optimizer = 0;
    this.lastTiming.host = ((performance.now() - began) / 1000 - r.runSeconds) / n;
    return reports;
  }

  /**
   * The training graph on the batch: each device runs its share of the rows (in micro-batches, one after another),
   * the devices in parallel; their results merged as one batch's.
   */
  private async runDevices(data: HostBatch, reset: Uint8Array): Promise<{ merged: MergedResult; runSeconds: number }> {
    const B = this.batchSize;
    const S = this.config.seq_len;
    const LD = stateLen(this.config) * this.config.hidden_size;
    const E = this.config.puzzle_emb_ndim;
    const rows = this.table ? this.table.gather(data.puzzleIds) : null;
    const perDevice = shareRows(B, this.sessions.length).map(([from, to]) => {
      const micro = this.opts.microBatch ?? to - from;
      return shareRows(to - from, Math.ceil((to - from) / micro)).map(([a, b]): [number, number] => [
        from + a,
        from + b,
      ]);
    });
    const deviceResults = await Promise.all(
      perDevice.map(async (chunks, device) => {
        const out: OrtStepResult[] = [];
        for (const [slot, [from, to]] of chunks.entries())
          out.push(
            await this.sessions[device]!.run({
              slot,
              tokens: data.inputs.subarray(from * S, to * S),
              labels: data.labels.subarray(from * S, to * S),
              puzzleRows: rows ? rows.subarray(from * E, to * E) : null,
              reset: reset.subarray(from, to),
              zH: this.zH.subarray(from * LD, to * LD),
              zL: this.zL.subarray(from * LD, to * LD),
              lossScale: (this.lossScale?.scale ?? 1) / B,
              params: this.optim.params,
            }),
          );
        return out;
      }),
    );
    // Devices overlap: the step's graph time is that of the slowest device.
    const runSeconds = Math.max(...deviceResults.map((d) => d.reduce((a, r) => a + r.runSeconds, 0)));
    return { merged: mergeResults(deviceResults.flat(), perDevice.flat(), B, LD), runSeconds };
  }

  /**
   * The optimiser step on the weights and the sign-SGD step on the batch's puzzle rows. A float16 step whose
   * gradients overflowed changes no weight (the carry and the data still move on).
   */
  private async applyGradients(merged: MergedResult, puzzleIds: Int32Array, step: number, lr: number): Promise<void> {
    let finite = true;
    if (this.lossScale) {
      const all = Object.values(merged.grads);
      if (merged.puzzleGrad) all.push(merged.puzzleGrad);
      finite = this.lossScale.unscale(all);
      this.lossScale.update(finite);
    }
    if (!finite) return;
    await this.optim.apply(merged.grads, lr);
    const table = this.table;
    if (table && merged.puzzleGrad) {
      const lrRows = this.lrAt(step, this.opts.train.puzzle_emb_lr);
      const keep = this.opts.freeze?.trainableIds;
      const decay = this.opts.train.puzzle_emb_weight_decay;
      updatePuzzleRows(table, puzzleIds, merged.puzzleGrad, lrRows, decay, keep);
    }
  }

  /** The parameters to evaluate and save: the EMA shadow when EMA is on. */
  private evalParams(): NamedArrays {
    return this.optim.shadow ?? this.optim.params;
  }

  /**
   * Evaluates the parameters to save in a session of their own. Where that session finds no device memory left and a
   * graph of several steps per run holds it (ONNX Runtime's arena keeps the size of the graph's largest run: on an
   * 80 GB card, 16 steps of sudoku-mlp at batch 768 leave nothing), the training graph is closed for the evaluation
   * and opened again after it (about 2 s on an H200).
   */
  async evaluate(split: SplitSource, opts: EvalOptions): Promise<EvalResult> {
    try {
      return await this.evaluateOnce(split, opts);
    } catch (e) {
      if (!this.multi || !this.reopenMulti || !isOutOfMemory(e)) throw e;
      await this.multi.release();
      this.multi = null;
      try {
        return await this.evaluateOnce(split, opts);
      } finally {
        this.multi = await this.reopenMulti();
      }
    }
  }

  private async evaluateOnce(split: SplitSource, opts: EvalOptions): Promise<EvalResult> {
    const session = await OrtEvalSession.create(
      this.config,
      { ...this.buffers, ...this.evalParams() },
      { provider: this.opts.provider, threads: this.opts.threads },
    );
    try {
      return await evaluateSteps(session.stepper(this.table), this.config.halt_max_steps, split, opts);
    } finally {
      await session.release();
    }
  }

  async folderWeights(): Promise<NamedArrays> {
    const out: NamedArrays = { ...this.buffers, ...this.evalParams() };
    if (this.table) out[PUZZLE_TABLE_NAME] = { shape: [this.table.rows, this.table.dim], data: this.table.data };
    return out;
  }

  async exportState(): Promise<{ json: RunStateJson; arrays: RunStateArrays }> {
    const optimizer = this.optim.exportState();
    const shape = [this.batchSize, stateLen(this.config), this.config.hidden_size];
    const carry = this.data
      ? { zH: { shape, data: wideCarry(this.zH) }, zL: { shape, data: wideCarry(this.zL) }, data: this.data }
      : null;
    const params: NamedArrays = {};
    for (const [k, t] of Object.entries(this.optim.params))
      params[k] = { shape: t.shape.slice(), data: t.data.slice() };
    const ema = this.optim.shadow;
    return {
      json: {
        ...loopStateJson({
          step: this.steps,
          sampler: this.sampler.cursor(),
          exploreRng: this.exploreRng.getState(),
          slots: this.slots,
          optimizer,
          hasCarry: carry !== null,
        }),
        ...(this.lossScale ? { lossScale: this.lossScale.state() } : {}),
      },
      arrays: {
        params,
        ema,
        optimizer: optimizer?.tensors ?? {},
        carry,
      },
    };
  }

  importState(json: RunStateJson, arrays: RunStateArrays): void {
    const slots = restoredSlots(json, this.batchSize, arrays.carry !== null);
    const usesEma = this.opts.train.ema && !this.opts.freeze;
    if (usesEma && !arrays.ema) throw new Error('the saved state has no EMA shadow, but this run uses EMA');
    this.optim.importParams(arrays.params, usesEma ? arrays.ema : null);
    const name = this.optim.name;
    if (name) {
      if (!json.optimizer || json.optimizer.name !== name)
        throw new Error(`the saved optimiser is ${json.optimizer?.name ?? 'none'}, this run uses ${name}`);
      this.optim.importState({ name, step: json.optimizer.step, tensors: arrays.optimizer });
    }
    // A float32 save continued in float16 starts from the initial scale.
    if (this.lossScale && json.lossScale) this.lossScale.restore(json.lossScale);
    this.sampler.restore(json.sampler);
    this.exploreRng.setState(json.exploreRng);
    this.slots = slots;
    this.data = null;
    this.zH.fill(0);
    this.zL.fill(0);
    if (arrays.carry) {
      // saved as float32 whatever the carry's type in the graph
      const load = (data: Float32Array) =>
        (this.multi ?? this.sessions[0]!).carry === 'fp16' ? f32ToF16(data) : Float32Array.from(data);
      this.zH = load(arrays.carry.zH.data);
      this.zL = load(arrays.carry.zL.data);
      this.data = arrays.carry.data;
    }
    this.steps = json.step;
  }

  async dispose(): Promise<void> {
    await this.optim.dispose();
    for (const s of this.sessions) await s.release();
    await this.multi?.release();
  }
}

type MergedResult = Omit<OrtStepResult, 'runSeconds'>;

/** The step's metrics over the rows that halted (those with labelled cells), the losses over the whole batch. */
function haltedMetrics(
  merged: Pick<MergedResult, 'lmLoss' | 'qHaltLoss' | 'qHalt' | 'rowCorrect' | 'rowAccuracy' | 'rowCount'>,
  end: StepEnd,
): ActMetrics {
  const metrics: ActMetrics = {
    count: 0,
    accuracy: 0,
    exact_accuracy: 0,
    q_halt_accuracy: 0,
    steps: 0,
    lm_loss: merged.lmLoss,
    q_halt_loss: merged.qHaltLoss,
  };
  for (let i = 0; i < end.halted.length; i++) {
    if (!end.halted[i] || merged.rowCount[i]! <= 0) continue;
    const ok = merged.rowCorrect[i]!;
    metrics.count++;
    metrics.accuracy += merged.rowAccuracy[i]!;
    metrics.exact_accuracy += ok;
    metrics.q_halt_accuracy += (merged.qHalt[i]! >= 0 ? 1 : 0) === ok ? 1 : 0;
    metrics.steps += end.steps[i]!;
  }
  return metrics;
}

/** A copy of the carry as float32 (the saved state's type). */
function wideCarry(z: CarryArray): Float32Array {
  return z instanceof Uint16Array ? f16ToF32(z) : z.slice();
}

/** The devices' results as one batch: rows concatenated, losses and gradients summed. */
function mergeResults(results: OrtStepResult[], shares: [number, number][], B: number, LD: number): MergedResult {
  if (results.length === 1) return results[0]!;
  const cat = <T extends Float32Array | Uint16Array>(pick: (r: OrtStepResult) => T, width: number): T => {
    const first = pick(results[0]!);
    const out = (first instanceof Uint16Array ? new Uint16Array(B * width) : new Float32Array(B * width)) as T;
    results.forEach((r, d) => {
      out.set(pick(r), shares[d]![0] * width);
    });
    return out;
  };
  const grads: Record<string, Float32Array> = {};
  for (const name of Object.keys(results[0]!.grads)) {
    const sum = results[0]!.grads[name]!.slice();
    for (let d = 1; d < results.length; d++) {
      const g = results[d]!.grads[name]!;
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + g[i]!;
    }
    grads[name] = sum;
  }
  const E = results[0]!.puzzleGrad ? results[0]!.puzzleGrad.length / (shares[0]![1] - shares[0]![0]) : 0;
  return {
    zH: cat((r) => r.zH, LD),
    zL: cat((r) => r.zL, LD),
    qHalt: cat((r) => r.qHalt, 1),
    lmLoss: results.reduce((a, r) => a + r.lmLoss, 0),
    qHaltLoss: results.reduce((a, r) => a + r.qHaltLoss, 0),
    rowCorrect: cat((r) => r.rowCorrect, 1),
    rowAccuracy: cat((r) => r.rowAccuracy, 1),
    rowCount: cat((r) => r.rowCount, 1),
    grads,
    puzzleGrad: E ? cat((r) => r.puzzleGrad!, E) : null,
  };
}
