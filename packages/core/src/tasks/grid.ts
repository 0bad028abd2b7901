// The grid type shared by every task codec, and the one validator that turns untrusted input (JSON files, HTTP
// bodies, CSV rows) into a Grid. Errors name the field and the exact position, so a client can fix its input.

/** A rectangular grid of small integers, row-major: grid[row][col]. */
export type Grid = number[][];

/** Bad grid input; `field` is the path of the offending value (e.g. `task.train[0].input`). */
export class GridError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'GridError';
    this.field = field;
  }
}

export interface GridLimits {
  /** Name used in error messages, e.g. `grid` or `task.test[0].input`. */
  field: string;
  minValue: number;
  maxValue: number;
  /** Exact number of rows, when the task fixes it (sudoku 9, maze 30). */
  rows?: number;
  /** Exact number of columns. */
  cols?: number;
  /** Largest allowed side (ARC: 30). */
  maxSide?: number;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * Checks that `grid` is a non-empty rectangular array of integer rows within the limits and returns a fresh copy.
 * Throws a GridError naming the field and position of the first problem.
 */
export function validateGrid(grid: unknown, opts: GridLimits): Grid {
  const { field, minValue, maxValue, rows, cols, maxSide } = opts;
  if (!Array.isArray(grid)) throw new GridError(field, `${field} must be an array of rows (got ${describe(grid)})`);
  if (grid.length === 0) throw new GridError(field, `${field} is empty, expected at least one row`);
  if (rows !== undefined && grid.length !== rows) {
    throw new GridError(field, `${field} has ${grid.length} rows, expected ${rows}`);
  }
  if (maxSide !== undefined && grid.length > maxSide) {
    throw new GridError(field, `${field} has ${grid.length} rows, expected at most ${maxSide}`);
  }
  const first: unknown = grid[0];
  const width = cols ?? (Array.isArray(first) ? first.length : 0);
  const out: Grid = new Array(grid.length);
  for (let r = 0; r < grid.length; r++) {
    const row: unknown = grid[r];
    if (!Array.isArray(row)) {
      throw new GridError(field, `${field}[${r}] must be an array of cells (got ${describe(row)})`);
    }
    if (row.length === 0) throw new GridError(field, `${field} row ${r} is empty, expected at least one cell`);
    if (row.length !== width) {
      throw new GridError(field, `${field} row ${r} has ${row.length} cells, expected ${width}`);
    }
    if (maxSide !== undefined && row.length > maxSide) {
      throw new GridError(field, `${field} row ${r} has ${row.length} cells, expected at most ${maxSide}`);
    }
    const copy: number[] = new Array(row.length);
    for (let c = 0; c < row.length; c++) {
      const v: unknown = row[c];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < minValue || v > maxValue) {
        throw new GridError(
          `${field}[${r}][${c}]`,
          `${field}[${r}][${c}] must be an integer ${minValue}..${maxValue} (got ${describe(v)})`,
        );
      }
      copy[c] = v;
    }
    out[r] = copy;
  }
  return out;
}
