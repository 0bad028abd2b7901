// The inference engine behind POST /solve: loads a model folder (config.json, model.onnx, the puzzle table; a
// folder shipped without model.onnx gets it built from weights.safetensors first, step-graph-file.ts),
// starts the inference workers on the execution provider `auto` or the caller picks, and serves solve requests
// through the continuous batcher. Engine.start resolves once every worker has loaded the model.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type ModelConfig, puzzleEmbLen, readModelConfig, stateLen } from '@trm/core';
import { MAX_STEPS_PER_RUN, type MultiStepForm } from '@trm/graph';
import { Batcher } from './batcher.js';
import { autoWorkers, DEVICE_MEMORY_QUERY, type GpuQuery, nvidiaSmi } from './gpu-memory.js';
import { checkGraphMatchesConfig, readStepGraphMetadata } from './onnx-metadata.js';
import { cpuThreadsPerWorker } from './providers.js';
import { PuzzleTable } from './puzzle-table.js';
import { unrecordedWeightsWarning } from './weights-checksum.js';
import { checkSolveRequest } from './solve-request.js';
import { stepGraphFile, WEIGHTS_FILE } from './step-graph-file.js';
import type { StepShape } from './step/step-function.js';
import type {
  EngineHealth,
  EngineInfo,
  EngineStats,
  ExecutionProviderChoice,
  SolveEngine,
  SolveRequest,
  SolveResult,
} from './types.js';
import type { WorkerInit } from './worker/protocol.js';
import { type WorkerEvent, WorkerLane } from './worker/worker-lane.js';

export const MODEL_FILE = 'model.onnx';

export interface EngineOptions {
  /** a model folder: config.json + model.onnx (+ weights.safetensors / puzzle_emb.safetensors, identifiers.json) */
  modelDir: string;
  /** the graph to load, relative to modelDir (default model.onnx) */
  modelFile?: string;
  /**
   * Which graph runs: `auto` (default): on the CUDA and WebGPU providers, a float16 graph built at load from the
   * folder's weights.safetensors with the op forms measured fastest there (fp16-graph.ts), where the folder has
   * the weights and no modelFile is named; model.onnx otherwise. `file`: always model.onnx (or modelFile).
   * `fp16`: the built float16 graph on every provider, the CPU included (needs weights.safetensors).
   */
  graph?: GraphChoice;
  executionProvider?: ExecutionProviderChoice;
  /**
   * worker threads, each with its own session and batch; `auto` on the CUDA provider: as many per device as fit in
   * gpuMemoryShare of its free memory (gpu-memory.ts), at most maxWorkersPerDevice; elsewhere one
   */
  workers?: number | 'auto';
  /** with workers `auto`: the share of each device's free memory (at start) the workers may take (default 0.8) */
  gpuMemoryShare?: number;
  /** with workers `auto`: the most workers a device gets (default 2) */
  maxWorkersPerDevice?: number;
  /** reads nvidia-smi (tests pass a fake) */
  gpuQuery?: GpuQuery;
  /** rows per worker batch */
  maxBatch?: number;
  /** puzzles waiting for a row beyond which solve() rejects with QueueFullError (0: no waiting, see Batcher) */
  maxQueue?: number;
  /** how long the first puzzle of an idle worker waits for others */
  maxWaitMs?: number;
  /** a puzzle that waited this long for a batch slot fails with QueueTimeoutError (HTTP 503); 0: no limit */
  queueTimeoutMs?: number;
  /** keep the recurrent state in GPU memory where the provider allows it (WebGPU) */
  stateOnDevice?: boolean;
  /**
   * supervision steps per session.run: the step graph is unrolled k times at load (unrollStepGraph), so the state
   * crosses to the host and the run is launched once per k steps. Answers, steps and halting are those of k = 1;
   * a puzzle that stops mid-run waits for the run's end, and a new one waits for the next run to start. Default:
   * the provider's (stepsPerRunOn: CUDA_STEPS_PER_RUN on CUDA, where it measured faster, 1 on the others).
   */
  stepsPerRun?: number;
  /**
   * How the graph of several steps per run is made: `loop` (an ONNX Loop whose body is the step; loads as fast as
   * one step) or `unrolled` (the step's nodes repeated; ONNX Runtime's load time grows with k squared).
   */
  stepsForm?: MultiStepForm;
  /**
   * With stepsPerRun k > 1: the most steps a run takes while puzzles wait for a row (1..k), so that rows freed by
   * halting are refilled sooner under load while a lone puzzle still takes k steps per call. Default k (no cap).
   */
  stepsWhenQueued?: number;
  /**
   * CUDA devices to spread the workers over: worker i runs on devices[i mod length] (one lane per GPU with as many
   * workers as devices). Default [0]. Ignored by the other providers.
   */
  devices?: number[];
  /** CPU provider threads per worker (default: the available cores split between the workers) */
  threads?: number;
  startTimeoutMs?: number;
  /** a step that takes longer marks its worker hung: it is terminated and replaced */
  stepTimeoutMs?: number;
  /**
   * failed replacements of a worker in a row after which the engine reports itself broken (health().live false,
   * /healthz 503); replacements go on being tried with exponential backoff
   */
  restartAttempts?: number;
  /** the wait before retrying a failed replacement, doubled at every failure in a row up to restartBackoffMaxMs */
  restartBackoffMs?: number;
  restartBackoffMaxMs?: number;
  /** worker deaths, replacements and failed replacements (for the server log) */
  onWorkerEvent?: (event: WorkerEvent) => void;
  /** what the engine found worth a warning, e.g. a graph without a checksum of its weights (default: stderr) */
  onWarning?: (message: string) => void;
  /** what the engine did that the log should say, e.g. model.onnx built from the weights (default: stderr) */
  onNote?: (message: string) => void;
}

