// Where each file of a built dataset lives and which dtype it holds (TRM-SPEC §6.1):
// <out>/<split>/dataset.json, <out>/<split>/<set>__<field>.npy, <out>/identifiers.json, and for ARC
// <out>/test_puzzles.json. Builders write the single set "all", as the reference does.
import { join } from 'node:path';
import type { NpyDtype } from '../npy/dtype.js';

export const DATASET_FIELDS = ['inputs', 'labels', 'puzzle_identifiers', 'puzzle_indices', 'group_indices'] as const;
export type DatasetField = (typeof DATASET_FIELDS)[number];

export const FIELD_DTYPES: Record<DatasetField, NpyDtype> = {
  inputs: 'uint8',
  labels: 'uint8',
  puzzle_identifiers: 'int32',
  puzzle_indices: 'int32',
  group_indices: 'int32',
};

export const DEFAULT_SET = 'all';
export const METADATA_FILE = 'dataset.json';
export const IDENTIFIERS_FILE = 'identifiers.json';
/** Name of puzzle identifier 0, which the reference gives every sudoku and maze puzzle (and no ARC puzzle). */
export const BLANK_IDENTIFIER = '<blank>';
export const TEST_PUZZLES_FILE = 'test_puzzles.json';
export const README_FILE = 'README.md';

export function fieldPath(dir: string, split: string, field: DatasetField, set = DEFAULT_SET): string {
  return join(dir, split, `${set}__${field}.npy`);
}

export function metadataPath(dir: string, split: string): string {
  return join(dir, split, METADATA_FILE);
}
