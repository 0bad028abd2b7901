import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../npy/write.js';
import { Rng } from '../util/random.js';
import { DatasetWriter, fieldPath, metadataPath, openDataset, readDataset, readIdentifiers } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'dataset-format-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const META = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 7, num_puzzle_identifiers: 5 };

interface Written {
  inputs: number[][];
  labels: number[][];
  puzzleIndices: number[];
  groupIndices: number[];
  ids: number[];
}

/** Writes a random split (groups of 1-3 puzzles of 1-4 examples) and returns what was written. */
function writeRandom(out: string, seed: number, opts: { force?: boolean } = {}): Written {
  const rng = new Rng(seed);
  const w = DatasetWriter.create(out, opts);
  const split = w.split('train', 6);
  const written: Written = { inputs: [], labels: [], puzzleIndices: [0], groupIndices: [0], ids: [] };
  for (let g = 0; g < 4; g++) {
    for (let p = rng.int(1, 3); p > 0; p--) {
      for (let e = rng.int(1, 4); e > 0; e--) {
        const input = Array.from({ length: 6 }, () => rng.int(0, 6));
        const label = Array.from({ length: 6 }, () => rng.int(0, 6));
        split.addExample(Uint8Array.from(input), Uint8Array.from(label));
        written.inputs.push(input);
        written.labels.push(label);
      }
      const id = rng.int(0, 4);
      split.endPuzzle(id);
      written.ids.push(id);
      written.puzzleIndices.push(written.inputs.length);
    }
    split.endGroup();
    written.groupIndices.push(written.ids.length);
  }
  split.finish(META);
  w.writeJson('identifiers.json', ['<blank>', 'a', 'b', 'c', 'd']);
  w.commit();
  return written;
}

