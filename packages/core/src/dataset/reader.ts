// Reads one split of a built dataset (ours or the reference's) and checks that the files agree with each other and
// with dataset.json: dtypes, shapes, index monotonicity, identifier range and token range. Errors name the file
// and the field. `openDataset` keeps inputs/labels on disk for datasets too large to load (augmented ARC).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NpyDtype } from '../npy/dtype.js';
import { NpyFile } from '../npy/read.js';
import { DEFAULT_SET, type DatasetField, FIELD_DTYPES, fieldPath, IDENTIFIERS_FILE, metadataPath } from './layout.js';
import { type DatasetMetadata, validateDatasetMetadata } from './metadata.js';

export interface DatasetIndices {
  dir: string;
  split: string;
  set: string;
  metadata: DatasetMetadata;
  /** Puzzle i owns examples [puzzleIndices[i], puzzleIndices[i+1]). */
  puzzleIndices: Int32Array;
  /** Group g owns puzzles [groupIndices[g], groupIndices[g+1]). */
  groupIndices: Int32Array;
  /** The puzzle-embedding row of each puzzle. */
  puzzleIdentifiers: Int32Array;
  numExamples: number;
  numPuzzles: number;
  numGroups: number;
}

/** A split held in memory: inputs and labels are [numExamples * seq_len] row-major token ids. */
export interface DatasetSplit extends DatasetIndices {
  inputs: Uint8Array;
  labels: Uint8Array;
}

/** A split whose inputs and labels stay on disk and are read by row ranges; close() when done. */
export interface DatasetSplitFiles extends DatasetIndices {
  inputs: NpyFile;
  labels: NpyFile;
  close(): void;
}

export interface ReadDatasetOptions {
  /** Which set to read (default "all", the only one the builders write). */
  set?: string;
}

function expectFile(file: NpyFile, field: DatasetField, shape: number[]): void {
  const want: NpyDtype = FIELD_DTYPES[field];
  if (file.dtype !== want) throw new Error(`${file.path}: ${field} has dtype ${file.dtype}, expected ${want}`);
  const got = file.shape;
  if (got.length !== shape.length || got.some((n, i) => shape[i]! >= 0 && n !== shape[i]))
    throw new Error(
      `${file.path}: ${field} has shape [${got.join(', ')}], expected [${shape.map((n) => (n < 0 ? 'N' : n)).join(', ')}]`,
    );
}

function checkIndex(path: string, field: string, idx: Int32Array, end: number, endName: string): void {
  if (idx[0] !== 0) throw new Error(`${path}: ${field}[0] is ${idx[0]}, expected 0`);
  for (let i = 1; i < idx.length; i++) {
    if (idx[i]! < idx[i - 1]!)
      throw new Error(`${path}: ${field} decreases at ${i} (${idx[i - 1]} then ${idx[i]}), expected non-decreasing`);
  }
  if (idx[idx.length - 1] !== end)
    throw new Error(`${path}: ${field} ends at ${idx[idx.length - 1]}, expected ${end} (${endName})`);
}

