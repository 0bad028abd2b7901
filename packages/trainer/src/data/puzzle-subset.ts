// A view of a split restricted to some of its puzzles (whole groups are kept or dropped puzzle by puzzle), with
// the index arrays renumbered and example rows read through to the original split. Test-time adaptation trains
// on the puzzles whose identifiers are new and leaves the rest of a dataset out.
import type { ExampleRows, SplitSource } from './split.js';

/** The split with only the puzzles where keep(p) holds; groups left empty disappear. */
export function puzzleSubset(split: SplitSource, keep: (puzzle: number) => boolean): SplitSource {
  const S = split.metadata.seq_len;
  const puzzleIndices = [0];
  const groupIndices = [0];
  const puzzleIdentifiers: number[] = [];
  /** original first example of each kept puzzle */
  const origin: number[] = [];
  for (let g = 0; g + 1 < split.groupIndices.length; g++) {
    for (let p = split.groupIndices[g]!; p < split.groupIndices[g + 1]!; p++) {
      if (!keep(p)) continue;
      const n = split.puzzleIndices[p + 1]! - split.puzzleIndices[p]!;
      origin.push(split.puzzleIndices[p]!);
      puzzleIndices.push(puzzleIndices.at(-1)! + n);
      puzzleIdentifiers.push(split.puzzleIdentifiers[p]!);
    }
    if (puzzleIdentifiers.length > groupIndices.at(-1)!) groupIndices.push(puzzleIdentifiers.length);
  }
  const starts = Int32Array.from(puzzleIndices);
  const numExamples = puzzleIndices.at(-1)!;
  /** kept puzzle holding example e (binary search over starts) */
  const puzzleOf = (e: number): number => {
    let lo = 0;
    let hi = starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= e) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    metadata: split.metadata,
    puzzleIndices: starts,
    groupIndices: Int32Array.from(groupIndices),
    puzzleIdentifiers: Int32Array.from(puzzleIdentifiers),
    numExamples,
    readRows(start: number, count: number): ExampleRows {
      if (start < 0 || count < 0 || start + count > numExamples)
        throw new RangeError(`rows [${start}, ${start + count}) are outside [0, ${numExamples})`);
      const inputs = new Uint8Array(count * S);
      const labels = new Uint8Array(count * S);
      let e = start;
      while (e < start + count) {
        const p = puzzleOf(e);
        const n = Math.min(starts[p + 1]!, start + count) - e;
        const rows = split.readRows(origin[p]! + (e - starts[p]!), n);
        inputs.set(rows.inputs, (e - start) * S);
        labels.set(rows.labels, (e - start) * S);
        e += n;
      }
      return { inputs, labels };
    },
  };
}
