// ARC tasks: parsing the JSON task files, the 30x30 canvas encoding of a grid (TRM-SPEC §6.4), the evaluator's
// crop that turns a predicted canvas back into a grid (TRM-SPEC §7.2 step 1), and the augmented-variant names
// that the reference writes into identifiers.json ("{id}|||t{tid}|||{perm as 10 digits}").
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type Grid, GridError, validateGrid } from './grid.js';
import { ARC } from './vocab.js';

export interface ArcPair {
  input: Grid;
  output: Grid;
}

/** A test pair; the output is absent in tasks whose solutions are hidden. */
export interface ArcTestPair {
  input: Grid;
  output?: Grid;
}

export interface ArcTask {
  train: ArcPair[];
  test: ArcTestPair[];
}

/** Top-left corner of a grid on the 30x30 canvas. */
export interface ArcOffset {
  row: number;
  col: number;
}

const ORIGIN: ArcOffset = { row: 0, col: 0 };

/** Smallest canvas side: a 1x1 grid and its EOS marks. */
export const MIN_CANVAS_SIDE = 2;

function checkCanvasSide(side: number, what: string): number {
  if (!Number.isInteger(side) || side < MIN_CANVAS_SIDE || side > ARC.side)
    throw new RangeError(`${what}: canvas side must be an integer ${MIN_CANVAS_SIDE}..${ARC.side} (got ${side})`);
  return side;
}

/** Whether a grid fits a side x side canvas at the origin (its EOS marks may fall outside, as on 30x30). */
export function arcGridFits(grid: Grid, side: number): boolean {
  return grid.length <= side && (grid[0]?.length ?? 0) <= side;
}

/**
 * The canvas side of an ARC model or dataset from its sequence length: 30 for the reference's 900 tokens; a
 * smaller square canvas (e.g. 8 -> 64 tokens) serves tasks whose grids all fit it, at a fraction of the cost.
 */
export function arcCanvasSide(seqLen: number): number {
  const side = Math.round(Math.sqrt(seqLen));
  if (side * side !== seqLen || side < MIN_CANVAS_SIDE || side > ARC.side)
    throw new RangeError(
      `an ARC sequence is a square canvas of ${MIN_CANVAS_SIDE}..${ARC.side} on a side (got seq_len ${seqLen})`,
    );
  return side;
}

