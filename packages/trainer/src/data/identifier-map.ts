// Puzzle identifiers are rows of the model's puzzle table, and their meaning is the name in identifiers.json. A
// dataset built separately numbers its puzzles its own way, so data ids are mapped to model rows by name; names the
// model has not seen are what test-time adaptation adds (as new rows after the old ones).

export interface IdentifierMap {
  /** model row of each data id */
  map: Int32Array;
  /** data ids whose name the model does not know, with their names */
  unknown: { id: number; name: string }[];
}

/**
 * Maps data ids to model rows. Without names on either side ids map to themselves (they must fit the table).
 * Unknown names map to -1 and are listed.
 */
export function mapIdentifiers(
  modelNames: readonly string[] | null,
  dataNames: readonly string[] | null,
  dataIds: number,
  modelRows: number,
): IdentifierMap {
  if (!modelNames || !dataNames) {
    if (dataIds > modelRows)
      throw new Error(
        `the data has ${dataIds} puzzle identifiers but the model's table has ${modelRows} rows, and identifiers.json is missing on the ${modelNames ? 'data' : 'model'} side, so they cannot be matched by name`,
      );
    return { map: Int32Array.from({ length: dataIds }, (_, i) => i), unknown: [] };
  }
  const row = new Map(modelNames.map((n, i) => [n, i]));
  const map = new Int32Array(dataIds).fill(-1);
  const unknown: IdentifierMap['unknown'] = [];
  for (let id = 0; id < dataIds; id++) {
    const name = dataNames[id] ?? `#${id}`;
    const r = row.get(name);
    if (r === undefined) unknown.push({ id, name });
    else map[id] = r;
  }
  return { map, unknown };
}
