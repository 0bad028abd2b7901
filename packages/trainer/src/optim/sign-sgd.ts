// Sparse sign-SGD of the puzzle-embedding table (the reference's CastedSparseEmbeddingSignSGD_Distributed,
// TRM-SPEC §5.3): gradients of the batch's rows are summed per unique puzzle id, then each touched row gets
//   w_r <- w_r (1 - lr wd) - lr sign(sum g_r)
// Rows absent from the batch neither move nor decay. The table lives in host memory, so this is plain TS.
import type { PuzzleTable } from '../model/puzzle-table.js';

/**
 * Updates `table` in place from the batch's puzzle ids [B] and the gradient of their rows [B * dim].
 * Returns the touched ids in ascending order. Arithmetic is rounded to float32 at each stage as in PyTorch.
 */
export function signSgdUpdate(
  table: PuzzleTable,
  ids: ArrayLike<number>,
  rowGrads: Float32Array,
  lr: number,
  weightDecay: number,
): number[] {
  const dim = table.dim;
  if (rowGrads.length !== ids.length * dim)
    throw new Error(`rowGrads must hold ${ids.length} x ${dim} values (got ${rowGrads.length})`);
  const sums = new Map<number, Float32Array>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    let acc = sums.get(id);
    if (!acc) {
      table.row(id); // validates the id
      acc = new Float32Array(dim);
      sums.set(id, acc);
    }
    for (let d = 0; d < dim; d++) acc[d] = acc[d]! + rowGrads[i * dim + d]!;
  }
  const decay = Math.fround(1 - lr * weightDecay);
  const touched = [...sums.keys()].sort((a, b) => a - b);
  for (const id of touched) {
    const row = table.row(id);
    const g = sums.get(id)!;
    for (let d = 0; d < dim; d++) row[d] = Math.fround(row[d]! * decay) - Math.fround(lr * Math.sign(g[d]!));
  }
  return touched;
}
