// dataset.json: the reference's PuzzleDatasetMetadata (TRM-SPEC §6.1), field for field, plus an optional `build`
// record of how the data was made. The official loader (pydantic, extra keys ignored) reads our files unchanged.
import { Ajv } from 'ajv';
import { ajvErrorMessage } from '../config/validate.js';

/** What was built, from what, and anything a user of the data must know (e.g. a missing evaluation set). */
export interface DatasetBuildInfo {
  task: string;
  seed: number;
  augment: number;
  subsample: number | null;
  /** Source files or folders with the number of items taken from each. */
  sources: { name: string; path: string; items: number }[];
  notes: string[];
  created: string;
  tool: string;
}

export interface DatasetMetadata {
  pad_id: number;
  ignore_label_id: number | null;
  blank_identifier_id: number;
  vocab_size: number;
  seq_len: number;
  num_puzzle_identifiers: number;
  total_groups: number;
  mean_puzzle_examples: number;
  /** Number of puzzles in the split. The reference's sudoku and maze builders write the group count here. */
  total_puzzles: number;
  sets: string[];
  build?: DatasetBuildInfo;
}

const nonNegativeInt = { type: 'integer', minimum: 0 } as const;

export const datasetMetadataSchema = {
  type: 'object',
  required: [
    'pad_id',
    'ignore_label_id',
    'blank_identifier_id',
    'vocab_size',
    'seq_len',
    'num_puzzle_identifiers',
    'total_groups',
    'mean_puzzle_examples',
    'total_puzzles',
    'sets',
  ],
  properties: {
    pad_id: nonNegativeInt,
    ignore_label_id: { type: ['integer', 'null'] },
    blank_identifier_id: nonNegativeInt,
    vocab_size: { type: 'integer', minimum: 1, maximum: 256 },
    seq_len: { type: 'integer', minimum: 1 },
    num_puzzle_identifiers: { type: 'integer', minimum: 1 },
    total_groups: nonNegativeInt,
    mean_puzzle_examples: { type: 'number', minimum: 0 },
    total_puzzles: nonNegativeInt,
    sets: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } },
    build: { type: 'object' },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const check = ajv.compile(datasetMetadataSchema);

/** Validates a parsed dataset.json; errors start with `source` and name the field. */
export function validateDatasetMetadata(json: unknown, source: string): DatasetMetadata {
  if (!check(json)) {
    const first = check.errors?.[0];
    const msg = first ? ajvErrorMessage('', first, json).message : 'is invalid';
    throw new Error(`${source}: ${msg}`);
  }
  return json as unknown as DatasetMetadata;
}
