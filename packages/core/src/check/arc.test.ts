import { describe, expect, it } from 'vitest';
import { gridsEqual } from './arc.js';

describe('gridsEqual', () => {
  it('compares size and every cell', () => {
    expect(gridsEqual([[1, 2]], [[1, 2]])).toBe(true);
    expect(gridsEqual([], [])).toBe(true);
    expect(gridsEqual([[1, 2]], [[1, 3]])).toBe(false);
    expect(gridsEqual([[1, 2]], [[1, 2, 0]])).toBe(false);
    expect(gridsEqual([[1], [2]], [[1]])).toBe(false);
    expect(gridsEqual([[1, 2]], [[1], [2]])).toBe(false);
  });
});
