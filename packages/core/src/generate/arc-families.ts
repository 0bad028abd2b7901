// The rules of the simple synthetic ARC task families: each family is one grid -> grid transformation that every
// pair of a task follows (flips, rotations, transpose, a per-task colour map, gravity). The rules are pure and
// total on any rectangular grid, so they double as the reference answers the tests check the generator against.
import type { Grid } from '../tasks/grid.js';

export const ARC_SIMPLE_FAMILIES = [
  'flip-h',
  'flip-v',
  'rotate-180',
  'rotate-90',
  'transpose',
  'colour-map',
  'gravity-down',
] as const;

export type ArcSimpleFamily = (typeof ARC_SIMPLE_FAMILIES)[number];

/** Families whose grids are drawn square, so that the output has the input's shape (the brief's choice for ARC). */
export const SQUARE_FAMILIES: ReadonlySet<ArcSimpleFamily> = new Set(['rotate-90', 'transpose']);

/** A colour map: mapping[c] is the output colour of input colour c (length 10, mapping[0] = 0 keeps the background). */
export type ColourMapping = readonly number[];

function build(h: number, w: number, cell: (r: number, c: number) => number): Grid {
  return Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => cell(r, c)));
}

/** Mirror left-right. */
export function flipH(g: Grid): Grid {
  const w = g[0]!.length;
  return build(g.length, w, (r, c) => g[r]![w - 1 - c]!);
}

/** Mirror top-bottom. */
export function flipV(g: Grid): Grid {
  const h = g.length;
  return build(h, g[0]!.length, (r, c) => g[h - 1 - r]![c]!);
}

export function rotate180(g: Grid): Grid {
  const h = g.length;
  const w = g[0]!.length;
  return build(h, w, (r, c) => g[h - 1 - r]![w - 1 - c]!);
}

/** A quarter turn clockwise: the first column read bottom-up becomes the first row. */
export function rotate90(g: Grid): Grid {
  const h = g.length;
  return build(g[0]!.length, h, (r, c) => g[h - 1 - c]![r]!);
}

/** Rows become columns (mirror in the main diagonal). */
export function transpose(g: Grid): Grid {
  return build(g[0]!.length, g.length, (r, c) => g[c]![r]!);
}

export function mapColours(g: Grid, mapping: ColourMapping): Grid {
  return g.map((row) => row.map((v) => mapping[v]!));
}

/** Every non-background cell falls to the bottom of its column; the cells of a column keep their order. */
export function gravityDown(g: Grid): Grid {
  const h = g.length;
  const w = g[0]!.length;
  const out = build(h, w, () => 0);
  for (let c = 0; c < w; c++) {
    let bottom = h - 1;
    for (let r = h - 1; r >= 0; r--) {
      const v = g[r]![c]!;
      if (v !== 0) out[bottom--]![c] = v;
    }
  }
  return out;
}

/** Applies a family's rule; colour-map needs the task's mapping. */
export function applyFamily(family: ArcSimpleFamily, g: Grid, mapping?: ColourMapping): Grid {
  switch (family) {
    case 'flip-h':
      return flipH(g);
    case 'flip-v':
      return flipV(g);
    case 'rotate-180':
      return rotate180(g);
    case 'rotate-90':
      return rotate90(g);
    case 'transpose':
      return transpose(g);
    case 'colour-map':
      if (!mapping) throw new RangeError('applyFamily: colour-map needs the task colour mapping');
      return mapColours(g, mapping);
    case 'gravity-down':
      return gravityDown(g);
  }
}
