// Table surgery for test-time adaptation: puzzle identifiers of the data that the model has not seen (by name)
// become new rows appended to the puzzle table, initialised to the mean of the old rows (what the reference's
// load_checkpoint puts in a table whose shape does not match), and data ids are mapped to model rows.
import { mapIdentifiers } from '../data/identifier-map.js';

export interface TablePlan {
  /** identifiers.json of the adapted model: the old names, then the new ones */
  names: string[];
  /** model row of every data id */
  idMap: Int32Array;
  /** rows added for the new names (these are the rows that learn) */
  newRows: number[];
}

/** Which data ids are new and where they go. Both sides need names to be matched. */
export function planTable(modelNames: readonly string[], dataNames: readonly string[], dataIds: number): TablePlan {
  const m = mapIdentifiers(modelNames, dataNames, dataIds, modelNames.length);
  const names = [...modelNames];
  const newRows: number[] = [];
  for (const u of m.unknown) {
    m.map[u.id] = names.length;
    newRows.push(names.length);
    names.push(u.name);
  }
  return { names, idMap: m.map, newRows };
}

/** The table with `added` rows appended, each the mean of the old rows. */
export function extendTable(table: Float32Array, rows: number, dim: number, added: number): Float32Array {
  if (table.length !== rows * dim)
    throw new Error(`the puzzle table must hold ${rows} x ${dim} values (got ${table.length})`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) mean[d]! += table[r * dim + d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= Math.max(rows, 1);
  const out = new Float32Array((rows + added) * dim);
  out.set(table);
  for (let r = rows; r < rows + added; r++) for (let d = 0; d < dim; d++) out[r * dim + d] = mean[d]!;
  return out;
}