/** Validates an untrusted ARC grid: 1..30 per side, colours 0..9. */
export function validateArcGrid(grid: unknown, field = 'grid'): Grid {
  return validateGrid(grid, { field, minValue: 0, maxValue: 9, maxSide: ARC.maxSide });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsePairs(value: unknown, field: string, outputRequired: boolean): ArcTestPair[] {
  if (!Array.isArray(value)) throw new GridError(field, `${field} must be an array of {input, output} pairs`);
  if (value.length === 0) throw new GridError(field, `${field} is empty, expected at least one pair`);
  return value.map((pair: unknown, i) => {
    const f = `${field}[${i}]`;
    if (!isRecord(pair)) throw new GridError(f, `${f} must be an object with "input" and "output" grids`);
    const input = validateArcGrid(pair.input, `${f}.input`);
    if (pair.output === undefined) {
      if (outputRequired) throw new GridError(`${f}.output`, `${f}.output is missing, expected a grid`);
      return { input };
    }
    return { input, output: validateArcGrid(pair.output, `${f}.output`) };
  });
}

/**
 * Validates an ARC task object `{train: [{input, output}], test: [{input, output?}]}`. Unknown keys (such as the
 * "name" some files carry) are ignored. Test outputs may be missing (hidden solutions).
 */
export function parseArcTask(json: unknown, field: string): ArcTask {
  if (!isRecord(json)) throw new GridError(field, `${field} must be an object with "train" and "test" arrays`);
  return {
    train: parsePairs(json.train, `${field}.train`, true) as ArcPair[],
    test: parsePairs(json.test, `${field}.test`, false),
  };
}

/** Reads and validates one ARC task file; errors are prefixed with the path. */
export async function loadArcTaskFile(path: string): Promise<ArcTask> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new GridError(path, `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseArcTask(json, path);
}

/**
 * Loads every `*.json` task under `dir` (recursively, since ConceptARC groups tasks in one folder per concept),
 * keyed by file name without `.json`, in sorted order. Two files with the same name are an error.
 */
export async function loadArcTaskDir(dir: string): Promise<Map<string, ArcTask>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const pathById = new Map<string, string>();
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.json')) continue;
    const path = join(e.parentPath, e.name);
    const id = basename(e.name, '.json');
    const other = pathById.get(id);
    if (other !== undefined) throw new RangeError(`task id ${id} is used by both ${other} and ${path}`);
    pathById.set(id, path);
  }
  const ids = [...pathById.keys()].sort();
  const tasks = await Promise.all(ids.map((id) => loadArcTaskFile(pathById.get(id)!)));
  return new Map(ids.map((id, i) => [id, tasks[i]!]));
}

/**
 * Encodes a grid on the 30x30 canvas (row-major, 900 tokens) exactly as the reference builder: colour + 2 from
 * `offset`, EOS (1) on the row below the grid over its columns and on the column right of it over its rows, each
 * only where it falls inside the canvas; the corner below-right is not marked; PAD (0) elsewhere. `side` gives a
 * smaller square canvas (side x side tokens) for models of small grids (see arcCanvasSide).
 */
export function encodeArc(grid: Grid, offset: ArcOffset = ORIGIN, side: number = ARC.side): Uint8Array {
  const SIDE = checkCanvasSide(side, 'encodeArc');
  const h = grid.length;
  const w = h > 0 ? grid[0]!.length : 0;
  const { row: r0, col: c0 } = offset;
  if (h === 0 || w === 0) throw new GridError('grid', 'encodeArc: grid is empty, expected at least 1x1');
  if (!Number.isInteger(r0) || !Number.isInteger(c0) || r0 < 0 || c0 < 0 || r0 + h > SIDE || c0 + w > SIDE) {
    throw new RangeError(
      `encodeArc: a ${h}x${w} grid at offset (${r0}, ${c0}) does not fit the ${SIDE}x${SIDE} canvas`,
    );
  }
  const out = new Uint8Array(SIDE * SIDE); // PAD = 0
  for (let r = 0; r < h; r++) {
    const row = grid[r]!;
    if (row.length !== w) throw new GridError('grid', `grid row ${r} has ${row.length} cells, expected ${w}`);
    const base = (r0 + r) * SIDE + c0;
    for (let c = 0; c < w; c++) {
      const v = row[c]!;
      if (!Number.isInteger(v) || v < 0 || v > 9) {
        throw new GridError(`grid[${r}][${c}]`, `grid[${r}][${c}] must be an integer 0..9 (got ${v})`);
      }
      out[base + c] = v + ARC.colourOffset;
    }
  }
  const eosRow = r0 + h;
  const eosCol = c0 + w;
  if (eosRow < SIDE) out.fill(ARC.EOS, eosRow * SIDE + c0, eosRow * SIDE + eosCol);
  if (eosCol < SIDE) for (let r = r0; r < eosRow; r++) out[r * SIDE + eosCol] = ARC.EOS;
  return out;
}

/**
 * The evaluator's crop: the largest-area rectangle of colour tokens (2..11) anchored at `offset` (default the
 * top-left corner, where the evaluated test split always sits). Row by row, the usable width is the run of colour
 * tokens before the first other token, and it can only shrink; the first (fewest rows) rectangle of maximal area
 * wins. Colours are tokens - 2. If the anchor cell is not a colour the result is the empty grid `[]`: callers
 * must treat that as "no answer" (an empty grid never equals an ARC solution).
 */
export function decodeArc(tokens: ArrayLike<number>, offset: ArcOffset = ORIGIN): Grid {
  const SIDE = Math.round(Math.sqrt(tokens.length));
  if (SIDE * SIDE !== tokens.length || SIDE < MIN_CANVAS_SIDE || SIDE > ARC.side)
    throw new RangeError(
      `ARC tokens: got ${tokens.length}, expected a square canvas of ${MIN_CANVAS_SIDE}..${ARC.side} on a side (${ARC.seqLen} for 30x30)`,
    );
  const { row: r0, col: c0 } = offset;
  if (!Number.isInteger(r0) || !Number.isInteger(c0) || r0 < 0 || c0 < 0 || r0 >= SIDE || c0 >= SIDE) {
    throw new RangeError(`decodeArc: offset (${r0}, ${c0}) is outside the ${SIDE}x${SIDE} canvas`);
  }
  const lo = ARC.colourOffset;
  const hi = ARC.colourOffset + 9;
  let width = SIDE - c0;
  let bestArea = 0;
  let bestRows = 0;
  let bestCols = 0;
  for (let nr = 1; nr <= SIDE - r0; nr++) {
    const base = (r0 + nr - 1) * SIDE + c0;
    for (let c = 0; c < width; c++) {
      const t = tokens[base + c]!;
      if (t < lo || t > hi) {
        width = c;
        break;
      }
    }
    const area = nr * width;
    if (area > bestArea) {
      bestArea = area;
      bestRows = nr;
      bestCols = width;
    }
  }
  const grid: Grid = [];
  for (let r = 0; r < bestRows; r++) {
    const base = (r0 + r) * SIDE + c0;
    const row: number[] = new Array(bestCols);
    for (let c = 0; c < bestCols; c++) row[c] = tokens[base + c]! - lo;
    grid.push(row);
  }
  return grid;
}

const SEPARATOR = '|||';

/** Reference name of an augmented variant: `"{id}|||t{tid}|||{perm as 10 digits}"`. */
export function arcVariantName(taskId: string, tid: number, perm: readonly number[]): string {
  checkVariant(taskId, tid, perm, 'arcVariantName');
  return `${taskId}${SEPARATOR}t${tid}${SEPARATOR}${perm.join('')}`;
}

export interface ArcVariant {
  taskId: string;
  /** dihedral transform id 0..7 */
  tid: number;
  /** colour permutation: augmented colour = perm[original colour] */
  perm: number[];
}

function checkVariant(taskId: string, tid: number, perm: readonly number[], what: string): void {
  if (taskId.includes(SEPARATOR)) throw new RangeError(`${what}: task id ${JSON.stringify(taskId)} contains "|||"`);
  if (!Number.isInteger(tid) || tid < 0 || tid > 7) throw new RangeError(`${what}: tid must be 0..7 (got ${tid})`);
  const seen = new Set(perm);
  if (perm.length !== 10 || seen.size !== 10 || perm.some((v) => !Number.isInteger(v) || v < 0 || v > 9)) {
    throw new RangeError(`${what}: perm must be a permutation of 0..9 (got [${perm.join(',')}])`);
  }
}

/**
 * Parses a variant name. A name without "|||" is an original task: tid 0 and the identity permutation, as the
 * reference's inverse_aug treats it.
 */
export function parseArcVariantName(name: string): ArcVariant {
  const parts = name.split(SEPARATOR);
  if (parts.length === 1) return { taskId: name, tid: 0, perm: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] };
  if (parts.length !== 3 || !/^t[0-7]$/.test(parts[1]!) || !/^[0-9]{10}$/.test(parts[2]!)) {
    throw new RangeError(`variant name ${JSON.stringify(name)}: expected "{id}|||t{0-7}|||{10 digits}"`);
  }
  const variant: ArcVariant = {
    taskId: parts[0]!,
    tid: Number(parts[1]!.slice(1)),
    perm: Array.from(parts[2]!, (ch) => Number(ch)),
  };
  checkVariant(variant.taskId, variant.tid, variant.perm, `variant name ${JSON.stringify(name)}`);
  return variant;
}
