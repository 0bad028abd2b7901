import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dihedral } from '../augment/dihedral.js';
import { decodeMaze } from '../tasks/maze.js';
import { buildMazeDataset, readDataset } from './index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'maze');
const root = mkdtempSync(join(tmpdir(), 'build-maze-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, log: () => {} };

const maze = (tokens: Uint8Array, i: number) => decodeMaze(tokens.subarray(i * 900, (i + 1) * 900));
const chars = (rows: string[]) => rows.map((r) => [...r]);

describe('maze builder', () => {
  it('--augment 8 gives each train maze a group of its 8 dihedral transforms', async () => {
    const out = join(root, 'aug8');
    await buildMazeDataset({ input: join(FIXTURES, 'train.csv'), out, augment: 8, ...quiet });
    const train = readDataset(out, 'train');
    expect([train.numExamples, train.numPuzzles, train.numGroups]).toEqual([24, 24, 3]);
    expect(Array.from(train.groupIndices)).toEqual([0, 8, 16, 24]);
    expect(train.metadata).toMatchObject({ seq_len: 900, vocab_size: 6, num_puzzle_identifiers: 1 });
    for (let g = 0; g < 3; g++) {
      const q = chars(maze(train.inputs, 8 * g));
      const a = chars(maze(train.labels, 8 * g));
      for (let tid = 0; tid < 8; tid++) {
        expect(chars(maze(train.inputs, 8 * g + tid))).toEqual(dihedral(q, tid));
        expect(chars(maze(train.labels, 8 * g + tid))).toEqual(dihedral(a, tid));
      }
    }
    const test = readDataset(out, 'test');
    expect([test.numExamples, test.numGroups]).toEqual([2, 2]);
  });

  it('--augment 0 keeps the original only; above 8 is refused', async () => {
    const s = await buildMazeDataset({ input: FIXTURES, out: join(root, 'aug0'), ...quiet });
    expect(s.splits[0]!.puzzles).toBe(3);
    await expect(buildMazeDataset({ input: FIXTURES, out: join(root, 'aug9'), augment: 9, ...quiet })).rejects.toThrow(
      '--augment must be an integer in 0..8 (got 9)',
    );
  });
});
