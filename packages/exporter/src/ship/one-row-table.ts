// The puzzle table of a shipped model: one row, the mean of the trained rows. `adapt` starts the rows of new
// puzzles at the mean of the rows a model has, so a one-row table holding that mean starts them where the trained
// rows point on average, at a fraction of the size (an ARC table has a row per task and augmentation).
import { BLANK_IDENTIFIER, type NamedArray } from '@trm/core';

export interface OneRowTable {
  /** the kept row: the mean of the averaged rows, computed in float64 */
  row: Float32Array;
  /** first and last row averaged (inclusive) */
  first: number;
  last: number;
  /** rows of the source table */
  rows: number;
}

/**
 * The one-row table of a trained table. Row 0 is left out of the mean when it is the `<blank>` row of the dataset
 * format (no example carries it, so training never moves it off its initial zeros); a table of that row alone keeps
 * it. Without the blank name, row 0 is a trained puzzle and counts like the others.
 */
export function oneRowTable(table: NamedArray, identifiers: readonly string[]): OneRowTable {
  const [rows, dim] = table.shape as [number, number];
  if (table.shape.length !== 2 || table.data.length !== rows * dim)
    throw new Error(`the puzzle table must be [rows, dim] with rows x dim values (got shape [${table.shape}])`);
  if (identifiers.length !== rows)
    throw new Error(`identifiers.json names ${identifiers.length} rows but the puzzle table has ${rows}`);
  const first = identifiers[0] === BLANK_IDENTIFIER && rows > 1 ? 1 : 0;
  const last = rows - 1;
  const sum = new Float64Array(dim);
  for (let r = first; r <= last; r++) {
    const base = r * dim;
    for (let d = 0; d < dim; d++) sum[d]! += table.data[base + d]!;
  }
  const count = last - first + 1;
  const row = new Float32Array(dim);
  for (let d = 0; d < dim; d++) row[d] = sum[d]! / count;
  return { row, first, last, rows };
}
