import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/random.js';
import { generateMaze, mazeSource } from './maze.js';
import { bfsDistances, canonicalPath, countShortestPaths, labelMaze, mazeGraph } from './maze-path.js';

// The shared data folder sits beside the repository (TRM_DATA_DIR overrides).
const DATA = process.env.TRM_DATA_DIR ?? fileURLToPath(new URL('../../../../../shared/data', import.meta.url));
const TRAIN = join(DATA, 'maze-hard-like/train.csv');

function sharedRows(n: number): { source: string; question: string; answer: string; rating: string }[] {
  const lines = readFileSync(TRAIN, 'utf8')
    .split('\n')
    .slice(1, n + 1);
  return lines.map((line) => {
    const [source, question, answer, rating] = line.split(',') as [string, string, string, string];
    return { source, question, answer, rating };
  });
}

describe('canonical shortest path', () => {
  it('reproduces the labels, lengths and path counts of the first 50 shared Maze-Hard-like training rows', () => {
    const rows = sharedRows(50);
    expect(rows).toHaveLength(50);
    for (const row of rows) {
      const label = labelMaze(row.question, 30)!;
      expect(label.answer, row.source).toBe(row.answer);
      expect(String(label.length)).toBe(row.rating);
      const count = countShortestPaths(
        mazeGraph(row.question, 30),
        row.question.indexOf('S'),
        row.question.indexOf('G'),
      );
      // The data caps the count it prints at 1e9.
      const printed = count > 1_000_000_000n ? '>1000000000' : String(count);
      expect(row.source.endsWith(`nshortest${printed}`), row.source).toBe(true);
    }
  });

  it('takes up, down, left, right in that order on a hand-made 3x3 maze', () => {
    // S in the middle, G in a corner: two shortest paths (up-left, left-up); "up" comes first.
    const q = '  G' + ' S ' + '   ';
    const graph = mazeGraph(q, 3);
    expect(canonicalPath(graph, 4, 2)).toEqual([4, 1, 2]);
    expect(countShortestPaths(graph, 4, 2)).toBe(2n);
    expect(labelMaze(q, 3)).toEqual({ answer: ' oG' + ' S ' + '   ', length: 2 });
    const blocked = '#G#' + '###' + '#S#';
    expect(labelMaze(blocked, 3)).toBeNull();
    expect(Array.from(bfsDistances(mazeGraph(blocked, 3), 1))).toEqual([-1, 0, -1, -1, -1, -1, -1, -1, -1]);
  });
});

describe('maze generator', () => {
  it('is seeded, respects the options and labels each maze canonically', () => {
    const options = { side: 12, minWalls: 20, maxWalls: 40, minPathLength: 15 };
    const a = Array.from({ length: 20 }, (_, i) => generateMaze(new Rng(100 + i), options));
    const b = generateMaze(new Rng(100), options);
    expect(b).toEqual(a[0]);
    for (const m of a) {
      expect(m.question).toHaveLength(144);
      expect(m.question.split('#').length - 1).toBe(m.walls);
      expect(m.walls).toBeGreaterThanOrEqual(20);
      expect(m.walls).toBeLessThanOrEqual(40);
      expect(m.question.replace(/[# SG]/g, '')).toBe('');
      expect(m.pathLength).toBeGreaterThan(15);
      expect(labelMaze(m.question, 12)).toEqual({ answer: m.answer, length: m.pathLength });
      expect(m.answer.split('o').length - 1).toBe(m.pathLength - 1);
      expect(m.shortestPaths).toBeGreaterThanOrEqual(1n);
    }
    expect(new Set(a.map((m) => m.question)).size).toBe(20);
  });

  it('makes full-size mazes with the default wall range, and names them as the shared data does', () => {
    const m = generateMaze(new Rng(7), { minPathLength: 40 });
    expect(m.question).toHaveLength(900);
    expect(m.walls).toBeGreaterThanOrEqual(270);
    expect(m.walls).toBeLessThanOrEqual(450);
    expect(m.pathLength).toBeGreaterThan(40);
    expect(mazeSource(7, m)).toMatch(/^gen-seed7-try\d+-walls\d+-nshortest(\d+|>1000000000)$/);
  });

  it('gives up after maxTries with a clear message and validates its options', () => {
    expect(() => generateMaze(new Rng(1), { side: 5, minPathLength: 100, maxTries: 50 })).toThrow(
      /no maze with a shortest path longer than 100 steps in 50 draws/,
    );
    expect(() => generateMaze(new Rng(1), { side: 5, minWalls: 10, maxWalls: 24 })).toThrow(/maxWalls <= 23/);
  });
});
