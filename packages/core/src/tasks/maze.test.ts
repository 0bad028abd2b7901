import { describe, expect, it } from 'vitest';
import {
  decodeMaze,
  encodeMaze,
  mazeFromCells,
  mazeToCells,
  mazeToString,
  parseMazeString,
  validateMazeRows,
} from './maze.js';

// A 30x30 maze: walls on the border, S at (1,1), G at (28,28), a path 'o' along row 1 and column 28.
function sampleMaze(): string[] {
  const rows: string[][] = Array.from({ length: 30 }, (_, r) =>
    Array.from({ length: 30 }, (_, c) => (r === 0 || r === 29 || c === 0 || c === 29 ? '#' : ' ')),
  );
  for (let c = 2; c <= 28; c++) rows[1]![c] = 'o';
  for (let r = 2; r < 28; r++) rows[r]![28] = 'o';
  rows[1]![1] = 'S';
  rows[28]![28] = 'G';
  return rows.map((r) => r.join(''));
}

describe('maze codec', () => {
  it('encodes the charset "# SGo" as tokens 1..5 and round-trips', () => {
    const maze = sampleMaze();
    const s = mazeToString(maze);
    expect(s).toHaveLength(900);
    expect(parseMazeString(s)).toEqual(maze);
    const tokens = encodeMaze(maze);
    expect(tokens[0]).toBe(1); // '#'
    expect(tokens[31]).toBe(3); // 'S' at (1,1)
    expect(tokens[32]).toBe(5); // 'o'
    expect(tokens[2 * 30 + 1]).toBe(2); // ' '
    expect(tokens[28 * 30 + 28]).toBe(4); // 'G'
    expect(decodeMaze(tokens)).toEqual(maze);
  });

  it('decodes PAD and unknown ids as walls', () => {
    const tokens = new Uint8Array(900).fill(2);
    tokens[0] = 0;
    tokens[1] = 6;
    tokens[2] = 5;
    expect(decodeMaze(tokens)[0]!.slice(0, 4)).toBe('##o ');
  });

  it('converts to and from numeric cell codes 1..5', () => {
    const maze = sampleMaze();
    const cells = mazeToCells(maze);
    expect(cells[1]!.slice(0, 3)).toEqual([1, 3, 5]);
    expect(mazeFromCells(cells)).toEqual(maze);
    cells[4]![6] = 0;
    expect(() => mazeFromCells(cells)).toThrow('grid[4][6] must be an integer 1..5 (got 0)');
  });

  it('rejects bad input with the position', () => {
    const s = mazeToString(sampleMaze());
    expect(() => parseMazeString(s.slice(0, 899))).toThrow('maze has 899 characters, expected 900');
    expect(() => parseMazeString(`${s.slice(0, 31)}x${s.slice(32)}`, 'question')).toThrow(
      'question character 31 (row 1, col 1) is "x", expected one of "# SGo"',
    );
    const rows = sampleMaze();
    expect(validateMazeRows(rows)).toEqual(rows);
    rows[3] = rows[3]!.slice(1);
    expect(() => validateMazeRows(rows)).toThrow('maze row 3 has 29 cells, expected 30');
    expect(() => validateMazeRows('abc')).toThrow('maze must be an array of 30 strings');
  });
});
