// What the server's benchmark commands share: the repository root for default paths, flag lists, quantiles, model
// folders of random weights for presets (and the flags that choose them), and the JSON record each run writes under
// bench/results.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  type FlagSpec,
  type CommandIo,
  FlagError,
  type FlagValues,
  getPreset,
  type ModelConfig,
  PRESET_NAMES,
  readModelConfig,
  userCwd,
} from '@trm/core';
import { exportStepGraph, GRAPH_DTYPES, type GraphDtype, type OpChoice, parseOps, randomWeights } from '@trm/exporter';
import { findRepoRoot } from '../arc/adapt-command.js';
import { GRAPH_CHOICES } from '../engine/engine.js';

/** The checkout the user runs in (for default model and result paths), else the folder they run in. */
export function benchRoot(): string {
  const cwd = resolve(userCwd());
  return findRepoRoot(cwd) ?? cwd;
}

/** A model folder for a preset in a new temporary folder: config.json and the step graph of random weights. */
export function presetFolder(
  preset: string,
  dtype: GraphDtype,
  ops: Partial<OpChoice>,
): { dir: string; config: ModelConfig } {
  // The puzzle table is an input of the graph, not part of it: one row keeps ARC presets small.
  const config: ModelConfig = { ...getPreset(preset).model, num_puzzle_identifiers: 1 };
  const dir = mkdtempSync(join(tmpdir(), `trm-bench-${preset}-`));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'model.onnx'), exportStepGraph(config, randomWeights(config, { seed: 0 }), { dtype, ops }));
  return { dir, config };
}

/** --graph: the engine's graph choice (EngineOptions.graph). */
export function graphFlag(prefix = ''): FlagSpec {
  return {
    name: 'graph',
    kind: 'enum',
    choices: GRAPH_CHOICES,
    default: 'auto',
    help: `${prefix}the step graph a model folder with weights runs (the server's --graph): auto (float16 built from the weights on a GPU), file (model.onnx) or fp16`,
  };
}

/** --preset, --model, --dtype and --ops: the model a bench measures (`verb` as in "bench this model folder"). */
export function modelFlags(verb: string): FlagSpec[] {
  return [
    {
      name: 'preset',
      kind: 'enum',
      choices: PRESET_NAMES,
      default: 'sudoku-tiny',
      help: 'model size (random weights)',
    },
    {
      name: 'model',
      kind: 'path',
      value: '<dir>',
      help: `${verb} this model folder (config.json + model.onnx, or + weights.safetensors to build it from) instead`,
    },
    { name: 'dtype', kind: 'enum', choices: GRAPH_DTYPES, default: 'fp32', help: 'graph variant of the preset' },
    {
      name: 'ops',
      kind: 'string',
      value: '<k=v,...>',
      help: "op choices of the preset's graph (see the exporter's --ops), e.g. norm=skip,rope=op",
    },
  ];
}

/**
 * The model under test (flags of modelFlags): --model's folder, or the preset's with random weights in a temporary
 * folder (`made`, for the caller to remove).
 */
export async function benchModel(
  f: FlagValues,
): Promise<{ modelDir: string; config: ModelConfig; label: string; made: { dir: string } | null }> {
  const preset = f.preset as string;
  const made = f.model ? null : presetFolder(preset, f.dtype as GraphDtype, f.ops ? parseOps(f.ops as string) : {});
  const modelDir = (f.model as string | undefined) ?? made!.dir;
  const config = made?.config ?? (await readModelConfig(modelDir));
  const label = f.model
    ? modelDir
    : `${preset} (random weights, ${f.dtype as string}${f.ops ? `, ${f.ops as string}` : ''})`;
  return { modelDir, config, label, made };
}

/** A comma-separated list of integers >= 1, e.g. --batch 1,16,64. */
export function integerList(flag: string, raw: string): number[] {
  const xs = raw.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1))
    throw new FlagError(`--${flag} must be a comma-separated list of integers >= 1 (got "${raw}")`, `--${flag}`);
  return xs;
}

/** The q-quantile of ascending values (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Writes a run's record as JSON to `out` (folders created) and says where. */
export function writeBenchRecord(out: string, record: object, io: CommandIo): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  io.out(`wrote ${out}`);
}
