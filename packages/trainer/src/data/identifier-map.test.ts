import { describe, expect, it } from 'vitest';
import { mapIdentifiers } from './identifier-map.js';

describe('mapIdentifiers', () => {
  it('maps data ids to model rows by name and lists the names the model lacks', () => {
    const m = mapIdentifiers(['<blank>', 'a', 'b', 'c'], ['<blank>', 'c', 'x', 'a', 'y'], 5, 4);
    expect(Array.from(m.map)).toEqual([0, 3, -1, 1, -1]);
    expect(m.unknown).toEqual([
      { id: 2, name: 'x' },
      { id: 4, name: 'y' },
    ]);
  });

  it('maps ids to themselves without names, when they fit the table', () => {
    expect(Array.from(mapIdentifiers(null, null, 2, 3).map)).toEqual([0, 1]);
    expect(() => mapIdentifiers(['<blank>'], null, 4, 3)).toThrow(
      /4 puzzle identifiers .* 3 rows, and identifiers.json is missing on the data side/,
    );
  });
});
