// The words under the answer (public/verdict.js) for each check the server can send.
import { describe, expect, it } from 'vitest';
import { verdict } from './public/verdict.js';

describe('verdict', () => {
  it('says solved, per task', () => {
    expect(verdict('sudoku', { check: { valid: true }, givensRestored: 0 })).toEqual({
      kind: 'solved',
      text: 'Solved: every row, column and box holds 1-9 exactly once.',
    });
    expect(verdict('maze', { check: { valid: true } })?.text).toBe('Solved: the marked path joins S to G.');
  });

  it("gives the server's reason for an answer that is not a solution, and the givens it wrote back", () => {
    expect(verdict('sudoku', { check: { valid: false, reason: 'row 3 has two 7s' }, givensRestored: 2 })).toEqual({
      kind: 'invalid',
      text: 'Not a valid solution: row 3 has two 7s. The model changed 2 givens; the server wrote them back.',
    });
    expect(verdict('sudoku', { check: { valid: true }, givensRestored: 1 })?.text).toBe(
      'Solved: every row, column and box holds 1-9 exactly once. The model changed a given; the server wrote it back.',
    );
  });

  it('says when there is no rule check, and nothing when the server sent none', () => {
    expect(verdict('arc', { check: { valid: null, reason: 'no rule check for ARC' } })).toEqual({
      kind: 'unchecked',
      text: 'Not checked: no rule check for ARC.',
    });
    expect(verdict('sudoku', {})).toBeNull();
  });
});
