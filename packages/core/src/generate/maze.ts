// Maze generator in the manner of Maze-Hard (HRM §3.1 / the shared data's SOURCE.md): on a side x side grid,
// draw a wall count uniformly in [minWalls, maxWalls] and put the walls on distinct uniformly random cells; draw
// S and G uniformly among the free cells; keep the draw only if the shortest S->G path is longer than
// `minPathLength` steps (unreachable pairs are rejected). The label is the canonical shortest path (maze-path.ts).
//
// Cost: with the defaults (30x30, 270..450 walls, > 110 steps) about 1.3e-5 of draws are kept, i.e. ~77,000
// draws per maze. A draw costs one partial shuffle (~360 random numbers) and a BFS from G that stops as soon as
// it reaches S; measured here (2026-11-29, one core of the 2-core CI box) ~28 us per draw, so ~2 s per maze and
// ~35-40 min for 1000 mazes. Random numbers are two thirds of that.
// Smaller minPathLength values suit tests and easy training sets: about 1 draw in 7 is kept at 30 (~1 ms per
// maze), 1 in 110 at 60 (~5 ms), 1 in 1200 at 80 (~70 ms).
import type { Rng } from '../util/random.js';
import { bfsDistances, canonicalPath, countShortestPaths, type MazeGraph, UNREACHED } from './maze-path.js';

export interface MazeOptions {
  /** Grid side (default 30, the task's). */
  side?: number;
  /** Fewest walls (default 30% of the cells: 270 on 30x30). */
  minWalls?: number;
  /** Most walls (default 50% of the cells: 450 on 30x30). */
  maxWalls?: number;
  /** Keep a maze only if its shortest path has more than this many steps (default 110, as Maze-Hard). */
  minPathLength?: number;
  /** Give up after this many draws (default: never). */
  maxTries?: number;
}

export interface GeneratedMaze {
  /** side*side row-major characters over '# SG'. */
  question: string;
  /** The question with the canonical shortest path's inner cells marked 'o'. */
  answer: string;
  /** Steps of the shortest path (the CSV's rating). */
  pathLength: number;
  walls: number;
  /** Draws made for this maze, the kept one included. */
  tries: number;
  /** Number of distinct shortest paths (the label picks one canonically). */
  shortestPaths: bigint;
}

interface ResolvedOptions {
  side: number;
  minWalls: number;
  maxWalls: number;
  minPathLength: number;
  maxTries: number;
}

export function resolveMazeOptions(options: MazeOptions = {}): ResolvedOptions {
  const side = options.side ?? 30;
  if (!Number.isInteger(side) || side < 2) throw new RangeError(`maze side must be an integer >= 2, got ${side}`);
  const cells = side * side;
  const minWalls = options.minWalls ?? Math.round(0.3 * cells);
  const maxWalls = options.maxWalls ?? Math.round(0.5 * cells);
  if (
    !Number.isInteger(minWalls) ||
    !Number.isInteger(maxWalls) ||
    minWalls < 0 ||
    maxWalls < minWalls ||
    maxWalls > cells - 2
  ) {
    throw new RangeError(
      `maze walls must satisfy 0 <= minWalls <= maxWalls <= ${cells - 2} (cells minus S and G), got ${minWalls}..${maxWalls}`,
    );
  }
  const minPathLength = options.minPathLength ?? 110;
  if (!Number.isInteger(minPathLength) || minPathLength < 0) {
    throw new RangeError(`minPathLength must be a non-negative integer, got ${minPathLength}`);
  }
  const maxTries = options.maxTries ?? Number.POSITIVE_INFINITY;
  if (!(maxTries >= 1)) throw new RangeError(`maxTries must be >= 1, got ${maxTries}`);
  return { side, minWalls, maxWalls, minPathLength, maxTries };
}

/** Draws mazes until one has a shortest path longer than `minPathLength`; throws after `maxTries` draws. */
export function generateMaze(rng: Rng, options: MazeOptions = {}): GeneratedMaze {
  const { side, minWalls, maxWalls, minPathLength, maxTries } = resolveMazeOptions(options);
  const cells = side * side;
  const order = Int32Array.from({ length: cells }, (_, i) => i);
  const passable = new Uint8Array(cells);
  const graph: MazeGraph = { width: side, height: side, passable };
  const dist = new Int32Array(cells);
  const queue = new Int32Array(cells);
  for (let tries = 1; tries <= maxTries; tries++) {
    const walls = rng.int(minWalls, maxWalls);
    // Partial Fisher-Yates: order[0..walls) is a uniform random set of wall cells, the rest are free.
    for (let i = 0; i < walls; i++) {
      const j = i + below(rng, cells - i);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    passable.fill(1);
    for (let i = 0; i < walls; i++) passable[order[i]!] = 0;
    const free = cells - walls;
    const si = below(rng, free);
    let gi = below(rng, free - 1);
    if (gi >= si) gi++;
    const start = order[walls + si]!;
    const goal = order[walls + gi]!;
    bfsDistances(graph, goal, start, dist, queue);
    const length = dist[start]!;
    if (length === UNREACHED || length <= minPathLength) continue;

    const full = bfsDistances(graph, goal);
    const path = canonicalPath(graph, start, goal, full)!;
    const q = new Array<string>(cells);
    for (let i = 0; i < cells; i++) q[i] = passable[i] ? ' ' : '#';
    q[start] = 'S';
    q[goal] = 'G';
    const a = [...q];
    for (let i = 1; i < path.length - 1; i++) a[path[i]!] = 'o';
    return {
      question: q.join(''),
      answer: a.join(''),
      pathLength: length,
      walls,
      tries,
      shortestPaths: countShortestPaths(graph, start, goal, full),
    };
  }
  throw new Error(
    `no maze with a shortest path longer than ${minPathLength} steps in ${maxTries} draws ` +
      `(side ${side}, walls ${minWalls}..${maxWalls}); raise maxTries or lower minPathLength`,
  );
}

/**
 * Uniform integer in [0, n) from one 32-bit draw (rejecting the top sliver that would bias the modulo). The
 * inner loop makes ~400 of these per draw, and this is 3x cheaper than Rng.int's 53-bit float path.
 */
function below(rng: Rng, n: number): number {
  const limit = 4294967296 - (4294967296 % n);
  let x = rng.nextUint32();
  while (x >= limit) x = rng.nextUint32();
  return x % n;
}

/**
 * The CSV `source` field in the shared data's form, gen-seed<k>-try<n>-walls<w>-nshortest<m>, where n is the
 * draw that was kept (counted over the run when `tryIndex` is given) and counts above 1e9 print as >1000000000.
 */
export function mazeSource(seed: number, maze: GeneratedMaze, tryIndex = maze.tries): string {
  const n = maze.shortestPaths > 1_000_000_000n ? '>1000000000' : String(maze.shortestPaths);
  return `gen-seed${seed}-try${tryIndex}-walls${maze.walls}-nshortest${n}`;
}
