// One ARC augmented variant as the reference builds it (TRM-SPEC §6.4): a dihedral transform id and a colour
// permutation, applied as dihedral(tid)(perm[grid]) to every grid of the task; the inverse undoes the dihedral
// transform first, then the colours. The reference draws tid first, then the permutation.
import type { Grid } from '../tasks/grid.js';
import type { Rng } from '../util/random.js';
import { applyColourPermutation, invertPermutation, randomColourPermutation } from './colour.js';
import { dihedral, inverseDihedral } from './dihedral.js';

export interface ArcAugmentation {
  /** dihedral transform id 0..7 */
  tid: number;
  /** colour permutation of length 10 with perm[0] = 0 */
  perm: number[];
}

export function randomArcAugmentation(rng: Rng): ArcAugmentation {
  const tid = rng.int(0, 7);
  return { tid, perm: randomColourPermutation(rng) };
}

export function applyArcAugmentation(grid: Grid, aug: ArcAugmentation): Grid {
  return dihedral(applyColourPermutation(grid, aug.perm), aug.tid);
}

/** Undoes applyArcAugmentation (used on predictions before voting). */
export function inverseArcAugmentation(grid: Grid, aug: ArcAugmentation): Grid {
  return applyColourPermutation(inverseDihedral(grid, aug.tid), invertPermutation(aug.perm));
}
