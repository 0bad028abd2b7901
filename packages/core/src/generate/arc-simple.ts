// Simple synthetic ARC tasks: a task of a family (arc-families.ts) is 3-4 demonstration pairs and one test pair of
// small random grids (background 0, a few colours per task) that all follow the family's rule. Small enough for
// a CPU-sized model to learn, and for test-time adaptation to pick up a new task of a known family from its
// demonstrations.
//
// Each task has its own random stream, seeded from (seed, family, index): a task id names the same task whatever
// --count or --families a run uses, and generating with another seed gives other ids, so tasks of two runs never
// share an id (the puzzle table maps rows by name; a shared name would make a new task look known).
import type { ArcTask } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { Rng } from '../util/random.js';
import {
  ARC_SIMPLE_FAMILIES,
  type ArcSimpleFamily,
  applyFamily,
  type ColourMapping,
  SQUARE_FAMILIES,
} from './arc-families.js';

export interface ArcSimpleOptions {
  /** Grid sides are drawn uniformly from this range (default 3..8). */
  sizes?: readonly [number, number];
  /** Demonstration pairs per task, drawn from this range (default 3..4). */
  demos?: readonly [number, number];
  /** Families to draw from, in round-robin order (default all). */
  families?: readonly ArcSimpleFamily[];
}

export interface ResolvedArcSimpleOptions {
  sizes: readonly [number, number];
  demos: readonly [number, number];
  families: readonly ArcSimpleFamily[];
}

export interface GeneratedArcTask {
  id: string;
  family: ArcSimpleFamily;
  task: ArcTask & { test: { input: Grid; output: Grid }[] };
  /** colour-map only: the task's mapping (index = input colour). */
  mapping?: ColourMapping;
}

export const DEFAULT_ARC_SIMPLE_SIZES: readonly [number, number] = [3, 8];
export const DEFAULT_ARC_SIMPLE_DEMOS: readonly [number, number] = [3, 4];
/** Colours a task uses besides the background. */
const PALETTE: readonly [number, number] = [2, 4];
/** Share of non-background cells in a grid. */
const DENSITY: readonly [number, number] = [0.25, 0.6];
/** Redraws allowed for one grid or task before the options are declared unworkable (never reached at 3x3 and up). */
const MAX_TRIES = 1000;

/** Throws unless `range` is integers A..B with lo <= A <= B <= hi. */
function checkRange(name: string, range: readonly [number, number], lo: number, hi: number): void {
  const [a, b] = range;
  if (!(Number.isInteger(a) && Number.isInteger(b) && a >= lo && b <= hi && a <= b))
    throw new RangeError(`${name} must be a range A..B with ${lo} <= A <= B <= ${hi} (got ${range.join('..')})`);
}

export function resolveArcSimpleOptions(options: ArcSimpleOptions = {}): ResolvedArcSimpleOptions {
  const sizes = options.sizes ?? DEFAULT_ARC_SIMPLE_SIZES;
  const demos = options.demos ?? DEFAULT_ARC_SIMPLE_DEMOS;
  const families = options.families ?? ARC_SIMPLE_FAMILIES;
  // A 2x2 grid has too few distinct non-symmetric fillings for 5 distinct pairs under every rule; 30 is the canvas.
  checkRange('sizes', sizes, 3, 30);
  checkRange('demos', demos, 1, 100);
  if (families.length === 0) throw new RangeError('families must name at least one family');
  for (const f of families)
    if (!ARC_SIMPLE_FAMILIES.includes(f))
      throw new RangeError(
        `families: unknown family ${JSON.stringify(f)} (expected ${ARC_SIMPLE_FAMILIES.join(', ')})`,
      );
  return { sizes, demos, families: [...new Set(families)] };
}

/** The id of task `index` of a family generated with `seed`. */
export function arcSimpleTaskId(family: ArcSimpleFamily, seed: number, index: number): string {
  return `simple-${family}-s${seed}-${index}`;
}