/** EngineOptions.graph. */
export type GraphChoice = 'auto' | 'file' | 'fp16';
export const GRAPH_CHOICES: readonly GraphChoice[] = ['auto', 'file', 'fp16'];

export const ENGINE_DEFAULTS = {
  executionProvider: 'auto' as ExecutionProviderChoice,
  graph: 'auto' as GraphChoice,
  workers: 1,
  maxBatch: 64,
  maxQueue: 1024,
  maxWaitMs: 2,
  queueTimeoutMs: 30_000,
  stateOnDevice: true,
  startTimeoutMs: 120_000,
  stepTimeoutMs: 60_000,
  restartAttempts: 5,
  restartBackoffMs: 500,
  restartBackoffMaxMs: 30_000,
  gpuMemoryShare: 0.8,
  maxWorkersPerDevice: 2,
};

function positiveInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min} (got ${v})`);
  return v;
}

export function stepShape(config: ModelConfig): StepShape {
  return {
    seqLen: config.seq_len,
    stateLen: stateLen(config),
    hidden: config.hidden_size,
    puzzleEmbDim: config.puzzle_emb_ndim,
    vocab: config.vocab_size,
  };
}

export class Engine implements SolveEngine {
  readonly info: EngineInfo;
  private draining: Promise<void> | null = null;

  private constructor(
    readonly config: ModelConfig,
    info: EngineInfo,
    private readonly lanes: WorkerLane[],
    private readonly batcher: Batcher,
    private readonly table: PuzzleTable | null,
  ) {
    this.info = info;
  }

  static async start(options: EngineOptions): Promise<Engine> {
    const o = { ...ENGINE_DEFAULTS, ...stripUndefined(options) };
    // one worker per device unless told otherwise
    if (options.workers === undefined && options.devices) o.workers = Math.max(1, options.devices.length);
    const auto = o.workers === 'auto';
    if (!auto) positiveInt('workers', o.workers as number, 1);
    if (!(o.gpuMemoryShare > 0 && o.gpuMemoryShare <= 1))
      throw new Error(`gpuMemoryShare must be in (0, 1] (got ${o.gpuMemoryShare})`);
    positiveInt('maxWorkersPerDevice', o.maxWorkersPerDevice, 1);
    positiveInt('maxBatch', o.maxBatch, 1);
    positiveInt('maxQueue', o.maxQueue, 0);
    // Without stepsPerRun, each worker takes its provider's default (stepsPerRunOn) when it opens the session.
    if (o.stepsPerRun !== undefined) {
      positiveInt('stepsPerRun', o.stepsPerRun, 1);
      if (o.stepsPerRun > MAX_STEPS_PER_RUN)
        throw new Error(`stepsPerRun must be at most ${MAX_STEPS_PER_RUN} (got ${o.stepsPerRun})`);
    }
    const queuedSteps = o.stepsWhenQueued;
    if (
      queuedSteps !== undefined &&
      !(Number.isInteger(queuedSteps) && queuedSteps >= 1 && queuedSteps <= (o.stepsPerRun ?? MAX_STEPS_PER_RUN))
    )
      throw new Error(
        `stepsWhenQueued must be an integer in 1..stepsPerRun (${o.stepsPerRun ?? MAX_STEPS_PER_RUN}) (got ${queuedSteps})`,
      );
    if (!(o.maxWaitMs >= 0)) throw new Error(`maxWaitMs must be >= 0 (got ${o.maxWaitMs})`);
    if (!(o.queueTimeoutMs >= 0)) throw new Error(`queueTimeoutMs must be >= 0 (got ${o.queueTimeoutMs})`);
    if (!GRAPH_CHOICES.includes(o.graph))
      throw new Error(`graph must be one of ${GRAPH_CHOICES.join(', ')} (got ${JSON.stringify(o.graph)})`);
    const modelDir = resolve(options.modelDir);
    const config = await readModelConfig(modelDir);
    const hasWeights = existsSync(join(modelDir, WEIGHTS_FILE));
    if (o.graph === 'fp16' && !hasWeights)
      throw new Error(`graph fp16 builds the graph from ${WEIGHTS_FILE}, which ${modelDir} does not have`);
    // the float16 graph: asked for, or (auto) where a GPU provider may run and the folder's own graph would
    const fp16Graph =
      o.graph === 'fp16' ||
      (o.graph === 'auto' && hasWeights && o.modelFile === undefined && o.executionProvider !== 'cpu');
    // A folder shipped without model.onnx gets it built from its weights (a file named by modelFile never is).
    const requested = join(modelDir, o.modelFile ?? MODEL_FILE);
    const file = o.modelFile === undefined ? await stepGraphFile(modelDir, requested) : { path: requested };
    const modelPath = file.path;
    if (file.builtSeconds !== undefined)
      (o.onNote ?? ((m: string) => process.stderr.write(`${m}\n`)))(
        `${MODEL_FILE} built from ${WEIGHTS_FILE} in ${file.builtSeconds.toFixed(1)} s: ${modelPath}`,
      );
    const graph = await readStepGraphMetadata(modelPath);
    checkGraphMatchesConfig(graph.config, config, modelPath);
    // Workers check the weights against the recorded checksum before loading them; older exports have none.
    if (graph.weightsSha256 === null)
      (o.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(unrecordedWeightsWarning(modelPath));
    const shape = stepShape(config);
    const threads = o.threads ?? cpuThreadsPerWorker(auto ? 1 : (o.workers as number));
    const table = await PuzzleTable.open(modelDir, config.puzzle_emb_ndim);
    const devices = o.devices ?? [0];
    if (devices.length === 0 || devices.some((d) => !Number.isInteger(d) || d < 0))
      throw new Error(`devices must be a non-empty list of integers >= 0 (got [${devices.join(', ')}])`);
    // worker i's device: round robin, or the plan `auto` made from the free memory
    let assigned: number[] | null = null;
    const onDevice = (i: number, init: WorkerInit): WorkerInit =>
      init.source.kind === 'onnx'
        ? { source: { ...init.source, deviceId: assigned ? assigned[i]! : devices[i % devices.length] } }
        : init;
    const gpuQuery = o.gpuQuery ?? nvidiaSmi;
    // the free memory before this process holds any (only where the CUDA provider may be the one chosen)
    const freeBefore =
      auto && (o.executionProvider === 'auto' || o.executionProvider === 'cuda') ? gpuQuery(DEVICE_MEMORY_QUERY) : null;
    const laneOptions = {
      startTimeoutMs: o.startTimeoutMs,
      stepTimeoutMs: o.stepTimeoutMs,
      restartAttempts: o.restartAttempts,
      restartBackoffMs: o.restartBackoffMs,
      restartBackoffMaxMs: o.restartBackoffMaxMs,
      onWorkerEvent: o.onWorkerEvent,
    };
    const source = {
      kind: 'onnx' as const,
      modelPath,
      threads,
      stateOnDevice: o.stateOnDevice,
      stepsPerRun: o.stepsPerRun,
      stepsForm: o.stepsForm,
      ...(fp16Graph
        ? { fp16Graph: { from: modelDir, on: o.graph === 'fp16' ? ('all' as const) : ('gpu' as const) } }
        : {}),
      shape,
    };
    const init: WorkerInit = { source: { ...source, ep: o.executionProvider } };
    const lanes: WorkerLane[] = [];
    let autoNote: string | null = null;
    try {
      // The first worker settles `auto`; the others start on the provider it chose, in parallel.
      const first = await WorkerLane.start(0, onDevice(0, init), laneOptions);
      lanes.push(first);
      const settled: WorkerInit = { source: { ...source, ep: first.info.provider ?? 'cpu' } };
      let workers = o.workers as number;
      if (auto) {
        const plan = await autoWorkers(first, {
          provider: first.info.provider ?? 'cpu',
          devices,
          freeBefore,
          gpuQuery,
          share: o.gpuMemoryShare,
          maxPerDevice: o.maxWorkersPerDevice,
          maxBatch: o.maxBatch,
          seqLen: config.seq_len,
        });
        assigned = plan.lanes;
        workers = plan.lanes.length;
        autoNote = plan.note;
      }
      const rest = await Promise.allSettled(
        Array.from({ length: workers - 1 }, (_, i) => WorkerLane.start(i + 1, onDevice(i + 1, settled), laneOptions)),
      );
      for (const r of rest) if (r.status === 'fulfilled') lanes.push(r.value);
      const failed = rest.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } catch (err) {
      await Promise.allSettled(lanes.map((l) => l.close()));
      table?.close();
      throw err;
    }
    const first = lanes[0]!;
    // every worker runs on worker 0's provider, so with its steps per run; a cap above it caps nothing
    const stepsPerRun = first.info.stepsPerRun;
    const stepsWhenQueued = queuedSteps !== undefined && queuedSteps < stepsPerRun ? queuedSteps : undefined;
    const info: EngineInfo = {
      name: basename(modelDir),
      task: config.task,
      config,
      executionProvider: first.info.provider ?? 'cpu',
      providerNotes: autoNote ? [...first.info.notes, autoNote] : first.info.notes,
      dtype: first.info.builtDtype ?? graph.dtype,
      ...(first.info.builtDtype !== undefined ? { graphBuilt: true as const } : {}),
      maxBatch: o.maxBatch,
      workers: lanes.length,
      stepsPerRun,
      ...(stepsWhenQueued !== undefined ? { stepsWhenQueued } : {}),
    };
    const batcher = new Batcher(lanes, {
      maxBatch: o.maxBatch,
      maxQueue: o.maxQueue,
      maxWaitMs: o.maxWaitMs,
      queueTimeoutMs: o.queueTimeoutMs,
      seqLen: config.seq_len,
      stepsWhenQueued,
    });
    return new Engine(config, info, lanes, batcher, table);
  }

  ready(): boolean {
    return this.draining === null && this.batcher.accepting();
  }

  health(): EngineHealth {
    if (this.draining) return { live: true, problem: 'the engine is draining' };
    const problems: string[] = [];
    let live = true;
    for (const [i, lane] of this.lanes.entries()) {
      const h = lane.health();
      if (h.state === 'ready') continue;
      const worker = `inference worker ${i}${this.lanes.length > 1 ? ` of ${this.lanes.length}` : ''}`;
      if (h.state === 'closed') problems.push(`${worker} is stopped`);
      else if (h.broken) {
        live = false;
        problems.push(
          `${worker} could not be restarted (${h.failedRestarts} attempts in a row failed, still trying): ${h.lastError}`,
        );
      } else problems.push(`${worker} is being replaced (${h.lastError})`);
    }
    return { live, problem: problems.length > 0 ? problems.join('; ') : null };
  }

  stats(): EngineStats {
    return {
      queueDepth: this.batcher.queueDepth,
      activeSlots: this.batcher.activeSlots,
      totalSlots: this.batcher.totalSlots,
    };
  }

  async solve(request: SolveRequest): Promise<SolveResult> {
    checkSolveRequest(request, this.config);
    return this.batcher.solve(request);
  }

  /** The puzzle-embedding row of an ARC puzzle id (identifiers.json), or undefined when the model has none. */
  puzzleRow(id: string): Float32Array | undefined {
    return this.table?.row(id);
  }

  /** Puzzle prefix positions of the state (for the model card and logs). */
  get puzzlePrefix(): number {
    return puzzleEmbLen(this.config);
  }

  /**
   * Ends worker `index` as a crash would, once its current step returns: its puzzles fail with
   * EngineUnavailableError and it is replaced.
   */
  killWorker(index: number): void {
    const lane = this.lanes[index];
    if (!lane) throw new Error(`worker must be in 0..${this.lanes.length - 1} (got ${index})`);
    lane.kill();
  }

  refuseQueued(reason: string): number {
    return this.batcher.refuseQueued(reason);
  }

  drain(): Promise<void> {
    this.draining ??= (async () => {
      await this.batcher.drain();
      await Promise.allSettled(this.lanes.map((l) => l.close()));
      this.table?.close();
    })();
    return this.draining;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
