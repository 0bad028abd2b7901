// Moving rows of host-resident state [B, L, D] when the set of active puzzles changes: finished rows leave, kept
// rows close up in order, new rows are appended. Compaction (every kept row moves to a lower or equal index) is
// done in place, so the common step costs no allocation; growing the batch needs a new buffer.
import type { StateArray } from './step-function.js';

/** Row i of the result is row from[i] of `state` (-1: the row's values do not matter); `rowSize` = L x D. */
export function gatherRows(state: StateArray, rowSize: number, from: Int32Array): StateArray {
  const rows = state.length / rowSize;
  if (!Number.isInteger(rows)) throw new Error(`state of ${state.length} values is not a whole number of rows`);
  let inPlace = from.length <= rows;
  for (let i = 0; i < from.length && inPlace; i++) if (from[i]! >= 0 && from[i]! < i) inPlace = false;
  // In place, row i is written only after every source row below it was read: sources are never below their
  // destination, so a later row's source cannot have been overwritten.
  const out = inPlace
    ? state
    : state instanceof Float32Array
      ? new Float32Array(from.length * rowSize)
      : new Uint16Array(from.length * rowSize);
  for (let i = 0; i < from.length; i++) {
    const f = from[i]!;
    if (f < 0 || (inPlace && f === i)) continue;
    if (f >= rows) throw new Error(`state row ${f} does not exist (the state has ${rows} rows)`);
    if (inPlace) out.copyWithin(i * rowSize, f * rowSize, (f + 1) * rowSize);
    else out.set(state.subarray(f * rowSize, (f + 1) * rowSize), i * rowSize);
  }
  return out.length === from.length * rowSize ? out : out.subarray(0, from.length * rowSize);
}