describe('dataset format', () => {
  it('reads back exactly what was written, with metadata counts filled in', () => {
    const out = join(root, 'roundtrip');
    const want = writeRandom(out, 1);
    const ds = readDataset(out, 'train');
    expect(Array.from(ds.inputs)).toEqual(want.inputs.flat());
    expect(Array.from(ds.labels)).toEqual(want.labels.flat());
    expect(Array.from(ds.puzzleIndices)).toEqual(want.puzzleIndices);
    expect(Array.from(ds.groupIndices)).toEqual(want.groupIndices);
    expect(Array.from(ds.puzzleIdentifiers)).toEqual(want.ids);
    expect([ds.numExamples, ds.numPuzzles, ds.numGroups]).toEqual([want.inputs.length, want.ids.length, 4]);
    expect(ds.metadata).toEqual({
      ...META,
      seq_len: 6,
      total_groups: 4,
      total_puzzles: want.ids.length,
      mean_puzzle_examples: want.inputs.length / want.ids.length,
      sets: ['all'],
    });
    expect(readIdentifiers(out)).toEqual(['<blank>', 'a', 'b', 'c', 'd']);
    const files = openDataset(out, 'train');
    expect(Array.from(files.labels.readRows(1, 1) as Uint8Array)).toEqual(want.labels[1]);
    files.close();
  });

  it('never shows a partial dataset: refuses to overwrite, replaces with force, cleans up on abort', () => {
    const out = join(root, 'atomic');
    writeRandom(out, 2);
    expect(() => writeRandom(out, 3)).toThrow(`--out ${out} already exists and is not empty; pass --force`);
    const second = writeRandom(out, 3, { force: true });
    expect(readDataset(out, 'train').numExamples).toBe(second.inputs.length);

    const w = DatasetWriter.create(join(root, 'aborted'));
    const split = w.split('train', 6);
    split.addExample(new Uint8Array(6), new Uint8Array(6));
    expect(existsSync(w.tempDir)).toBe(true);
    expect(existsSync(join(root, 'aborted'))).toBe(false);
    w.abort();
    expect(existsSync(w.tempDir)).toBe(false);
    expect(existsSync(join(root, 'aborted'))).toBe(false);

    // A partial folder left by a killed process (pid that cannot exist) is removed by the next build.
    const stale = join(root, '.stale.partial-999999999');
    mkdirSync(stale);
    DatasetWriter.create(join(root, 'stale')).abort();
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(root).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('checks puzzle and group boundaries while writing', () => {
    const w = DatasetWriter.create(join(root, 'bounds'));
    const split = w.split('train', 2);
    expect(() => split.endPuzzle(0)).toThrow('train puzzle 0 has no examples');
    expect(() => split.endGroup()).toThrow('train group 0 has no puzzles');
    expect(() => split.addExample(new Uint8Array(3), new Uint8Array(2))).toThrow(
      'train example 0: input has 3 tokens and label 2, expected 2 each',
    );
    split.addExample(new Uint8Array(2), new Uint8Array(2));
    expect(() => split.finish(META)).toThrow('train: 1 examples after the last puzzle');
    w.abort();
  });
});

describe('dataset reader checks', () => {
  const base = join(root, 'checked');
  writeRandom(base, 4);
  const copy = (name: string) => {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'train'), { recursive: true });
    for (const f of readdirSync(join(base, 'train')))
      writeFileSync(join(dir, 'train', f), readFileSync(join(base, 'train', f)));
    return dir;
  };

  it('names the file and field of a wrong dtype or shape', () => {
    const dir = copy('dtype');
    writeNpy(fieldPath(dir, 'train', 'labels'), { dtype: 'int32', shape: [1, 6], data: new Int32Array(6) });
    expect(() => readDataset(dir, 'train')).toThrow(
      `${fieldPath(dir, 'train', 'labels')}: labels has dtype int32, expected uint8`,
    );
    const n = readDataset(base, 'train').numExamples;
    writeNpy(fieldPath(dir, 'train', 'labels'), {
      dtype: 'uint8',
      shape: [n - 1, 6],
      data: new Uint8Array(6 * (n - 1)),
    });
    expect(() => readDataset(dir, 'train')).toThrow(`labels has shape [${n - 1}, 6], expected [${n}, 6]`);
  });

  it('rejects inconsistent indices, identifiers out of range and tokens outside the vocabulary', () => {
    const ds = readDataset(base, 'train');
    const dir = copy('indices');
    const bad = Int32Array.from(ds.puzzleIndices);
    bad[bad.length - 1]! -= 1;
    writeNpy(fieldPath(dir, 'train', 'puzzle_indices'), { dtype: 'int32', shape: [bad.length], data: bad });
    expect(() => readDataset(dir, 'train')).toThrow(
      `puzzle_indices ends at ${ds.numExamples - 1}, expected ${ds.numExamples} (the number of examples)`,
    );

    const dir2 = copy('ids');
    const ids = Int32Array.from(ds.puzzleIdentifiers);
    ids[0] = 5;
    writeNpy(fieldPath(dir2, 'train', 'puzzle_identifiers'), { dtype: 'int32', shape: [ids.length], data: ids });
    expect(() => readDataset(dir2, 'train')).toThrow(
      'puzzle_identifiers[0] is 5, expected 0..4 (num_puzzle_identifiers)',
    );

    const dir3 = copy('tokens');
    const inputs = Uint8Array.from(ds.inputs);
    inputs[6 + 2] = 7;
    writeNpy(fieldPath(dir3, 'train', 'inputs'), { dtype: 'uint8', shape: [ds.numExamples, 6], data: inputs });
    expect(() => readDataset(dir3, 'train')).toThrow('inputs[1][2] is 7, expected a token id below vocab_size 7');
  });

  it('names missing splits and bad metadata fields', () => {
    expect(() => readDataset(base, 'test')).toThrow(`no split "test" (missing ${metadataPath(base, 'test')})`);
    expect(() => readDataset(join(root, 'nowhere'), 'train')).toThrow('nowhere does not exist');
    const dir = copy('meta');
    const meta = JSON.parse(readFileSync(metadataPath(dir, 'train'), 'utf8'));
    delete meta.seq_len;
    writeFileSync(metadataPath(dir, 'train'), JSON.stringify(meta));
    expect(() => readDataset(dir, 'train')).toThrow(`${metadataPath(dir, 'train')}: seq_len is required`);
    writeFileSync(metadataPath(dir, 'train'), JSON.stringify({ ...meta, seq_len: 6, total_groups: 3 }));
    expect(() => readDataset(dir, 'train')).toThrow('total_groups is 3, but the files hold 4');
  });

  it('names identifiers.json and says what it should hold when it is not a JSON array of names', () => {
    const dir = copy('identifiers');
    const path = join(dir, 'identifiers.json');
    const expected = 'expected a JSON array of puzzle identifier names';
    writeFileSync(path, 'not json');
    expect(() => readIdentifiers(dir)).toThrow(`${path} is not valid JSON (Unexpected token`);
    expect(() => readIdentifiers(dir)).toThrow(expected);
    writeFileSync(path, '{"a": 1}');
    expect(() => readIdentifiers(dir)).toThrow(`${path} holds object; ${expected}`);
    writeFileSync(path, '["<blank>", 3]');
    expect(() => readIdentifiers(dir)).toThrow(`${path}: entry 1 is 3, not a string; ${expected}`);
  });
});
