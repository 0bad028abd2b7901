// The reference's test iterator (TRM-SPEC §6.1, puzzle_dataset.py `_iter_test`): every example once, in order,
// in batches of the model's batch size; the last batch is padded with PAD inputs, ignored labels and the blank
// puzzle id, and says how many of its rows are real.
import { type HostBatch, paddingBatch, putRows } from './batch.js';
import type { SplitSource } from './split.js';

export interface TestBatch {
  batch: HostBatch;
  /** rows [0, count) are examples; the rest is padding */
  count: number;
  /** index of the batch's first example in the split */
  start: number;
}

/** Puzzle index of every example (puzzle i owns examples [puzzleIndices[i], puzzleIndices[i+1])). */
export function examplePuzzles(puzzleIndices: Int32Array, numExamples: number): Int32Array {
  const out = new Int32Array(numExamples);
  for (let p = 0; p + 1 < puzzleIndices.length; p++) out.fill(p, puzzleIndices[p]!, puzzleIndices[p + 1]!);
  return out;
}

export function* testBatches(
  split: SplitSource,
  batchSize: number,
  limit = Number.POSITIVE_INFINITY,
): Generator<TestBatch> {
  const { metadata } = split;
  const S = metadata.seq_len;
  const total = Math.min(split.numExamples, limit);
  const puzzleOf = examplePuzzles(split.puzzleIndices, split.numExamples);
  for (let start = 0; start < total; start += batchSize) {
    const count = Math.min(batchSize, total - start);
    const batch = paddingBatch(batchSize, S, metadata.pad_id, metadata.blank_identifier_id);
    const rows = split.readRows(start, count);
    putRows(batch, 0, rows.inputs, rows.labels, metadata.ignore_label_id);
    for (let i = 0; i < count; i++) batch.puzzleIds[i] = split.puzzleIdentifiers[puzzleOf[start + i]!]!;
    yield { batch, count, start };
  }
}
