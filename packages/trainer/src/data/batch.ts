// A batch on the host: token ids, labels with the ignore label mapped to -100, and the puzzle-embedding row of each
// example. This is what the sampler hands to the training loop and what the persistent carry keeps per slot.
export const IGNORE_LABEL = -100;

export interface HostBatch {
  /** rows in the batch */
  size: number;
  seqLen: number;
  /** [size * seqLen] token ids */
  inputs: Int32Array;
  /** [size * seqLen] label ids, IGNORE_LABEL (-100) where the dataset's ignore label (PAD) was */
  labels: Int32Array;
  /** [size] puzzle-embedding row of each example */
  puzzleIds: Int32Array;
}

/** A batch of `size` rows filled with padding: PAD inputs, ignored labels, the blank puzzle id. */
export function paddingBatch(size: number, seqLen: number, padId: number, blankId: number): HostBatch {
  return {
    size,
    seqLen,
    inputs: new Int32Array(size * seqLen).fill(padId),
    labels: new Int32Array(size * seqLen).fill(IGNORE_LABEL),
    puzzleIds: new Int32Array(size).fill(blankId),
  };
}

/**
 * Writes example rows into batch row `row` onward: inputs as they are, labels with `ignoreLabelId` mapped to -100
 * (the reference collate does this; `null` means no label is ignored).
 */
export function putRows(
  batch: HostBatch,
  row: number,
  inputs: ArrayLike<number>,
  labels: ArrayLike<number>,
  ignoreLabelId: number | null,
): void {
  const S = batch.seqLen;
  const n = inputs.length / S;
  if (!Number.isInteger(n) || labels.length !== inputs.length)
    throw new Error(
      `rows must hold a multiple of seq_len ${S} tokens, inputs and labels alike (got ${inputs.length} and ${labels.length})`,
    );
  if (row + n > batch.size) throw new RangeError(`${n} rows at row ${row} overflow a batch of ${batch.size}`);
  const off = row * S;
  for (let i = 0; i < inputs.length; i++) {
    batch.inputs[off + i] = inputs[i]!;
    const l = labels[i]!;
    batch.labels[off + i] = l === ignoreLabelId ? IGNORE_LABEL : l;
  }
}

/** Copies row `from` of `src` into row `to` of `dst` (same seq_len). */
export function copyRow(dst: HostBatch, to: number, src: HostBatch, from: number): void {
  const S = dst.seqLen;
  if (src.seqLen !== S) throw new Error(`cannot copy a row of seq_len ${src.seqLen} into a batch of seq_len ${S}`);
  dst.inputs.set(src.inputs.subarray(from * S, (from + 1) * S), to * S);
  dst.labels.set(src.labels.subarray(from * S, (from + 1) * S), to * S);
  dst.puzzleIds[to] = src.puzzleIds[from]!;
}

export function cloneBatch(b: HostBatch): HostBatch {
  return { ...b, inputs: b.inputs.slice(), labels: b.labels.slice(), puzzleIds: b.puzzleIds.slice() };
}
