// Writes one split (train or test) of a dataset as it is produced: examples stream to the inputs/labels .npy
// files, the three index arrays grow in memory (4 bytes per puzzle or group) and go out on finish, together with
// dataset.json. The caller marks puzzle and group boundaries, as the reference builders do.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NpyStreamWriter } from '../npy/stream-writer.js';
import { writeNpy } from '../npy/write.js';
import { Int32List } from './int32-list.js';
import { DEFAULT_SET, fieldPath, METADATA_FILE } from './layout.js';
import type { DatasetBuildInfo, DatasetMetadata } from './metadata.js';

/** The metadata fields a builder chooses; the counts and the shape are filled in from what was written. */
export interface SplitMetadataInput {
  pad_id: number;
  ignore_label_id: number | null;
  blank_identifier_id: number;
  vocab_size: number;
  num_puzzle_identifiers: number;
  build?: DatasetBuildInfo;
}

export interface SplitSummary {
  split: string;
  examples: number;
  puzzles: number;
  groups: number;
  metadata: DatasetMetadata;
}

export class SplitWriter {
  private readonly inputs: NpyStreamWriter<'uint8'>;
  private readonly labels: NpyStreamWriter<'uint8'>;
  private readonly puzzleIdentifiers = new Int32List();
  private readonly puzzleIndices = new Int32List();
  private readonly groupIndices = new Int32List();
  private exampleCount = 0;
  private done = false;

  /** `root` is the dataset folder being written (a temporary one, see DatasetWriter). */
  constructor(
    private readonly root: string,
    readonly split: string,
    readonly seqLen: number,
  ) {
    mkdirSync(join(root, split), { recursive: true });
    this.inputs = new NpyStreamWriter(fieldPath(root, split, 'inputs'), 'uint8', [seqLen]);
    this.labels = new NpyStreamWriter(fieldPath(root, split, 'labels'), 'uint8', [seqLen]);
    this.puzzleIndices.push(0);
    this.groupIndices.push(0);
  }

  get examples(): number {
    return this.exampleCount;
  }

  get puzzles(): number {
    return this.puzzleIdentifiers.length;
  }

  get groups(): number {
    return this.groupIndices.length - 1;
  }

  /** Appends one example (input and label token rows of seqLen each) to the current puzzle. */
  addExample(input: Uint8Array, label: Uint8Array): void {
    if (input.length !== this.seqLen || label.length !== this.seqLen)
      throw new RangeError(
        `${this.split} example ${this.exampleCount}: input has ${input.length} tokens and label ${label.length}, ` +
          `expected ${this.seqLen} each`,
      );
    this.inputs.write(input);
    this.labels.write(label);
    this.exampleCount++;
  }

  /** Closes the current puzzle (the examples added since the last one) under puzzle identifier `identifier`. */
  endPuzzle(identifier: number): void {
    if (this.exampleCount === this.puzzleIndices.last())
      throw new Error(`${this.split} puzzle ${this.puzzles} has no examples`);
    this.puzzleIndices.push(this.exampleCount);
    this.puzzleIdentifiers.push(identifier);
  }

  /** Closes the current group (the puzzles ended since the last one). */
  endGroup(): void {
    if (this.puzzles === this.groupIndices.last()) throw new Error(`${this.split} group ${this.groups} has no puzzles`);
    this.groupIndices.push(this.puzzles);
  }

  /** Writes the index arrays and dataset.json; returns the split's counts and metadata. */
  finish(meta: SplitMetadataInput): SplitSummary {
    if (this.done) throw new Error(`${this.split} split is already finished`);
    if (this.exampleCount !== this.puzzleIndices.last())
      throw new Error(
        `${this.split}: ${this.exampleCount - this.puzzleIndices.last()!} examples after the last puzzle`,
      );
    if (this.puzzles !== this.groupIndices.last())
      throw new Error(`${this.split}: ${this.puzzles - this.groupIndices.last()!} puzzles after the last group`);
    this.done = true;
    this.inputs.close();
    this.labels.close();
    const write = (field: 'puzzle_identifiers' | 'puzzle_indices' | 'group_indices', list: Int32List) =>
      writeNpy(fieldPath(this.root, this.split, field), { dtype: 'int32', shape: [list.length], data: list.view() });
    write('puzzle_identifiers', this.puzzleIdentifiers);
    write('puzzle_indices', this.puzzleIndices);
    write('group_indices', this.groupIndices);
    const { build, ...fixed } = meta;
    const metadata: DatasetMetadata = {
      ...fixed,
      seq_len: this.seqLen,
      total_groups: this.groups,
      mean_puzzle_examples: this.puzzles > 0 ? this.exampleCount / this.puzzles : 0,
      total_puzzles: this.puzzles,
      sets: [DEFAULT_SET],
      ...(build ? { build } : {}),
    };
    writeFileSync(join(this.root, this.split, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
    return { split: this.split, examples: this.exampleCount, puzzles: this.puzzles, groups: this.groups, metadata };
  }

  /** Closes the open files after a failure (DatasetWriter.abort removes them). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.inputs.abort();
    this.labels.abort();
  }
}
