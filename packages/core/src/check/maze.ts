// Checks a predicted maze answer against its question: is it a valid path (only free cells marked, S and G kept,
// nothing else changed, the 'o' cells joining S to G as one unbranched 4-neighbour chain), is it a shortest one
// (HRM's definition of a correct maze answer), and optionally is it exactly the reference label. Shortest paths
// are massively non-unique in these mazes, so "valid and shortest" is the fair accuracy and "exact" measures the
// canonical tie-break (see the shared data's SOURCE.md).
import { bfsDistances, mazeGraph, neighbours, UNREACHED } from '../generate/maze-path.js';

export interface MazeCheck {
  /** The marks form one S->G path through free cells and nothing else differs from the question. */
  valid: boolean;
  /** Valid and as short as the BFS shortest path. */
  shortest: boolean;
  /** Equal to the reference label, cell for cell (only when a label was given). */
  exact?: boolean;
  /** Steps of the marked path (marked cells + 1), when valid. */
  pathLength: number | null;
  /** BFS shortest S->G distance of the question; null when G cannot be reached. */
  shortestLength: number | null;
  /** Why the answer is not valid (first problem found). */
  reason?: string;
}

/** A maze as a row-major string or as rows (e.g. 30 strings of 30 characters over "# SGo"). */
export type MazeInput = string | readonly string[];

function flatten(maze: MazeInput, what: string): { cells: string; width: number } {
  if (typeof maze === 'string') {
    const width = Math.round(Math.sqrt(maze.length));
    if (width * width !== maze.length || width === 0) {
      throw new RangeError(`${what} has ${maze.length} characters; a string maze must be square (e.g. 900 = 30x30)`);
    }
    return { cells: maze, width };
  }
  const width = maze[0]?.length ?? 0;
  if (width === 0 || maze.some((row) => row.length !== width)) {
    throw new RangeError(`${what} rows must all have the same non-zero length`);
  }
  return { cells: maze.join(''), width };
}

/**
 * Checks `answer` against `question` (and against `label`, when given). Malformed answers (wrong size, stray
 * characters, moved S/G) are reported as invalid with a reason; only a malformed question or label throws.
 */
export function checkMazeAnswer(question: MazeInput, answer: MazeInput, label?: MazeInput): MazeCheck {
  const q = flatten(question, 'maze question');
  const start = q.cells.indexOf('S');
  const goal = q.cells.indexOf('G');
  if (start < 0 || goal < 0 || q.cells.indexOf('S', start + 1) >= 0 || q.cells.indexOf('G', goal + 1) >= 0) {
    throw new RangeError('maze question must contain exactly one S and one G');
  }
  const graph = mazeGraph(q.cells, q.width);
  const dist = bfsDistances(graph, goal);
  const shortestLength = dist[start] === UNREACHED ? null : dist[start]!;
  let a = '';
  const result = (valid: boolean, pathLength: number | null, reason?: string): MazeCheck => {
    const check: MazeCheck = {
      valid,
      shortest: valid && pathLength === shortestLength,
      pathLength,
      shortestLength,
    };
    if (reason !== undefined) check.reason = reason;
    if (label !== undefined) check.exact = flatten(label, 'maze label').cells === a;
    return check;
  };

  try {
    a = flatten(answer, 'answer').cells;
  } catch (err) {
    return result(false, null, (err as Error).message);
  }
  if (a.length !== q.cells.length) {
    return result(false, null, `answer has ${a.length} cells, the question ${q.cells.length}`);
  }
  const marked = new Uint8Array(a.length);
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const was = q.cells[i]!;
    const now = a[i]!;
    if (now === 'o' && was === ' ') {
      marked[i] = 1;
      count++;
    } else if (now !== was) {
      const at = `row ${Math.floor(i / q.width)}, col ${i % q.width}`;
      return result(
        false,
        null,
        `cell ${at} is ${JSON.stringify(now)} in the answer, ${JSON.stringify(was)} in the question`,
      );
    }
  }
  if (shortestLength === null) return result(false, null, 'G cannot be reached from S');

  // Walk the chain from S: each step must have exactly one unvisited continuation (a marked cell or, at the
  // end, G), so that the marks read as a single path with no branches, loops or stray cells.
  marked[goal] = 1;
  let v = start;
  let prev = -1;
  let steps = 0;
  while (v !== goal) {
    const next = neighbours(graph, v).filter((u) => u !== prev && marked[u] === 1);
    if (next.length !== 1) {
      const at = `row ${Math.floor(v / q.width)}, col ${v % q.width}`;
      return result(false, null, next.length === 0 ? `the path breaks off at ${at}` : `the path branches at ${at}`);
    }
    prev = v;
    v = next[0]!;
    steps++;
    if (steps > count + 1) return result(false, null, 'the path loops');
  }
  if (steps !== count + 1) return result(false, null, `${count + 1 - steps} marked cells are not on the S->G path`);
  return result(true, steps);
}
