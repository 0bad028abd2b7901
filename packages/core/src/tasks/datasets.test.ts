// Every codec against every shared data set: each grid encodes and decodes back exactly, each sudoku answer solves
// its question, and every augmentation is undone by its inverse on real data. Reads ../shared/data relative to the
// repository root, or TRM_DATA_DIR.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyArcAugmentation, inverseArcAugmentation, randomArcAugmentation } from '../augment/arc.js';
import { dihedral, inverseDihedral } from '../augment/dihedral.js';
import { applySudokuShuffle, invertSudokuShuffle, randomSudokuShuffle } from '../augment/sudoku.js';
import { randomTranslation } from '../augment/translate.js';
import { gridsEqual } from '../check/arc.js';
import { isValidSudokuSolution } from '../check/sudoku.js';
import { Rng } from '../util/random.js';
import { type ArcTask, decodeArc, encodeArc, loadArcTaskDir } from './arc.js';
import type { Grid } from './grid.js';
import { decodeMaze, encodeMaze, mazeFromCells, mazeToCells, mazeToString, parseMazeString } from './maze.js';
import { decodeSudoku, encodeSudoku, parseSudokuString, sudokuToString } from './sudoku.js';

const DATA = process.env.TRM_DATA_DIR ?? fileURLToPath(new URL('../../../../../shared/data', import.meta.url));

function dataPath(...parts: string[]): string {
  const path = join(DATA, ...parts);
  if (!existsSync(path)) throw new Error(`shared data not found at ${path} (set TRM_DATA_DIR to the data folder)`);
  return path;
}

/** question/answer columns of a `source,question,answer,rating` CSV (no field holds a comma or a quote). */
function readQa(path: string): { question: string; answer: string }[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  expect(lines[0]).toBe('source,question,answer,rating');
  return lines
    .slice(1)
    .filter((l) => l.length > 0)
    .map((line, i) => {
      const f = line.split(',');
      if (f.length !== 4) throw new Error(`${path} line ${i + 2}: ${f.length} fields, expected 4`);
      return { question: f[1]!, answer: f[2]! };
    });
}

const same = (a: Grid, b: Grid) => gridsEqual(a, b);

describe('sudoku data', () => {
  for (const split of ['train', 'test']) {
    it(`${split}.csv: every row round-trips, every answer solves its question, shuffles stay valid`, () => {
      const rows = readQa(dataPath('sudoku', `${split}.csv`));
      expect(rows.length).toBe(split === 'train' ? 45_428 : 4_047);
      const rng = new Rng(split === 'train' ? 1 : 2);
      let bad = 0;
      for (const { question, answer } of rows) {
        const q = parseSudokuString(question);
        const a = parseSudokuString(answer);
        const s = randomSudokuShuffle(rng);
        const sq = applySudokuShuffle(q, s);
        const sa = applySudokuShuffle(a, s);
        const inv = invertSudokuShuffle(s);
        const ok =
          sudokuToString(q) === question &&
          sudokuToString(a) === answer &&
          same(decodeSudoku(encodeSudoku(q)), q) &&
          same(decodeSudoku(encodeSudoku(a)), a) &&
          isValidSudokuSolution(q, a) &&
          isValidSudokuSolution(sq, sa) &&
          same(applySudokuShuffle(sq, inv), q) &&
          same(applySudokuShuffle(sa, inv), a);
        if (!ok) bad++;
      }
      expect(bad).toBe(0);
    });
  }
});

describe('maze data', () => {
  for (const split of ['train', 'test']) {
    it(`${split}.csv: every maze and solution round-trips through every form and every dihedral transform`, () => {
      const rows = readQa(dataPath('maze-hard-like', `${split}.csv`));
      expect(rows.length).toBe(split === 'train' ? 1000 : 800);
      let bad = 0;
      for (const { question, answer } of rows) {
        for (const s of [question, answer]) {
          const maze = parseMazeString(s);
          const chars = maze.map((r) => [...r]);
          let ok =
            mazeToString(decodeMaze(encodeMaze(maze))) === s && mazeToString(mazeFromCells(mazeToCells(maze))) === s;
          for (let tid = 0; tid < 8; tid++) {
            const back = inverseDihedral(dihedral(chars, tid), tid).map((r) => r.join(''));
            ok &&= mazeToString(back) === s;
          }
          if (!ok) bad++;
        }
      }
      expect(bad).toBe(0);
    });
  }
});

function checkArcTasks(tasks: Map<string, ArcTask>, seed: number): { pairs: number; tests: number; bad: string[] } {
  const rng = new Rng(seed);
  const bad: string[] = [];
  let pairs = 0;
  let tests = 0;
  for (const [id, task] of tasks) {
    const aug = randomArcAugmentation(rng);
    for (const pair of [...task.train, ...task.test]) {
      const grids = pair.output === undefined ? [pair.input] : [pair.input, pair.output];
      const offset = randomTranslation(rng, grids);
      for (const g of grids) {
        const ok =
          same(decodeArc(encodeArc(g)), g) &&
          same(decodeArc(encodeArc(g, offset), offset), g) &&
          same(inverseArcAugmentation(applyArcAugmentation(g, aug), aug), g);
        if (!ok) bad.push(id);
      }
    }
    pairs += task.train.length;
    tests += task.test.length;
  }
  return { pairs, tests, bad };
}

describe('ARC data', () => {
  const sets: [string, string[], number, number, number][] = [
    ['ARC-AGI-1 training', ['arc-agi-1', 'training'], 400, 1302, 416],
    ['ARC-AGI-1 evaluation', ['arc-agi-1', 'evaluation'], 400, 1363, 419],
    ['ARC-AGI-2 training', ['arc-agi-2', 'training'], 1000, 3232, 1076],
    ['ConceptARC corpus', ['conceptarc', 'corpus'], 160, 427, 480],
  ];
  sets.forEach(([name, parts, nTasks, nPairs, nTests], i) => {
    it(`${name}: every task parses and every grid round-trips (plain, translated, augmented)`, async () => {
      const tasks = await loadArcTaskDir(dataPath(...parts));
      expect(tasks.size).toBe(nTasks);
      const { pairs, tests, bad } = checkArcTasks(tasks, i + 1);
      expect(bad).toEqual([]);
      expect(pairs).toBe(nPairs);
      expect(tests).toBe(nTests);
    });
  });
});
