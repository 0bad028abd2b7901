// ARC translation (TRM-SPEC §6.4): a pair's grids are placed on the 30x30 canvas at a random top-left offset
// (r0, c0), the same for input and output, with r0 ~ U{0..30-max(h)} and c0 ~ U{0..30-max(w)} so that both fit.
// The reference applies it to training examples only; the evaluated test split always sits at (0, 0).
//
// Forward: encodeArc(grid, offset), or translateCanvas on a canvas encoded at (0, 0) (identical result).
// Inverse: decodeArc(tokens, offset), or inverseTranslateCanvas back to (0, 0) followed by decodeArc.
import type { ArcOffset } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { ARC, PAD } from '../tasks/vocab.js';
import type { Rng } from '../util/random.js';

/** A random offset at which every grid in `grids` fits the canvas (draws the row first, as the reference). */
export function randomTranslation(rng: Rng, grids: readonly Grid[], SIDE: number = ARC.side): ArcOffset {
  if (grids.length === 0) throw new RangeError('randomTranslation: expected at least one grid');
  const h = Math.max(...grids.map((g) => g.length));
  const w = Math.max(...grids.map((g) => (g.length > 0 ? g[0]!.length : 0)));
  if (h > SIDE || w > SIDE) throw new RangeError(`randomTranslation: a ${h}x${w} grid does not fit ${SIDE}x${SIDE}`);
  const row = rng.int(0, SIDE - h);
  const col = rng.int(0, SIDE - w);
  return { row, col };
}

function shift(tokens: ArrayLike<number>, dr: number, dc: number): Uint8Array {
  const SIDE = ARC.side;
  if (tokens.length !== SIDE * SIDE) {
    throw new RangeError(`ARC canvas: got ${tokens.length} tokens, expected ${SIDE * SIDE}`);
  }
  const out = new Uint8Array(SIDE * SIDE).fill(PAD);
  for (let r = 0; r < SIDE; r++) {
    const sr = r - dr;
    if (sr < 0 || sr >= SIDE) continue;
    for (let c = 0; c < SIDE; c++) {
      const sc = c - dc;
      if (sc >= 0 && sc < SIDE) out[r * SIDE + c] = tokens[sr * SIDE + sc]!;
    }
  }
  return out;
}

function checkOffset(offset: ArcOffset, what: string): void {
  const SIDE = ARC.side;
  const { row, col } = offset;
  if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= SIDE || col >= SIDE) {
    throw new RangeError(`${what}: offset (${row}, ${col}) must be integers in 0..${SIDE - 1}`);
  }
}

/**
 * Moves a canvas down by offset.row and right by offset.col, filling with PAD; what leaves the canvas is dropped.
 * On a canvas from encodeArc(grid) this gives exactly encodeArc(grid, offset) whenever the grid fits there.
 */
export function translateCanvas(tokens: ArrayLike<number>, offset: ArcOffset): Uint8Array {
  checkOffset(offset, 'translateCanvas');
  return shift(tokens, offset.row, offset.col);
}

/** Moves a canvas back up/left by `offset`: the inverse of translateCanvas on the cells that stayed on the canvas. */
export function inverseTranslateCanvas(tokens: ArrayLike<number>, offset: ArcOffset): Uint8Array {
  checkOffset(offset, 'inverseTranslateCanvas');
  return shift(tokens, -offset.row, -offset.col);
}
