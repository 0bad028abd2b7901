// What the server's benchmark commands share: the repository root for default paths, flag lists, quantiles, model
// folders of random weights for presets, and the JSON record each run writes under bench/results.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type CommandIo, FlagError, getPreset, type ModelConfig, userCwd } from '@trm/core';
import { exportStepGraph, type GraphDtype, type OpChoice, randomWeights } from '@trm/exporter';
import { findRepoRoot } from '../arc/adapt-command.js';

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
