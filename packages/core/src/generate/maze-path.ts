// Shortest paths on a maze grid (4-neighbour moves through non-wall cells): BFS distances, the number of
// shortest paths, and the canonical shortest path that labels our mazes. Canonical = walk from S and at each
// step take the first move in the order up, down, left, right that lowers the BFS distance to G; equivalently
// the lexicographically smallest move sequence among all shortest paths (the rule of the shared maze data's
// SOURCE.md), so a label is a function of the question alone.

/** Grid geometry plus a 0/1 passability mask, row-major. */
export interface MazeGraph {
  width: number;
  height: number;
  /** 1 where a cell can be entered (anything but a wall). */
  passable: Uint8Array;
}

/** Distance value for cells BFS did not reach. */
export const UNREACHED = -1;

/** Builds the graph of a row-major maze string ('#' = wall) with the given width. */
export function mazeGraph(maze: string, width: number): MazeGraph {
  if (width <= 0 || maze.length % width !== 0) {
    throw new RangeError(`maze of ${maze.length} characters is not a whole number of rows of width ${width}`);
  }
  const passable = new Uint8Array(maze.length);
  for (let i = 0; i < maze.length; i++) passable[i] = maze.charCodeAt(i) === 35 /* '#' */ ? 0 : 1;
  return { width, height: maze.length / width, passable };
}

/**
 * BFS distances from `from`; UNREACHED where no path exists. With `stopAt`, the search ends as soon as that
 * cell is reached (its distance is then exact; cells farther away may be left UNREACHED). `dist` and `queue`
 * may be passed in to reuse memory across calls.
 */
export function bfsDistances(
  graph: MazeGraph,
  from: number,
  stopAt = -1,
  dist: Int32Array = new Int32Array(graph.passable.length),
  queue: Int32Array = new Int32Array(graph.passable.length),
): Int32Array {
  const { width, height, passable } = graph;
  dist.fill(UNREACHED);
  dist[from] = 0;
  queue[0] = from;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const v = queue[head++]!;
    if (v === stopAt) break;
    const d = dist[v]! + 1;
    const r = (v / width) | 0;
    const c = v - r * width;
    if (r > 0 && passable[v - width] && dist[v - width] === UNREACHED) {
      dist[v - width] = d;
      queue[tail++] = v - width;
    }
    if (r < height - 1 && passable[v + width] && dist[v + width] === UNREACHED) {
      dist[v + width] = d;
      queue[tail++] = v + width;
    }
    if (c > 0 && passable[v - 1] && dist[v - 1] === UNREACHED) {
      dist[v - 1] = d;
      queue[tail++] = v - 1;
    }
    if (c < width - 1 && passable[v + 1] && dist[v + 1] === UNREACHED) {
      dist[v + 1] = d;
      queue[tail++] = v + 1;
    }
  }
  return dist;
}

/** Neighbours of `v` in the canonical move order: up, down, left, right (off-grid moves omitted). */
export function neighbours(graph: MazeGraph, v: number): number[] {
  const { width, height } = graph;
  const r = (v / width) | 0;
  const c = v - r * width;
  const out: number[] = [];
  if (r > 0) out.push(v - width);
  if (r < height - 1) out.push(v + width);
  if (c > 0) out.push(v - 1);
  if (c < width - 1) out.push(v + 1);
  return out;
}

/**
 * The canonical shortest path from `start` to `goal` as cell indices, both ends included; null when `goal`
 * cannot be reached. `distToGoal` may be passed when already computed (BFS from `goal`).
 */
export function canonicalPath(
  graph: MazeGraph,
  start: number,
  goal: number,
  distToGoal: Int32Array = bfsDistances(graph, goal),
): number[] | null {
  if (distToGoal[start] === UNREACHED) return null;
  const path = [start];
  let v = start;
  while (v !== goal) {
    const want = distToGoal[v]! - 1;
    const next = neighbours(graph, v).find((u) => graph.passable[u] === 1 && distToGoal[u] === want);
    // BFS distances guarantee a neighbour one step closer; its absence means `distToGoal` is not from `goal`.
    if (next === undefined) throw new Error(`distances do not lead from cell ${start} to ${goal}`);
    path.push(next);
    v = next;
  }
  return path;
}

/** Number of distinct shortest paths from `start` to `goal` (0 when unreachable); exact, hence a bigint. */
export function countShortestPaths(
  graph: MazeGraph,
  start: number,
  goal: number,
  distToGoal: Int32Array = bfsDistances(graph, goal),
): bigint {
  const d = distToGoal[start]!;
  if (d === UNREACHED) return 0n;
  // ways[v] = shortest paths from v to goal; fill by increasing distance to the goal.
  const byDist: number[][] = Array.from({ length: d + 1 }, () => []);
  for (let v = 0; v < distToGoal.length; v++) {
    const dv = distToGoal[v]!;
    if (dv !== UNREACHED && dv <= d) byDist[dv]!.push(v);
  }
  const ways = new Map<number, bigint>([[goal, 1n]]);
  for (let k = 1; k <= d; k++) {
    for (const v of byDist[k]!) {
      let w = 0n;
      for (const u of neighbours(graph, v)) if (distToGoal[u] === k - 1) w += ways.get(u) ?? 0n;
      ways.set(v, w);
    }
  }
  return ways.get(start) ?? 0n;
}

/**
 * The labelled answer of a maze question: the question with the canonical path's inner cells marked 'o'.
 * Returns null when the question has no S, no G, or no path between them.
 */
export function labelMaze(question: string, width: number): { answer: string; length: number } | null {
  const start = question.indexOf('S');
  const goal = question.indexOf('G');
  if (start < 0 || goal < 0) return null;
  const graph = mazeGraph(question, width);
  const path = canonicalPath(graph, start, goal);
  if (path === null) return null;
  const chars = question.split('');
  for (let i = 1; i < path.length - 1; i++) chars[path[i]!] = 'o';
  return { answer: chars.join(''), length: path.length - 1 };
}
