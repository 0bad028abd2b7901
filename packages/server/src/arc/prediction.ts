// From a predicted canvas back to an answer for the original task (TRM-SPEC §7.2 steps 1-2): crop the largest
// colour rectangle at the top-left corner, where test inputs always sit, then undo the variant's augmentation
// (inverse dihedral transform, then the inverse colour permutation).
import { type ArcAugmentation, decodeArc, type Grid, inverseArcAugmentation } from '@trm/core';

/** The original-task grid a variant's predicted tokens stand for, or null when the canvas has no grid. */
export function predictionGrid(tokens: ArrayLike<number>, aug: ArcAugmentation): Grid | null {
  const cropped = decodeArc(tokens);
  if (cropped.length === 0) return null;
  return inverseArcAugmentation(cropped, aug);
}