function readMetadata(dir: string, split: string): DatasetMetadata {
  const path = metadataPath(dir, split);
  if (!existsSync(path)) {
    const hint = existsSync(dir) ? `no split "${split}" (missing ${path})` : `${dir} does not exist`;
    throw new Error(`cannot read dataset: ${hint}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateDatasetMetadata(json, path);
}

function openFields(dir: string, split: string, opts: ReadDatasetOptions): DatasetSplitFiles {
  const set = opts.set ?? DEFAULT_SET;
  const metadata = readMetadata(dir, split);
  if (!metadata.sets.includes(set))
    throw new Error(`${metadataPath(dir, split)}: sets is [${metadata.sets.join(', ')}], which has no "${set}"`);
  const open = (field: DatasetField) => {
    const path = fieldPath(dir, split, field, set);
    if (!existsSync(path)) throw new Error(`cannot read dataset: missing ${path}`);
    return NpyFile.open(path);
  };
  const opened: NpyFile[] = [];
  try {
    const files = {} as Record<DatasetField, NpyFile>;
    for (const f of ['inputs', 'labels', 'puzzle_identifiers', 'puzzle_indices', 'group_indices'] as const) {
      files[f] = open(f);
      opened.push(files[f]);
    }
    const seq = metadata.seq_len;
    expectFile(files.inputs, 'inputs', [-1, seq]);
    const n = files.inputs.rows;
    expectFile(files.labels, 'labels', [n, seq]);
    expectFile(files.puzzle_identifiers, 'puzzle_identifiers', [-1]);
    const p = files.puzzle_identifiers.rows;
    expectFile(files.puzzle_indices, 'puzzle_indices', [p + 1]);
    expectFile(files.group_indices, 'group_indices', [-1]);
    const g = files.group_indices.rows - 1;
    const read = (f: DatasetField) => files[f].readAll().data as Int32Array;
    const puzzleIdentifiers = read('puzzle_identifiers');
    const puzzleIndices = read('puzzle_indices');
    const groupIndices = read('group_indices');
    files.puzzle_identifiers.close();
    files.puzzle_indices.close();
    files.group_indices.close();
    checkIndex(files.puzzle_indices.path, 'puzzle_indices', puzzleIndices, n, 'the number of examples');
    if (g < 0) throw new Error(`${files.group_indices.path}: group_indices is empty, expected at least [0]`);
    checkIndex(files.group_indices.path, 'group_indices', groupIndices, p, 'the number of puzzles');
    if (metadata.total_groups !== g)
      throw new Error(`${metadataPath(dir, split)}: total_groups is ${metadata.total_groups}, but the files hold ${g}`);
    const maxId = metadata.num_puzzle_identifiers;
    for (let i = 0; i < p; i++) {
      const id = puzzleIdentifiers[i]!;
      if (id < 0 || id >= maxId)
        throw new Error(
          `${files.puzzle_identifiers.path}: puzzle_identifiers[${i}] is ${id}, expected 0..${maxId - 1} (num_puzzle_identifiers)`,
        );
    }
    const inputs = files.inputs;
    const labels = files.labels;
    return {
      dir,
      split,
      set,
      metadata,
      puzzleIdentifiers,
      puzzleIndices,
      groupIndices,
      numExamples: n,
      numPuzzles: p,
      numGroups: g,
      inputs,
      labels,
      close() {
        inputs.close();
        labels.close();
      },
    };
  } catch (err) {
    for (const f of opened) f.close();
    throw err;
  }
}

/** Opens a split, checking everything except the token values, which stay on disk. */
export function openDataset(dir: string, split: string, opts: ReadDatasetOptions = {}): DatasetSplitFiles {
  return openFields(dir, split, opts);
}

function checkTokens(path: string, field: string, tokens: Uint8Array, vocab: number, seqLen: number): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]! >= vocab) {
      const row = Math.floor(i / seqLen);
      throw new Error(
        `${path}: ${field}[${row}][${i % seqLen}] is ${tokens[i]}, expected a token id below vocab_size ${vocab}`,
      );
    }
  }
}

/** Reads a whole split into memory and checks it, token values included. */
export function readDataset(dir: string, split: string, opts: ReadDatasetOptions = {}): DatasetSplit {
  const files = openFields(dir, split, opts);
  try {
    const inputs = files.inputs.readAll().data as Uint8Array;
    const labels = files.labels.readAll().data as Uint8Array;
    const { vocab_size: vocab, seq_len: seq } = files.metadata;
    checkTokens(files.inputs.path, 'inputs', inputs, vocab, seq);
    checkTokens(files.labels.path, 'labels', labels, vocab, seq);
    const { close: _close, inputs: _i, labels: _l, ...indices } = files;
    return { ...indices, inputs, labels };
  } finally {
    files.close();
  }
}

/** The text of an identifiers.json (of a dataset or a model folder) read from `path`; errors name the file. */
export function parseIdentifiers(text: string, path: string): string[] {
  const expected = 'expected a JSON array of puzzle identifier names, such as ["<blank>", "a", "b"]';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); ${expected}`);
  }
  if (!Array.isArray(json)) throw new Error(`${path} holds ${json === null ? 'null' : typeof json}; ${expected}`);
  const bad = json.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) throw new Error(`${path}: entry ${bad} is ${JSON.stringify(json[bad])}, not a string; ${expected}`);
  return json as string[];
}

/** identifiers.json: the name of each puzzle identifier (index 0 is "<blank>"). */
export function readIdentifiers(dir: string): string[] {
  const path = join(dir, IDENTIFIERS_FILE);
  return parseIdentifiers(readFileSync(path, 'utf8'), path);
}
