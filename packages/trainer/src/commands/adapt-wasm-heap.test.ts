// adapt on the tfjs wasm backend with a batch whose step does not fit the backend's heap (at most 4 GiB): the
// WebAssembly trap becomes an error that names --batch and --backend ort-cpu, and nothing is written. The model is
// an ARC-sized micro model with 32 heads of 2 dims, so that one attention-score tensor of 42 rows (4.4 GB) is past
// the heap while the rest of the step stays small (under 1 GB in all, a few seconds). In a file of its own: the
// wasm backend is unusable in this process after the trap.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandIo, FlagError, Rng, writeModelFolder } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { writeDataset } from '../data/write-dataset.js';
import { microConfig, randomizedModel } from '../testing/random-model.js';
import { adaptCommand } from './adapt.js';

const root = mkdtempSync(join(tmpdir(), 'trm-adapt-heap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const io: CommandIo = { out: () => {}, err: () => {}, quiet: true };

const ROWS = 42;
const S = 900;

describe('adapt --backend wasm past the heap', () => {
  it('says the batch does not fit and names --batch and --backend ort-cpu', { timeout: 120_000 }, async () => {
    const config = microConfig({
      task: 'arc',
      seq_len: S,
      vocab_size: 12,
      num_puzzle_identifiers: 2,
      hidden_size: 64,
      puzzle_emb_ndim: 64,
      num_heads: 32,
      H_cycles: 1,
      L_cycles: 1,
    });
    await selectBackend('cpu', () => {});
    const model = await randomizedModel(config, 1);
    const modelDir = join(root, 'model');
    await writeModelFolder(modelDir, {
      config,
      weights: await model.exportWeights(),
      identifiers: ['<blank>', 'known'],
      card: '# micro\n',
    });
    model.dispose();
    const rng = new Rng(3);
    const inputs = Uint8Array.from({ length: ROWS * S }, () => rng.int(2, 11));
    const upTo = Int32Array.from({ length: ROWS + 1 }, (_, i) => i);
    const data = join(root, 'data');
    writeDataset(data, {
      splits: {
        train: {
          metadata: { seq_len: S, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
          inputs,
          labels: inputs.slice(),
          puzzleIndices: upTo,
          groupIndices: upTo.slice(),
          puzzleIdentifiers: new Int32Array(ROWS).fill(1),
          numExamples: ROWS,
        },
      },
      vocabSize: 12,
      numPuzzleIdentifiers: 2,
      identifiers: ['<blank>', 'new'],
    });
    const out = join(root, 'adapted');
    const run = adaptCommand(
      ['--model', modelDir, '--data', data, '--out', out, '--steps', '1', '--batch', `${ROWS}`, '--backend', 'wasm'],
      io,
    );
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlagError);
    expect((err as FlagError).flag).toBe('--batch');
    expect((err as Error).message).toMatch(
      /^the tfjs wasm backend failed inside WebAssembly \("[^"]+"\) at a batch of 42 row\(s\): its heap, at most 4 GiB, does not hold a step of this model at this batch size\. Pass a smaller --batch \(e\.g\. --batch 21\), or --backend ort-cpu, which has no such limit$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
