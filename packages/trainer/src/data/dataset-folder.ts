// A dataset folder (TRM-SPEC §6.1) opened for training or evaluation: its splits as SplitSources, its identifier
// names, and the model-config fields its metadata decides (seq_len, vocab_size, num_puzzle_identifiers), after
// checking that it holds the task the model is for. Large splits (augmented ARC) stay on disk.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DatasetMetadata,
  fieldPath,
  IDENTIFIERS_FILE,
  type ModelConfig,
  metadataPath,
  openDataset,
  readDataset,
  readIdentifiers,
  TASK_SHAPES,
  type TaskName,
} from '@trm/core';
import { fromDisk, fromMemory, type SplitSource } from './split.js';

/** Splits whose token files exceed this stay on disk and are read by rows. */
const IN_MEMORY_BYTES = 1 << 30;

export interface OpenedSplit {
  source: SplitSource;
  metadata: DatasetMetadata;
  numGroups: number;
  close(): void;
}

export function hasSplit(dir: string, split: string): boolean {
  return existsSync(metadataPath(dir, split));
}

export function openSplit(dir: string, split: string): OpenedSplit {
  const bytes = existsSync(fieldPath(dir, split, 'inputs')) ? statSync(fieldPath(dir, split, 'inputs')).size : 0;
  if (bytes * 2 <= IN_MEMORY_BYTES) {
    const s = readDataset(dir, split);
    return { source: fromMemory(s), metadata: s.metadata, numGroups: s.numGroups, close: () => {} };
  }
  const f = openDataset(dir, split);
  return { source: fromDisk(f), metadata: f.metadata, numGroups: f.numGroups, close: () => f.close() };
}

/** The task a dataset holds: its build record when present, else the one whose token shape matches. */
export function datasetTask(meta: DatasetMetadata): TaskName | null {
  const built = meta.build?.task;
  if (built === 'sudoku' || built === 'maze') return built;
  if (built?.startsWith('arc')) return 'arc';
  const match = (Object.keys(TASK_SHAPES) as TaskName[]).filter(
    (t) => TASK_SHAPES[t].seqLen === meta.seq_len && TASK_SHAPES[t].vocabSize === meta.vocab_size,
  );
  return match.length === 1 ? match[0]! : null;
}

/**
 * The model config with the dataset's seq_len, vocab_size and num_puzzle_identifiers. Throws, naming `flag`, when
 * the dataset holds another task than the config.
 */
export function configForData(config: ModelConfig, meta: DatasetMetadata, where: string, flag = '--data'): ModelConfig {
  const task = datasetTask(meta);
  if (task !== config.task)
    throw new Error(
      `${flag} ${where} holds ${task ?? `an unknown task (seq_len ${meta.seq_len}, vocab_size ${meta.vocab_size})`} data, but the model is for task "${config.task}"`,
    );
  return {
    ...config,
    seq_len: meta.seq_len,
    vocab_size: meta.vocab_size,
    num_puzzle_identifiers: meta.num_puzzle_identifiers,
  };
}

/** identifiers.json of a dataset folder, or null when it has none. */
export function datasetIdentifiers(dir: string): string[] | null {
  return existsSync(join(dir, IDENTIFIERS_FILE)) ? readIdentifiers(dir) : null;
}
