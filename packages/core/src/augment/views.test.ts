import { describe, expect, it } from 'vitest';
import { checkMazeAnswer } from '../check/maze.js';
import { decodeMaze, encodeMaze } from '../tasks/maze.js';
import { decodeSudoku, encodeSudoku, parseSudokuString } from '../tasks/sudoku.js';
import { Rng } from '../util/random.js';
import { dihedral } from './dihedral.js';
import { applySudokuShuffle, randomSudokuShuffle } from './sudoku.js';
import { answerFollowsRules, fromView, puzzleViews, sudokuView, toView } from './views.js';

const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const SOLUTION = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';

// A 30x30 maze: walls around, an open corridor along row 1 from S to G, and the path marked in the answer.
function corridorMaze(): { question: string[]; answer: string[] } {
  const rows = Array.from({ length: 30 }, () => '#'.repeat(30).split(''));
  for (let c = 1; c < 29; c++) rows[1]![c] = ' ';
  for (let r = 2; r < 10; r++) rows[r]![5] = ' ';
  rows[1]![1] = 'S';
  rows[1]![28] = 'G';
  const question = rows.map((r) => r.join(''));
  const answer = rows.map((r, i) => (i === 1 ? r.map((ch) => (ch === ' ' ? 'o' : ch)).join('') : r.join('')));
  return { question, answer };
}

describe('puzzle views', () => {
  it('a sudoku view moves cells and digits as applySudokuShuffle does, and fromView undoes it', () => {
    const rng = new Rng(3);
    const puzzle = parseSudokuString(PUZZLE);
    for (let k = 0; k < 20; k++) {
      const s = randomSudokuShuffle(rng);
      const view = sudokuView(s);
      const tokens = encodeSudoku(puzzle);
      expect(Array.from(toView(view, tokens))).toEqual(Array.from(encodeSudoku(applySudokuShuffle(puzzle, s))));
      expect(Array.from(fromView(view, toView(view, tokens)))).toEqual(Array.from(tokens));
    }
  });

  it("the solution of a sudoku view, mapped back, is the puzzle's solution and follows its rules", () => {
    const puzzle = encodeSudoku(parseSudokuString(PUZZLE));
    const solution = encodeSudoku(parseSudokuString(SOLUTION));
    const views = puzzleViews('sudoku', 8, 5);
    expect(views[0]!.name).toBe('identity');
    for (const view of views) {
      const viewPuzzle = toView(view, puzzle);
      const viewSolution = toView(view, solution);
      expect(answerFollowsRules('sudoku', viewPuzzle, viewSolution)).toBe(true);
      expect(Array.from(fromView(view, viewSolution))).toEqual(Array.from(solution));
    }
  });

  it('tokens outside the digits (blank, PAD, unknown ids) keep their value through a view and back', () => {
    const [, view] = puzzleViews('sudoku', 2, 1);
    const row = new Int32Array(81).fill(1);
    row[0] = 0;
    row[1] = 42;
    const back = fromView(view!, toView(view!, row));
    expect(Array.from(back)).toEqual(Array.from(row));
  });

  it('sudoku rule check: the solution passes; a changed given, a repeated digit or a blank cell fails', () => {
    const puzzle = encodeSudoku(parseSudokuString(PUZZLE));
    const solution = encodeSudoku(parseSudokuString(SOLUTION));
    expect(answerFollowsRules('sudoku', puzzle, solution)).toBe(true);
    const swapped = solution.slice();
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!]; // both givens: valid digits, givens changed, row intact
    expect(answerFollowsRules('sudoku', puzzle, swapped)).toBe(false);
    const blank = solution.slice();
    blank[2] = 1;
    expect(answerFollowsRules('sudoku', puzzle, blank)).toBe(false);
    const repeated = solution.slice();
    repeated[2] = repeated[3]!;
    expect(answerFollowsRules('sudoku', puzzle, repeated)).toBe(false);
    expect(decodeSudoku(solution)[0]).toEqual([5, 3, 4, 6, 7, 8, 9, 1, 2]);
  });

  it("maze views are the square's 8 symmetries; a view's path maps back to the maze's path", () => {
    const { question, answer } = corridorMaze();
    const q = encodeMaze(question);
    const a = encodeMaze(answer);
    const views = puzzleViews('maze', 8);
    expect(views.map((v) => v.name)).toEqual([
      'identity',
      'rot90',
      'rot180',
      'rot270',
      'fliplr',
      'flipud',
      'transpose',
      'anti-transpose',
    ]);
    for (const [tid, view] of views.entries()) {
      const vq = toView(view, q);
      const grid = Array.from({ length: 30 }, (_, r) => question[r]!.split(''));
      expect(decodeMaze(vq)).toEqual(dihedral(grid, tid).map((r) => r.join('')));
      expect(answerFollowsRules('maze', vq, toView(view, a))).toBe(true);
      expect(Array.from(fromView(view, toView(view, a)))).toEqual(Array.from(a));
    }
    const broken = answer.slice();
    broken[1] = broken[1]!.replace('ooo', '   ');
    expect(checkMazeAnswer(question, broken).valid).toBe(false);
    expect(answerFollowsRules('maze', q, encodeMaze(broken))).toBe(false);
  });

  it('errors: no views for ARC, at most 8 for a maze, a count of at least 1, rows of the right length', () => {
    expect(() => puzzleViews('arc', 2)).toThrow(/arc answers cannot be checked/);
    expect(() => puzzleViews('maze', 9)).toThrow(/at most 8 views/);
    expect(() => puzzleViews('sudoku', 0)).toThrow(/count must be an integer >= 1/);
    expect(() => toView(puzzleViews('sudoku', 1)[0]!, [1, 2])).toThrow(/view of 2 tokens, expected 81/);
    expect(() => answerFollowsRules('arc', [], [])).toThrow(/cannot be checked/);
  });
});
