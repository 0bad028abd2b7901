// The reference's training sampler (TRM-SPEC §6.1, puzzle_dataset.py `_sample_batch`): each epoch permutes the
// groups; for each group in turn it picks one random puzzle (an augmented variant) and adds its examples in random
// order, truncating the last puzzle so the batch is filled exactly; an epoch's incomplete final batch is dropped.
// Everything is drawn from one seeded Rng, and the cursor (epoch, position, RNG states) can be saved and restored,
// so a resumed run sees the same batches as an uninterrupted one.
import { Rng, type RngState } from '@trm/core';
import { type HostBatch, paddingBatch, putRows } from './batch.js';
import type { SplitSource } from './split.js';

export interface SamplerCursor {
  /** epochs started so far (1 during the first epoch) */
  epoch: number;
  /** next index into this epoch's group order */
  position: number;
  /** RNG state when this epoch's group order was drawn (the order is re-drawn from it on restore) */
  epochRng: RngState;
  /** RNG state now */
  rng: RngState;
}

export class TrainSampler {
  private readonly rng: Rng;
  private order: number[] = [];
  private epochRng: RngState;
  private epoch = 0;
  private position = 0;
  private readonly numGroups: number;

  constructor(
    private readonly split: SplitSource,
    readonly batchSize: number,
    seed: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`batch size must be a positive integer (got ${batchSize})`);
    this.numGroups = split.groupIndices.length - 1;
    if (this.numGroups < 1 || split.numExamples < batchSize)
      throw new Error(
        `the training split must hold at least one batch: ${split.numExamples} examples in ${this.numGroups} groups, batch size ${batchSize}`,
      );
    this.rng = new Rng(seed);
    this.epochRng = this.rng.getState();
  }

  /** Epochs started so far. */
  get epochs(): number {
    return this.epoch;
  }

  private startEpoch(): void {
    this.epoch++;
    this.epochRng = this.rng.getState();
    this.order = this.rng.permutation(this.numGroups);
    this.position = 0;
  }

  /** The next full batch. Epochs roll over by themselves; a split too small for one batch per epoch is refused. */
  next(): HostBatch {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.epoch === 0 || this.position >= this.order.length) this.startEpoch();
      const batch = this.fill();
      if (batch) return batch;
    }
    throw new Error(
      `one epoch of ${this.numGroups} groups does not fill a batch of ${this.batchSize} (one puzzle per group is taken per epoch): use a smaller batch`,
    );
  }

  /** Fills a batch from the current epoch, or returns null (the epoch is spent) when the groups run out. */
  private fill(): HostBatch | null {
    const { metadata, puzzleIndices, groupIndices, puzzleIdentifiers } = this.split;
    const S = metadata.seq_len;
    const batch = paddingBatch(this.batchSize, S, metadata.pad_id, metadata.blank_identifier_id);
    let filled = 0;
    while (filled < this.batchSize) {
      if (this.position >= this.order.length) return null;
      const group = this.order[this.position++]!;
      const puzzle = this.rng.int(groupIndices[group]!, groupIndices[group + 1]! - 1);
      const start = puzzleIndices[puzzle]!;
      const size = puzzleIndices[puzzle + 1]! - start;
      const take = Math.min(size, this.batchSize - filled);
      const rows = this.split.readRows(start, size);
      // A random subset in random order, as np.random.choice(size, take, replace=False).
      for (const k of this.rng.sample(size, take)) {
        const at = k * S;
        putRows(
          batch,
          filled,
          rows.inputs.subarray(at, at + S),
          rows.labels.subarray(at, at + S),
          metadata.ignore_label_id,
        );
        batch.puzzleIds[filled] = puzzleIdentifiers[puzzle]!;
        filled++;
      }
    }
    return batch;
  }

  cursor(): SamplerCursor {
    return { epoch: this.epoch, position: this.position, epochRng: this.epochRng, rng: this.rng.getState() };
  }

  /** Continues from a saved cursor of a sampler over the same split, batch size and seed. */
  restore(c: SamplerCursor): void {
    this.epoch = c.epoch;
    this.position = c.position;
    this.epochRng = c.epochRng;
    this.order = c.epoch > 0 ? new Rng(c.epochRng).permutation(this.numGroups) : [];
    this.rng.setState(c.rng);
  }
}
