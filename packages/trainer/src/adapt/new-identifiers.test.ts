import { describe, expect, it } from 'vitest';
import { extendTable, planTable } from './new-identifiers.js';

describe('planTable', () => {
  it('appends the unseen names as new rows and maps every data id', () => {
    const plan = planTable(['<blank>', 'a', 'b'], ['<blank>', 'b', 'new1', 'a', 'new2'], 5);
    expect(plan.names).toEqual(['<blank>', 'a', 'b', 'new1', 'new2']);
    expect(Array.from(plan.idMap)).toEqual([0, 2, 3, 1, 4]);
    expect(plan.newRows).toEqual([3, 4]);
  });
});

describe('extendTable', () => {
  it('keeps the old rows and fills new ones with their mean', () => {
    const t = extendTable(Float32Array.from([1, 2, 3, 6]), 2, 2, 2);
    expect(Array.from(t)).toEqual([1, 2, 3, 6, 2, 4, 2, 4]);
    expect(() => extendTable(new Float32Array(3), 2, 2, 1)).toThrow(/2 x 2/);
  });
});
