// The view of a dataset split that the samplers need: the index arrays of TRM-SPEC §6.1 and a way to read example
// rows, whether the split sits in memory (readDataset) or stays on disk (openDataset, for augmented ARC).

export interface SplitMetadata {
  seq_len: number;
  pad_id: number;
  ignore_label_id: number | null;
  blank_identifier_id: number;
}

/** Token rows of a split (the on-disk format stores tokens as uint8). */
export interface ExampleRows {
  inputs: Uint8Array;
  labels: Uint8Array;
}

export interface SplitSource {
  metadata: SplitMetadata;
  /** Puzzle i owns examples [puzzleIndices[i], puzzleIndices[i+1]). */
  puzzleIndices: Int32Array;
  /** Group g owns puzzles [groupIndices[g], groupIndices[g+1]). */
  groupIndices: Int32Array;
  puzzleIdentifiers: Int32Array;
  numExamples: number;
  /** Examples [start, start + count), each seq_len tokens. */
  readRows(start: number, count: number): ExampleRows;
}

/** A split read whole into memory (core's DatasetSplit has this shape). */
export interface InMemorySplit extends Omit<SplitSource, 'readRows'> {
  inputs: Uint8Array;
  labels: Uint8Array;
}

/** A split whose token files stay on disk (core's DatasetSplitFiles has this shape). */
export interface OnDiskSplit extends Omit<SplitSource, 'readRows'> {
  inputs: { readRows(start: number, count: number): ArrayLike<number | bigint> };
  labels: { readRows(start: number, count: number): ArrayLike<number | bigint> };
}

export function fromMemory(split: InMemorySplit): SplitSource {
  const S = split.metadata.seq_len;
  return {
    ...split,
    readRows: (start, count) => ({
      inputs: split.inputs.subarray(start * S, (start + count) * S),
      labels: split.labels.subarray(start * S, (start + count) * S),
    }),
  };
}

function asTokens(a: ArrayLike<number | bigint>, what: string): Uint8Array {
  if (!(a instanceof Uint8Array)) throw new Error(`${what} must be stored as uint8 token ids`);
  return a;
}

export function fromDisk(split: OnDiskSplit): SplitSource {
  return {
    ...split,
    readRows: (start, count) => ({
      inputs: asTokens(split.inputs.readRows(start, count), 'inputs'),
      labels: asTokens(split.labels.readRows(start, count), 'labels'),
    }),
  };
}
