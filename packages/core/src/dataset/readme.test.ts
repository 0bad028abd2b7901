import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../model-folder/card-path.js';
import { datasetReadme } from './readme.js';

describe('datasetReadme', () => {
  it('names the sources by their path in the repository, or by their folder name outside it', () => {
    const root = repositoryRoot()!;
    const text = datasetReadme({ task: 'sudoku', splits: [] } as unknown as Parameters<typeof datasetReadme>[0], {
      task: 'sudoku',
      seed: 0,
      augment: 0,
      subsample: null,
      sources: [
        { name: 'train', path: join(root, 'data', 'sudoku', 'train.csv'), items: 3 },
        { name: 'test', path: join(tmpdir(), 'elsewhere', 'test.csv'), items: 2 },
      ],
      notes: [],
      created: '2026-01-01T00:00:00.000Z',
      tool: 'build-dataset',
    });
    expect(text).toContain('| train | `data/sudoku/train.csv` | 3 |');
    expect(text).toContain('| test | `test.csv` | 2 |');
    expect(text).not.toContain(root);
    expect(text).not.toContain(tmpdir());
  });
});
