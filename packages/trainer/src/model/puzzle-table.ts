// The puzzle-embedding table (`puzzle_emb.weights`, a buffer in the reference) kept in host memory: the ARC table
// has ~1M rows (2 GB in float32), more than a wasm heap holds, and training only ever reads and updates the rows of
// the current batch (TRM-SPEC §5.3). Rows are gathered here and uploaded as a [B, E] tensor per step.
import * as tf from '@tensorflow/tfjs';

export class PuzzleTable {
  readonly data: Float32Array;

  constructor(
    readonly rows: number,
    readonly dim: number,
    data?: Float32Array,
  ) {
    if (data && data.length !== rows * dim)
      throw new Error(`puzzle_emb.weights must hold ${rows} x ${dim} = ${rows * dim} values (got ${data.length})`);
    this.data = data ?? new Float32Array(rows * dim);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.rows)
      throw new RangeError(`puzzle identifier must be an integer in [0, ${this.rows - 1}] (got ${id})`);
  }

  /** The rows of `ids`, concatenated [ids.length * dim]. */
  gather(ids: ArrayLike<number>): Float32Array {
    const out = new Float32Array(ids.length * this.dim);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      this.checkId(id);
      out.set(this.data.subarray(id * this.dim, (id + 1) * this.dim), i * this.dim);
    }
    return out;
  }

  /** The rows of `ids` as a [ids.length, dim] tensor, the `puzzleRows` input of a step. */
  gatherTensor(ids: ArrayLike<number>): tf.Tensor2D {
    return tf.tensor2d(this.gather(ids), [ids.length, this.dim]);
  }

  row(id: number): Float32Array {
    this.checkId(id);
    return this.data.subarray(id * this.dim, (id + 1) * this.dim);
  }
}