/** FNV-1a over the id: the seed of the task's own random stream. */
function streamSeed(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function randomGrid(rng: Rng, h: number, w: number, palette: readonly number[]): Grid {
  const density = DENSITY[0] + rng.random() * (DENSITY[1] - DENSITY[0]);
  return Array.from({ length: h }, () =>
    Array.from({ length: w }, () => (rng.random() < density ? palette[rng.int(0, palette.length - 1)]! : 0)),
  );
}

const sameGrid = (a: Grid, b: Grid) => JSON.stringify(a) === JSON.stringify(b);

/** A derangement of the palette (every colour changes), as a full mapping of 0..9 with 0 fixed. */
function randomColourMapping(rng: Rng, palette: readonly number[]): number[] {
  const order = rng.shuffle([...palette]);
  const mapping = Array.from({ length: 10 }, (_, i) => i);
  // Shifting a shuffled cycle by one moves every colour of the palette.
  order.forEach((c, i) => {
    mapping[c] = order[(i + 1) % order.length]!;
  });
  return mapping;
}

function coloursOf(g: Grid): Set<number> {
  const s = new Set<number>();
  for (const row of g) for (const v of row) if (v !== 0) s.add(v);
  return s;
}

/** Generates task `index` of `family` (deterministic in seed, family, index and the options). */
export function generateArcSimpleTask(
  family: ArcSimpleFamily,
  seed: number,
  index: number,
  options: ArcSimpleOptions = {},
): GeneratedArcTask {
  const { sizes, demos } = resolveArcSimpleOptions({ ...options, families: [family] });
  const id = arcSimpleTaskId(family, seed, index);
  const rng = new Rng(streamSeed(id));
  const palette = rng.sample(9, rng.int(PALETTE[0], PALETTE[1])).map((c) => c + 1);
  const mapping = family === 'colour-map' ? randomColourMapping(rng, palette) : undefined;
  const pairCount = rng.int(demos[0], demos[1]) + 1;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const pairs: { input: Grid; output: Grid }[] = [];
    const seen = new Set<string>();
    for (let p = 0; p < pairCount; p++) {
      for (let t = 0; t < MAX_TRIES; t++) {
        const h = rng.int(sizes[0], sizes[1]);
        const w = SQUARE_FAMILIES.has(family) ? h : rng.int(sizes[0], sizes[1]);
        const input = randomGrid(rng, h, w, palette);
        const output = applyFamily(family, input, mapping);
        const key = JSON.stringify(input);
        // A pair whose output equals its input teaches nothing (and lets "copy the input" pass the test).
        if (coloursOf(input).size === 0 || sameGrid(input, output) || seen.has(key)) continue;
        seen.add(key);
        pairs.push({ input, output });
        break;
      }
    }
    if (pairs.length < pairCount) break;
    // colour-map: the demonstrations must show where every colour of the test input goes.
    if (mapping) {
      const shown = new Set(pairs.slice(0, -1).flatMap((p) => [...coloursOf(p.input)]));
      if (![...coloursOf(pairs.at(-1)!.input)].every((c) => shown.has(c))) continue;
    }
    const test = pairs.pop()!;
    return { id, family, task: { train: pairs, test: [test] }, ...(mapping ? { mapping } : {}) };
  }
  throw new RangeError(`could not draw ${pairCount} distinct pairs for ${id} with sides ${sizes.join('..')}`);
}

/** `count` tasks spread round-robin over the families: task i is index floor(i / families) of family i % families. */
export function* generateArcSimpleTasks(
  count: number,
  seed: number,
  options: ArcSimpleOptions = {},
): Generator<GeneratedArcTask, void, undefined> {
  const resolved = resolveArcSimpleOptions(options);
  const n = resolved.families.length;
  for (let i = 0; i < count; i++)
    yield generateArcSimpleTask(resolved.families[i % n]!, seed, Math.floor(i / n), resolved);
}
