// The playground's text forms and grid checks (public/tasks.js): what a person pastes turns into the grid the
// HTTP API expects, mistakes are named by line and column, and the text written back reads back the same.
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from './public/examples.js';
import { changedCells, checkGrid, emptyGrid, formatGridText, parseGridText } from './public/tasks.js';

const SUDOKU = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

describe('parseGridText', () => {
  it('reads a sudoku in the 81-character form, with 0 or . blanks and separators ignored', () => {
    const grid = parseGridText('sudoku', SUDOKU);
    expect(grid).toHaveLength(9);
    expect(grid[0]).toEqual([5, 3, 0, 0, 7, 0, 0, 0, 0]);
    expect(grid[8]).toEqual([0, 0, 0, 0, 8, 0, 0, 7, 9]);
    const boxed = SUDOKU.replace(/\./g, '0')
      .match(/.{9}/g)!
      .map((row) => `${row.slice(0, 3)} | ${row.slice(3, 6)} | ${row.slice(6)}`)
      .join('\n');
    expect(parseGridText('sudoku', `\n${boxed}\n------+-------+------\n`)).toEqual(grid);
  });

  it('names what is wrong with a sudoku', () => {
    expect(() => parseGridText('sudoku', SUDOKU.slice(1))).toThrow('Found 80 cells, expected 81');
    expect(() => parseGridText('sudoku', `x${SUDOKU.slice(1)}`)).toThrow('Unexpected character "x" after 0 cells');
    expect(() => parseGridText('sudoku', '  ')).toThrow('Nothing to read');
  });

  it('reads a maze as 30 lines or as the 900-character CSV form, and drops path marks', () => {
    const text = EXAMPLES.maze[0]!.text;
    const grid = parseGridText('maze', text);
    expect(grid).toHaveLength(30);
    expect(grid.flat().filter((v) => v === 3)).toHaveLength(1);
    expect(grid.flat().filter((v) => v === 4)).toHaveLength(1);
    expect(grid[0]!.slice(0, 5)).toEqual([1, 2, 2, 2, 1]); // '#   #'
    expect(parseGridText('maze', text.replace(/\n/g, ''))).toEqual(grid);
    const withPath = `o${text.slice(1)}`; // first cell is a wall in the example; mark it as path instead
    expect(parseGridText('maze', withPath)[0]![0]).toBe(2);
  });

  it('names the line and column of a bad maze character', () => {
    const lines = EXAMPLES.maze[0]!.text.split('\n');
    lines[4] = `${lines[4]!.slice(0, 7)}x${lines[4]!.slice(8)}`;
    expect(() => parseGridText('maze', lines.join('\n'))).toThrow('Line 5, column 8 is "x"');
    expect(() => parseGridText('maze', lines.slice(0, 29).join('\n'))).toThrow('Found 29 lines, expected 30');
  });

  it('reads ARC rows with or without separators, and JSON for any task', () => {
    expect(parseGridText('arc', '012\n345\n')).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(parseGridText('arc', '0, 1, 2\n3 4 5')).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(parseGridText('arc', '[[7,8],[9,0]]')).toEqual([
      [7, 8],
      [9, 0],
    ]);
    expect(() => parseGridText('arc', '01\n2')).toThrow('Row 2 has 1 cells, but row 1 has 2');
    expect(() => parseGridText('arc', '[[1,2],[3,10]]')).toThrow('Row 2, cell 2 is 10; expected a whole number 0-9');
    expect(() => parseGridText('arc', '[[1,2]')).toThrow('not valid JSON');
    expect(() => parseGridText('sudoku', '[[1,2],[3,4]]')).toThrow('The grid is 2x2; a Sudoku grid is 9x9');
  });

  it('reads every built-in example', () => {
    for (const [task, examples] of Object.entries(EXAMPLES)) {
      for (const example of examples) {
        const grid = parseGridText(task as 'sudoku' | 'maze' | 'arc', example.text);
        expect(() => checkGrid(task as 'sudoku' | 'maze' | 'arc', grid)).not.toThrow();
      }
    }
    expect(
      EXAMPLES.sudoku.map(
        (e) =>
          parseGridText('sudoku', e.text)
            .flat()
            .filter((v) => v !== 0).length,
      ),
    ).toEqual([45, 34, 26]);
  });
});

describe('formatGridText', () => {
  it('writes text that parses back to the same grid', () => {
    const sudoku = parseGridText('sudoku', SUDOKU);
    expect(formatGridText('sudoku', sudoku).split('\n')[0]).toBe('53..7....');
    expect(parseGridText('sudoku', formatGridText('sudoku', sudoku))).toEqual(sudoku);
    const maze = parseGridText('maze', EXAMPLES.maze[1]!.text);
    expect(formatGridText('maze', maze)).toBe(EXAMPLES.maze[1]!.text);
    const arc = parseGridText('arc', EXAMPLES.arc[2]!.text);
    expect(parseGridText('arc', formatGridText('arc', arc))).toEqual(arc);
  });
});

describe('changedCells', () => {
  it('lists the row-major indices that differ, or every cell when the shape changed', () => {
    const a = emptyGrid('arc', 2, 3);
    const b = a.map((row) => row.slice());
    b[0]![2] = 4;
    b[1]![0] = 1;
    expect(changedCells(a, b)).toEqual([2, 3]);
    expect(changedCells(a, a)).toEqual([]);
    expect(changedCells(emptyGrid('arc', 3, 3), b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(changedCells(null, b)).toHaveLength(6);
  });
});
