// Independent check of built datasets: numpy loads every .npy the way the reference loader does (mmap) and checks
// dtypes, shapes and index consistency against dataset.json, without any of our code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { numpySkipped, runNumpyScript } from '../npy/numpy-python.js';
import { buildArcDataset, buildMazeDataset, buildSudokuDataset, readDataset } from './index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const root = mkdtempSync(join(tmpdir(), 'dataset-numpy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, log: () => {} };

const script = `
import json, sys, os, numpy as np
KEYS = {"pad_id", "ignore_label_id", "blank_identifier_id", "vocab_size", "seq_len", "num_puzzle_identifiers",
        "total_groups", "mean_puzzle_examples", "total_puzzles", "sets"}
report = {}
for out in sys.argv[1:]:
    ids = json.load(open(os.path.join(out, "identifiers.json")))
    assert isinstance(ids, list) and ids[0] == "<blank>", ids[:2]
    for split in ("train", "test"):
        meta = json.load(open(os.path.join(out, split, "dataset.json")))
        assert KEYS <= set(meta), KEYS - set(meta)
        a = {f: np.load(os.path.join(out, split, f"all__{f}.npy"), mmap_mode="r")
             for f in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")}
        n, p, g = a["inputs"].shape[0], a["puzzle_identifiers"].shape[0], a["group_indices"].shape[0] - 1
        assert a["inputs"].dtype == np.uint8 and a["labels"].dtype == np.uint8, (a["inputs"].dtype, a["labels"].dtype)
        assert a["inputs"].shape == (n, meta["seq_len"]) == a["labels"].shape, (a["inputs"].shape, a["labels"].shape)
        for f in ("puzzle_identifiers", "puzzle_indices", "group_indices"):
            assert a[f].dtype == np.int32 and a[f].ndim == 1, (f, a[f].dtype, a[f].shape)
        assert a["puzzle_indices"].shape == (p + 1,)
        assert a["puzzle_indices"][0] == 0 and a["puzzle_indices"][-1] == n
        assert a["group_indices"][0] == 0 and a["group_indices"][-1] == p
        assert np.all(np.diff(a["puzzle_indices"]) > 0) and np.all(np.diff(a["group_indices"]) > 0)
        assert meta["total_groups"] == g and meta["total_puzzles"] == p
        assert p == 0 or abs(meta["mean_puzzle_examples"] - n / p) < 1e-9
        assert n == 0 or int(a["inputs"].max()) < meta["vocab_size"] and int(a["labels"].max()) < meta["vocab_size"]
        assert p == 0 or 0 <= int(a["puzzle_identifiers"].min()) and int(a["puzzle_identifiers"].max()) < meta["num_puzzle_identifiers"]
        assert meta["num_puzzle_identifiers"] == max(len(ids), 1)
        report[f"{os.path.basename(out)}/{split}"] = [n, p, g, int(a["inputs"].astype(np.int64).sum())]
print(json.dumps(report))
`;

describe('built datasets against numpy', () => {
  it.skipIf(numpySkipped())('numpy loads every file with the reference dtypes and consistent shapes', async () => {
    const outs = {
      sudoku: join(root, 'sudoku'),
      maze: join(root, 'maze'),
      arc1: join(root, 'arc1'),
      arc2: join(root, 'arc2'),
    };
    await buildSudokuDataset({
      input: join(FIXTURES, 'sudoku'),
      out: outs.sudoku,
      augment: 2,
      subsample: 10,
      ...quiet,
    });
    await buildMazeDataset({ input: join(FIXTURES, 'maze'), out: outs.maze, augment: 8, ...quiet });
    await buildArcDataset({ task: 'arc1', input: join(FIXTURES, 'arc'), out: outs.arc1, augment: 3, ...quiet });
    await buildArcDataset({ task: 'arc2', input: join(FIXTURES, 'arc'), out: outs.arc2, augment: 3, ...quiet });
    const report = JSON.parse(runNumpyScript(script, Object.values(outs))) as Record<string, number[]>;
    expect(Object.keys(report).length).toBe(8);
    for (const [name, out] of Object.entries(outs)) {
      for (const split of ['train', 'test']) {
        const ds = readDataset(out, split);
        const sum = ds.inputs.reduce((a, b) => a + b, 0);
        expect(report[`${name}/${split}`]).toEqual([ds.numExamples, ds.numPuzzles, ds.numGroups, sum]);
      }
    }
    expect(report['sudoku/train']!.slice(0, 3)).toEqual([30, 30, 10]);
    expect(report['maze/train']!.slice(0, 3)).toEqual([24, 24, 3]);
    expect(report['arc2/test']!.slice(0, 3)).toEqual([0, 0, 0]);
  });
});
