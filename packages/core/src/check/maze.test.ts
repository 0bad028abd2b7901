import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkMazeAnswer } from './maze.js';

// The shared data folder sits beside the repository (TRM_DATA_DIR overrides).
const DATA = process.env.TRM_DATA_DIR ?? fileURLToPath(new URL('../../../../../shared/data', import.meta.url));

describe('checkMazeAnswer', () => {
  it('accepts the shared labels as valid, shortest and exact, from strings or rows', () => {
    const lines = readFileSync(join(DATA, 'maze-hard-like/test.csv'), 'utf8').split('\n').slice(1, 11);
    for (const line of lines) {
      const [, q, a, rating] = line.split(',') as [string, string, string, string];
      const rows = (s: string) => Array.from({ length: 30 }, (_, r) => s.slice(r * 30, r * 30 + 30));
      for (const [question, answer] of [
        [q, a],
        [rows(q), rows(a)],
      ] as const) {
        expect(checkMazeAnswer(question, answer, a)).toEqual({
          valid: true,
          shortest: true,
          exact: true,
          pathLength: Number(rating),
          shortestLength: Number(rating),
        });
      }
      // The question itself (no path drawn) is not a valid answer.
      expect(checkMazeAnswer(q, q).valid).toBe(false);
    }
  });

  // 3x3 hand-made mazes, written as rows.
  const q = ['S G', '   ', '   '];

  it('tells a shortest path from a longer one and from the canonical label', () => {
    expect(checkMazeAnswer(q, ['SoG', '   ', '   '], ['SoG', '   ', '   '])).toEqual({
      valid: true,
      shortest: true,
      exact: true,
      pathLength: 2,
      shortestLength: 2,
    });
    // A detour through the bottom rows: a valid path of 4 steps where 2 would do.
    expect(checkMazeAnswer(q, ['S G', 'ooo', '   '], ['SoG', '   ', '   '])).toEqual({
      valid: true,
      shortest: false,
      exact: false,
      pathLength: 4,
      shortestLength: 2,
    });
    // Two shortest paths from the centre to a corner: the non-canonical one is shortest but not exact.
    const centre = ['  G', ' S ', '   '];
    const other = checkMazeAnswer(centre, ['  G', ' So', '   '], [' oG', ' S ', '   ']);
    expect([other.valid, other.shortest, other.exact]).toEqual([true, true, false]);
  });

  it.each([
    ['a branch', ['SoG', 'o  ', '   '], /the path branches at row 0, col 0/],
    ['a gap', ['S G', 'o  ', '   '], /the path breaks off at row 1, col 0/],
    ['a stray mark', ['SoG', '   ', '  o'], /1 marked cells are not on the S->G path/],
    ['a moved goal', ['SG ', '   ', '   '], /cell row 0, col 1 is "G" in the answer, " " in the question/],
    ['a wrong size', ['SoG', '   '], /answer has 6 cells, the question 9/],
    ['ragged rows', ['SoG', '  ', '   '], /answer rows must all have the same non-zero length/],
  ])('rejects %s with a reason', (_, answer, reason) => {
    const r = checkMazeAnswer(q, answer);
    expect(r.valid).toBe(false);
    expect(r.shortest).toBe(false);
    expect(r.pathLength).toBeNull();
    expect(r.shortestLength).toBe(2);
    expect(r.reason).toMatch(reason);
  });

  it('does not let a path cross walls and reports unreachable goals', () => {
    const walled = ['S#G', '   ', '   '];
    expect(checkMazeAnswer(walled, ['SoG', '   ', '   ']).reason).toMatch(/row 0, col 1 is "o" in the answer, "#"/);
    expect(checkMazeAnswer(walled, ['S#G', 'ooo', '   '])).toMatchObject({
      valid: true,
      shortest: true,
      pathLength: 4,
    });
    const closed = checkMazeAnswer(['S#G', '## ', '   '], ['S#G', '## ', '   ']);
    expect(closed).toMatchObject({ valid: false, shortestLength: null, reason: 'G cannot be reached from S' });
    expect(() => checkMazeAnswer(['S  ', '   ', '   '], ['S  ', '   ', '   '])).toThrow(/exactly one S and one G/);
  });
});
