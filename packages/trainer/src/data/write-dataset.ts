// Writes in-memory splits as a dataset folder in the on-disk format (TRM-SPEC §6.1), through core's atomic dataset
// writer: for saving generated data next to a run, and for tests of the commands that read dataset folders.
import { DatasetWriter, IDENTIFIERS_FILE } from '@trm/core';
import type { InMemorySplit } from './split.js';

export interface DatasetToWrite {
  splits: Record<string, InMemorySplit>;
  vocabSize: number;
  numPuzzleIdentifiers: number;
  /** identifiers.json: the name of each puzzle id */
  identifiers?: string[];
}

export function writeDataset(dir: string, d: DatasetToWrite, opts: { force?: boolean } = {}): void {
  const writer = DatasetWriter.create(dir, opts);
  try {
    for (const [name, s] of Object.entries(d.splits)) {
      const S = s.metadata.seq_len;
      const w = writer.split(name, S);
      for (let g = 0; g + 1 < s.groupIndices.length; g++) {
        for (let p = s.groupIndices[g]!; p < s.groupIndices[g + 1]!; p++) {
          for (let e = s.puzzleIndices[p]!; e < s.puzzleIndices[p + 1]!; e++)
            w.addExample(s.inputs.subarray(e * S, (e + 1) * S), s.labels.subarray(e * S, (e + 1) * S));
          w.endPuzzle(s.puzzleIdentifiers[p]!);
        }
        w.endGroup();
      }
      w.finish({
        pad_id: s.metadata.pad_id,
        ignore_label_id: s.metadata.ignore_label_id,
        blank_identifier_id: s.metadata.blank_identifier_id,
        vocab_size: d.vocabSize,
        num_puzzle_identifiers: d.numPuzzleIdentifiers,
      });
    }
    if (d.identifiers) writer.writeJson(IDENTIFIERS_FILE, d.identifiers);
    writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
}
