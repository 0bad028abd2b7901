// Verdicts on answers (public/answer-check.js): a real solution passes, and each kind of mistake is named.
import { generateSudoku, Rng } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { checkAnswer, checkMaze, checkSudoku } from './public/answer-check.js';
import type { Grid } from './public/tasks.js';

function rows(s: string): Grid {
  return Array.from({ length: 9 }, (_, r) =>
    Array.from(s.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' ? 0 : Number(ch))),
  );
}

describe('checkSudoku', () => {
  const { question, answer, givens } = generateSudoku(new Rng(5), { givens: 32 });
  const puzzle = rows(question);
  const solution = rows(answer);

  it('passes the solution', () => {
    expect(checkSudoku(puzzle, solution)).toEqual({
      solved: true,
      text: `Solved: every row, column and box holds 1-9 once, and all ${givens} givens are kept.`,
    });
  });

  it('names broken units, blanks and changed givens', () => {
    const swapped = solution.map((r) => r.slice());
    // Swapping two cells of one row keeps the row whole but breaks their two columns (and boxes unless shared).
    [swapped[0]![0], swapped[0]![4]] = [swapped[0]![4]!, swapped[0]![0]!];
    const verdict = checkSudoku(puzzle, swapped);
    expect(verdict.solved).toBe(false);
    expect(verdict.text).toMatch(/^Not solved: 4 rows, columns or boxes break the rule/);

    const blank = solution.map((r) => r.slice());
    blank[8]![8] = 0;
    expect(checkSudoku(puzzle, blank).text).toBe(
      'Not solved: 3 rows, columns or boxes break the rule; 1 cell is blank.',
    );

    const given = puzzle.flat().findIndex((v) => v !== 0);
    const changed = solution.map((r) => r.slice());
    changed[Math.floor(given / 9)]![given % 9] = (solution.flat()[given]! % 9) + 1;
    expect(checkSudoku(puzzle, changed).text).toMatch(/; 1 given was changed\.$/);
  });
});

describe('checkMaze', () => {
  // S at (0,0), G at (0,4); the wall in column 2 forces the path down around it: 6 steps.
  const maze = ['S.#.G', '..#..', '.....'].map((line) =>
    Array.from(line, (ch) => ({ S: 3, G: 4, '#': 1, '.': 2 })[ch] as number),
  );
  const withPath = (cells: [number, number][]) => {
    const g = maze.map((r) => r.slice());
    for (const [r, c] of cells) g[r]![c] = 5;
    return g;
  };

  it('passes a shortest path and fails one that stops short of G', () => {
    const answer = withPath([
      [1, 0],
      [2, 0],
      [2, 1],
      [2, 2],
      [2, 3],
      [1, 3],
    ]);
    // A shortest path has 8 steps here: down 2, right 4, up 2; the path above is one cell short of joining.
    expect(checkMaze(maze, answer).text).toBe(
      'Not solved: the marked cells do not join S to G; 6 cells are marked; the shortest path has 8 steps.',
    );
    const full = withPath([
      [1, 0],
      [2, 0],
      [2, 1],
      [2, 2],
      [2, 3],
      [2, 4],
      [1, 4],
    ]);
    expect(checkMaze(maze, full)).toEqual({
      solved: true,
      text: 'Solved: the marked path joins S to G in 8 steps, the shortest possible.',
    });
  });

  it('names extra marks, detours and changed walls', () => {
    const path: [number, number][] = [
      [1, 0],
      [2, 0],
      [2, 1],
      [2, 2],
      [2, 3],
      [2, 4],
      [1, 4],
    ];
    expect(checkMaze(maze, withPath([...path, [0, 1]])).text).toBe('Not solved: 1 extra cell is marked.');
    const broken = withPath(path);
    broken[0]![2] = 5; // a wall marked as path
    expect(checkMaze(maze, broken).text).toBe(
      'Not solved: 1 extra cell is marked; 1 wall, start or goal cell was changed.',
    );
    expect(checkAnswer('arc', [[1]], [[1]])).toBeNull();
  });
});
