import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isValidSudokuSolution } from '../check/sudoku.js';
import { decodeSudoku, parseSudokuString } from '../tasks/sudoku.js';
import { buildSudokuDataset, readDataset, readIdentifiers } from './index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'sudoku');
const root = mkdtempSync(join(tmpdir(), 'build-sudoku-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, log: () => {} };

function csvRows(path: string): { q: string; a: string }[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [, q, a] = l.split(',');
      return { q: q!, a: a! };
    });
}

const row = (tokens: Uint8Array, i: number) => tokens.subarray(i * 81, (i + 1) * 81);

describe('sudoku builder', () => {
  it('builds 20 puzzles x (1 + 3 shuffles) in groups, with valid augmented solutions', async () => {
    const out = join(root, 'aug');
    const summary = await buildSudokuDataset({ input: FIXTURES, out, subsample: 20, augment: 3, seed: 7, ...quiet });
    expect(summary.splits.map((s) => [s.split, s.examples, s.puzzles, s.groups])).toEqual([
      ['train', 80, 80, 20],
      ['test', 4, 4, 4],
    ]);
    const train = readDataset(out, 'train');
    expect([train.numExamples, train.metadata.seq_len, train.metadata.vocab_size]).toEqual([80, 81, 11]);
    expect(Array.from(train.groupIndices)).toEqual(Array.from({ length: 21 }, (_, g) => 4 * g));
    expect(Array.from(train.puzzleIndices)).toEqual(Array.from({ length: 81 }, (_, i) => i));
    expect(new Set(train.puzzleIdentifiers)).toEqual(new Set([0]));
    expect(train.metadata).toMatchObject({
      pad_id: 0,
      ignore_label_id: 0,
      blank_identifier_id: 0,
      num_puzzle_identifiers: 1,
      total_groups: 20,
      mean_puzzle_examples: 1,
    });
    expect(readIdentifiers(out)).toEqual(['<blank>']);

    const source = csvRows(join(FIXTURES, 'train.csv'));
    const originals = new Set(source.map((r) => r.q));
    const used = new Set<string>();
    for (let g = 0; g < 20; g++) {
      // The first puzzle of each group is a CSV row as is; the other three are shuffles of it.
      const first = decodeSudoku(row(train.inputs, 4 * g));
      const q = first
        .flat()
        .map((v) => (v === 0 ? '.' : String(v)))
        .join('');
      expect(originals.has(q)).toBe(true);
      used.add(q);
      const clues = first.flat().filter((v) => v !== 0).length;
      for (let k = 0; k < 4; k++) {
        const puzzle = decodeSudoku(row(train.inputs, 4 * g + k));
        const solution = decodeSudoku(row(train.labels, 4 * g + k));
        expect(isValidSudokuSolution(puzzle, solution)).toBe(true);
        expect(puzzle.flat().filter((v) => v !== 0).length).toBe(clues);
        if (k > 0) expect(puzzle).not.toEqual(first);
      }
    }
    expect(used.size).toBe(20);

    // The test split is the test CSV in order, not augmented.
    const test = readDataset(out, 'test');
    const testRows = csvRows(join(FIXTURES, 'test.csv'));
    testRows.forEach((r, i) => {
      expect(decodeSudoku(row(test.inputs, i))).toEqual(parseSudokuString(r.q));
      expect(decodeSudoku(row(test.labels, i))).toEqual(parseSudokuString(r.a));
    });
  });

  it('is reproducible from the seed and varies with it', async () => {
    const build = async (name: string, seed: number) => {
      await buildSudokuDataset({
        input: join(FIXTURES, 'train.csv'),
        out: join(root, name),
        subsample: 5,
        augment: 2,
        seed,
        ...quiet,
      });
      return readDataset(join(root, name), 'train').inputs;
    };
    const a = await build('s1', 1);
    expect(await build('s1b', 1)).toEqual(a);
    expect(await build('s2', 2)).not.toEqual(a);
  });

  it('uses every row without --subsample and names bad rows by file and line', async () => {
    const all = await buildSudokuDataset({ input: FIXTURES, out: join(root, 'all'), ...quiet });
    expect(all.splits[0]!.groups).toBe(24);
    const bad = join(root, 'bad');
    rmSync(bad, { recursive: true, force: true });
    const lines = readFileSync(join(FIXTURES, 'train.csv'), 'utf8').split('\n');
    // Swap two digits of the answer on line 3: still 81 digits, but no longer a solution.
    const fields = lines[2]!.split(',');
    fields[2] = fields[2]!.replace(/^(.)(.)/, '$2$1');
    lines[2] = fields.join(',');
    mkdirSync(bad);
    writeFileSync(join(bad, 'train.csv'), lines.join('\n'));
    writeFileSync(join(bad, 'test.csv'), readFileSync(join(FIXTURES, 'test.csv')));
    await expect(buildSudokuDataset({ input: bad, out: join(root, 'bad-out'), ...quiet })).rejects.toThrow(
      `${join(bad, 'train.csv')}:3: the answer does not solve the question`,
    );
    await expect(buildSudokuDataset({ input: join(root, 'none'), out: join(root, 'x'), ...quiet })).rejects.toThrow(
      `--input ${join(root, 'none')} does not exist`,
    );
    await expect(
      buildSudokuDataset({ input: join(FIXTURES, 'test.csv'), out: join(root, 'x'), ...quiet }),
    ).rejects.toThrow('is the test file');
  });
});
