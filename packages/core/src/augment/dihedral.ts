// The 8 symmetries of the square (dihedral group D8) with the reference's numbering (dataset/common.py):
// 0 identity, 1 rot90 (numpy's rot90: counter-clockwise), 2 rot180, 3 rot270, 4 fliplr (mirror left-right),
// 5 flipud (mirror top-bottom), 6 transpose, 7 fliplr(rot90) = anti-transpose. Used for ARC variants and the
// optional maze augmentation; works on any rectangular array, not only square ones.

/** DIHEDRAL_INVERSE[tid] undoes tid: the rotations 1 and 3 swap, every other element is its own inverse. */
export const DIHEDRAL_INVERSE: readonly number[] = [0, 3, 2, 1, 4, 5, 6, 7];

export const DIHEDRAL_NAMES: readonly string[] = [
  'identity',
  'rot90',
  'rot180',
  'rot270',
  'fliplr',
  'flipud',
  'transpose',
  'anti-transpose',
];

/** Applies dihedral transform `tid` (0..7) to a rectangular h x w array; returns a new array. */
export function dihedral<T>(grid: T[][], tid: number): T[][] {
  if (!Number.isInteger(tid) || tid < 0 || tid > 7) throw new RangeError(`dihedral: tid must be 0..7 (got ${tid})`);
  const h = grid.length;
  const w = h > 0 ? grid[0]!.length : 0;
  // Output cell (i, j) reads input cell source(i, j); rotations by 90/270 and the two transposes swap h and w.
  const swap = tid === 1 || tid === 3 || tid === 6 || tid === 7;
  const outH = swap ? w : h;
  const outW = swap ? h : w;
  const source: (i: number, j: number) => T = [
    (i: number, j: number) => grid[i]![j]!,
    (i: number, j: number) => grid[j]![w - 1 - i]!,
    (i: number, j: number) => grid[h - 1 - i]![w - 1 - j]!,
    (i: number, j: number) => grid[h - 1 - j]![i]!,
    (i: number, j: number) => grid[i]![w - 1 - j]!,
    (i: number, j: number) => grid[h - 1 - i]![j]!,
    (i: number, j: number) => grid[j]![i]!,
    (i: number, j: number) => grid[h - 1 - j]![w - 1 - i]!,
  ][tid]!;
  const out: T[][] = new Array(outH);
  for (let i = 0; i < outH; i++) {
    const row: T[] = new Array(outW);
    for (let j = 0; j < outW; j++) row[j] = source(i, j);
    out[i] = row;
  }
  return out;
}

/** Undoes `dihedral(grid, tid)`: inverseDihedral(dihedral(g, tid), tid) equals g. */
export function inverseDihedral<T>(grid: T[][], tid: number): T[][] {
  if (!Number.isInteger(tid) || tid < 0 || tid > 7) {
    throw new RangeError(`inverseDihedral: tid must be 0..7 (got ${tid})`);
  }
  return dihedral(grid, DIHEDRAL_INVERSE[tid]!);
}
