// ARC colour permutations (TRM-SPEC §6.4): colour 0 (black, the background) stays fixed, 1..9 are permuted.
// As in the reference, a permutation `perm` maps a cell of colour c to perm[c]; its digits, in order, are the
// last part of the variant name.
import type { Grid } from '../tasks/grid.js';
import type { Rng } from '../util/random.js';

/** [0, then a uniformly random permutation of 1..9]. */
export function randomColourPermutation(rng: Rng): number[] {
  return [0, ...rng.permutation(9).map((i) => i + 1)];
}

/** True when `perm` is a permutation of 0..n-1. */
export function isPermutation(perm: readonly number[]): boolean {
  const seen = new Array<boolean>(perm.length).fill(false);
  for (const v of perm) {
    if (!Number.isInteger(v) || v < 0 || v >= perm.length || seen[v]) return false;
    seen[v] = true;
  }
  return true;
}

/** inv[perm[i]] = i, so that applying perm then inv is the identity (numpy's argsort of a permutation). */
export function invertPermutation(perm: readonly number[]): number[] {
  if (!isPermutation(perm)) throw new RangeError(`invertPermutation: not a permutation: [${perm.join(',')}]`);
  const inv = new Array<number>(perm.length);
  perm.forEach((v, i) => {
    inv[v] = i;
  });
  return inv;
}

/** Replaces every colour c by perm[c]; `perm` must cover every colour in the grid. */
export function applyColourPermutation(grid: Grid, perm: readonly number[]): Grid {
  return grid.map((row, r) =>
    row.map((c, col) => {
      const v = perm[c];
      if (v === undefined) throw new RangeError(`applyColourPermutation: grid[${r}][${col}] = ${c} has no mapping`);
      return v;
    }),
  );
}
