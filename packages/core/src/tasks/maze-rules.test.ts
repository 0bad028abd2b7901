import { describe, expect, it } from 'vitest';
import type { MazeGrid } from './maze.js';
import { checkMazeRules } from './maze-rules.js';

// A 30x30 maze: walls on the border and along column 10 from row 4 down, S at row 2 column 2, G at row 29 column 29
// (counting from 1). The answer marks a path along row 2 and column 29.
function maze(): string[][] {
  const rows = Array.from({ length: 30 }, (_, r) =>
    Array.from({ length: 30 }, (_, c): string => (r === 0 || r === 29 || c === 0 || c === 29 ? '#' : ' ')),
  );
  for (let r = 3; r < 29; r++) rows[r]![9] = '#';
  rows[1]![1] = 'S';
  rows[28]![28] = 'G';
  return rows;
}

function solved(): string[][] {
  const rows = maze();
  for (let c = 2; c <= 28; c++) rows[1]![c] = 'o';
  for (let r = 2; r < 28; r++) rows[r]![28] = 'o';
  return rows;
}

const text = (rows: string[][]): MazeGrid => rows.map((r) => r.join(''));
const check = (answer: string[][], question = maze()) => checkMazeRules(text(question), text(answer));

describe('checkMazeRules', () => {
  it('accepts a path of path cells from S to G', () => {
    expect(check(solved())).toEqual({ valid: true });
  });

  it('asks for a connection only: stray path cells and detours are allowed', () => {
    const answer = solved();
    answer[10]![3] = 'o';
    answer[2]![2] = 'o';
    expect(check(answer)).toEqual({ valid: true });
  });

  it('accepts G next to S with no path cell at all', () => {
    const question = maze();
    question[1]![2] = 'G';
    question[28]![28] = ' ';
    expect(check(question, question)).toEqual({ valid: true });
  });

  it('refuses changed walls, S and G, naming the first changed cell', () => {
    const overWall = solved();
    overWall[5]![9] = 'o';
    expect(check(overWall)).toEqual({ valid: false, reason: 'the wall at row 6, column 10 was changed to path' });
    const newWall = solved();
    newWall[1]![5] = '#';
    expect(check(newWall)).toEqual({ valid: false, reason: 'row 2, column 6 (open in the maze) became a wall' });
    const movedS = solved();
    movedS[1]![1] = 'o';
    movedS[2]![1] = 'S';
    expect(check(movedS)).toEqual({ valid: false, reason: 'S at row 2, column 2 was changed to path' });
    const secondG = solved();
    secondG[3]![3] = 'G';
    expect(check(secondG)).toEqual({
      valid: false,
      reason: 'a G appeared at row 4, column 4 (the maze has it at row 29, column 29)',
    });
    const lostG = solved();
    lostG[28]![28] = ' ';
    expect(check(lostG)).toEqual({ valid: false, reason: 'G at row 29, column 29 was changed to open' });
  });

  it('says why the path does not join S to G', () => {
    expect(check(maze())).toEqual({ valid: false, reason: "the answer marks no path ('o' cells) from S to G" });
    const awayFromS = solved();
    awayFromS[1]![2] = ' ';
    expect(check(awayFromS)).toEqual({ valid: false, reason: "no path cell ('o') is next to S at row 2, column 2" });
    const awayFromG = solved();
    awayFromG[27]![28] = ' ';
    expect(check(awayFromG)).toEqual({ valid: false, reason: "no path cell ('o') is next to G at row 29, column 29" });
    const broken = solved();
    broken[1]![15] = ' ';
    expect(check(broken)).toEqual({ valid: false, reason: "the path cells ('o') from S do not reach G" });
  });

  it('refuses every answer to a maze without exactly one S and one G, and an answer of another size', () => {
    const noS = maze();
    noS[1]![1] = ' ';
    expect(check(noS, noS)).toEqual({ valid: false, reason: 'the maze has no S' });
    const twoG = maze();
    twoG[5]![5] = 'G';
    expect(check(twoG, twoG)).toEqual({ valid: false, reason: 'the maze has 2 Gs' });
    expect(checkMazeRules(text(maze()), text(maze()).slice(1))).toEqual({
      valid: false,
      reason: 'the answer is not 30x30 like the maze',
    });
  });
});
