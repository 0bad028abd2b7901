// Voting over the predictions of a test input's augmented variants (TRM-SPEC §7.2 steps 3-4): predictions are
// grouped by grid (shape and cells), and the distinct grids rank by vote count, then by the mean halt
// probability of their votes; the first two are the submission's attempts. Equal on both keys, the grid seen
// first ranks first, so that the order never depends on hashing.
import type { Grid } from '@trm/core';

/** One distinct predicted grid and its support. */
export interface Candidate {
  grid: Grid;
  votes: number;
  /** mean sigmoid(q_halt) of the predictions that voted for this grid */
  meanHalt: number;
}

interface Tally {
  grid: Grid;
  votes: number;
  haltSum: number;
  order: number;
}

/** A grid's identity: its shape and cells (`2x3:1,2,3,4,5,6`). */
export function gridKey(grid: Grid): string {
  return `${grid.length}x${grid[0]?.length ?? 0}:${grid.map((row) => row.join(',')).join(';')}`;
}

/** Collects the predictions for one test input; memory grows with the distinct grids, not the predictions. */
export class VoteBox {
  private readonly tallies = new Map<string, Tally>();
  private count = 0;
  private none = 0;

  /** Adds one variant's prediction; `null` is a canvas with no grid at its corner, which casts no vote. */
  add(grid: Grid | null, haltProbability: number): void {
    this.count++;
    if (grid === null) {
      this.none++;
      return;
    }
    const key = gridKey(grid);
    const t = this.tallies.get(key);
    if (t) {
      t.votes++;
      t.haltSum += haltProbability;
    } else this.tallies.set(key, { grid, votes: 1, haltSum: haltProbability, order: this.tallies.size });
  }

  /** Predictions added, with or without a grid. */
  get predictions(): number {
    return this.count;
  }

  /** Predictions whose canvas held no grid. */
  get empty(): number {
    return this.none;
  }

  /** The distinct grids, best first; at most `limit` of them. */
  ranked(limit = Number.POSITIVE_INFINITY): Candidate[] {
    return [...this.tallies.values()]
      .map((t) => ({ ...t, meanHalt: t.haltSum / t.votes }))
      .sort((a, b) => b.votes - a.votes || b.meanHalt - a.meanHalt || a.order - b.order)
      .slice(0, limit)
      .map(({ grid, votes, meanHalt }) => ({ grid, votes, meanHalt }));
  }
}
