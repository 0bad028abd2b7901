// The shipped form of a small random ARC model: config and identifiers, the kept row is the mean of the trained
// rows, every other tensor is the source within float16 rounding, the folder reads back, model.onnx runs in ORT
// and computes what the source's graph computes with the same row, the card section, and the refusals.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  getPreset,
  type ModelConfig,
  readModelFolder,
  readSafetensorsHeader,
  stateLen,
  TASK_SHAPES,
  writeModelFolder,
} from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModelFolder } from '../export/export-model.js';
import { randomWeights } from '../export/random-weights.js';
import { readModelMetadata } from '@trm/graph';
import { createCpuSession, runStep } from '../runtime/ort-step.js';
import { formatBytes } from './ship-card.js';
import { shipCommand } from './ship-command.js';
import { PUZZLE_TABLE, type ShipSummary } from './ship-model.js';

const io = { out: () => {}, err: () => {}, quiet: true };
const ROWS = 6;
const DIM = 16;
const config: ModelConfig = {
  ...getPreset('test-micro').model,
  task: 'arc',
  seq_len: TASK_SHAPES.arc.seqLen,
  vocab_size: TASK_SHAPES.arc.vocabSize,
  num_puzzle_identifiers: ROWS,
};
const identifiers = ['<blank>', 'a', 'a|||t1|||0123456789', 'b', 'b|||t3|||0987654321', 'c'];
const sourceCard = '# TRM arc test model\n\nA random model for tests.\n\n## Accuracy\n\nNot evaluated.\n';

let root: string;
let src: string;
let source: Awaited<ReturnType<typeof readModelFolder>>;
/** mean of rows 1..ROWS-1 of the source table, float64 */
let trainedMean: Float64Array;

/** |a - b| within float16 rounding of b (half an ulp: 2^-11 relative, 2^-25 absolute below the normal range). */
function withinF16(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < b.length; i++) if (Math.abs(a[i]! - b[i]!) > Math.abs(b[i]!) * 2 ** -11 + 2 ** -25) return false;
  return a.length === b.length;
}

function meanRows(data: Float32Array, from: number, to: number): Float64Array {
  const m = new Float64Array(DIM);
  for (let r = from; r <= to; r++) for (let d = 0; d < DIM; d++) m[d]! += data[r * DIM + d]!;
  return m.map((x) => x / (to - from + 1));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trm-ship-'));
  src = join(root, 'run');
  await writeModelFolder(src, { config, weights: randomWeights(config, { seed: 7 }), identifiers, card: sourceCard });
  source = await readModelFolder(src);
  trainedMean = meanRows(source.weights[PUZZLE_TABLE]!.data, 1, ROWS - 1);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('ship (float16)', () => {
  let out: string;
  let summary: ShipSummary;
  let lines: string[];
  beforeAll(async () => {
    out = join(root, 'shipped');
    lines = [];
    summary = (await shipCommand(['--model', src, '--out', out, '--quiet'], { ...io, out: (l) => lines.push(l) }))!;
  });

  it('writes config.json with one puzzle identifier and identifiers.json ["<blank>"]', async () => {
    expect(JSON.parse(await readFile(join(out, 'config.json'), 'utf8'))).toEqual({
      ...config,
      num_puzzle_identifiers: 1,
    });
    expect(JSON.parse(await readFile(join(out, 'identifiers.json'), 'utf8'))).toEqual(['<blank>']);
    expect((await readdir(out)).sort()).toEqual([
      'README.md',
      'config.json',
      'identifiers.json',
      'model.onnx',
      'weights.safetensors',
    ]);
  });

  it('keeps one row, the mean of the trained rows 1..N-1, within float16 rounding', async () => {
    const shipped = await readModelFolder(out);
    const row = shipped.weights[PUZZLE_TABLE]!;
    expect(row.shape).toEqual([1, DIM]);
    expect(withinF16(row.data, trainedMean)).toBe(true);
    // The blank row is random here, so leaving it out matters: the mean of all rows is far from the kept row.
    const allMean = meanRows(source.weights[PUZZLE_TABLE]!.data, 0, ROWS - 1);
    expect(Math.max(...row.data.map((x, d) => Math.abs(x - allMean[d]!)))).toBeGreaterThan(0.01);
    expect(summary.table).toMatchObject({ first: 1, last: ROWS - 1, rows: ROWS });
    expect(summary.rowsCut).toBe(ROWS - 1);
  });

  it("adapt's initialisation holds: the mean of the shipped table's rows is the mean of the source rows 1..N-1", async () => {
    // `adapt` starts new rows at the mean of all rows of the model it is given; shipped, that is the kept row.
    const shipped = (await readModelFolder(out)).weights[PUZZLE_TABLE]!;
    const rows = shipped.shape[0]!;
    const adaptInit = new Float64Array(DIM);
    for (let r = 0; r < rows; r++) for (let d = 0; d < DIM; d++) adaptInit[d]! += shipped.data[r * DIM + d]! / rows;
    expect(withinF16(adaptInit, trainedMean)).toBe(true);
  });

  it('stores float16 (H_init/L_init bfloat16) and every other tensor equals the source within float16 rounding', async () => {
    const header = await readSafetensorsHeader(join(out, 'weights.safetensors'));
    for (const t of header.tensors) expect(t.dtype).toBe(t.name === 'H_init' || t.name === 'L_init' ? 'BF16' : 'F16');
    const shipped = await readModelFolder(out);
    expect(shipped.identifiers).toEqual(['<blank>']);
    expect(shipped.config.num_puzzle_identifiers).toBe(1);
    const names = Object.keys(source.weights).filter((n) => n !== PUZZLE_TABLE);
    expect(names.length).toBeGreaterThan(8);
    for (const name of names) {
      expect(shipped.weights[name]!.shape).toEqual(source.weights[name]!.shape);
      expect(withinF16(shipped.weights[name]!.data, source.weights[name]!.data), name).toBe(true);
    }
    expect(shipped.weights.H_init!.data).toEqual(source.weights.H_init!.data);
    // float16 rounding really happened (the test above would pass for float32 too)
    const w = 'L_level.layers.0.mlp.down_proj.weight';
    expect(shipped.weights[w]!.data).not.toEqual(source.weights[w]!.data);
  });

  it('halves the weights file: the table is one row and the rest float16', async () => {
    const before = (await stat(join(src, 'weights.safetensors'))).size;
    const after = (await stat(join(out, 'weights.safetensors'))).size;
    expect(summary.sourceWeightsBytes).toBe(before);
    expect(after / before).toBeGreaterThan(0.45);
    expect(after / before).toBeLessThan(0.51);
  });

  it('model.onnx runs in ORT and matches the source graph fed the same (float32) mean row', async () => {
    const meta = readModelMetadata(await readFile(join(out, 'model.onnx')));
    expect(JSON.parse(meta['trm.config']!).num_puzzle_identifiers).toBe(1);
    expect(meta['trm.dtype']).toBe('fp32');
    const reference = await exportModelFolder(src, { out: join(root, 'source.onnx') });
    const size = stateLen(config) * config.hidden_size;
    const tokens = Array.from({ length: 2 }, (_, b) =>
      Uint8Array.from({ length: config.seq_len }, (_, i) => (i * 7 + b * 3) % config.vocab_size),
    );
    const feeds = (row: Float32Array) => ({
      tokens,
      puzzleEmb: [row, row],
      reset: [true, true],
      zH: new Float32Array(2 * size),
      zL: new Float32Array(2 * size),
    });
    const shippedRow = (await readModelFolder(out)).weights[PUZZLE_TABLE]!.data;
    const a = await createCpuSession(join(out, 'model.onnx'));
    const b = await createCpuSession(reference.path);
    try {
      const x = await runStep(a, summary.config, feeds(shippedRow));
      const y = await runStep(b, config, feeds(Float32Array.from(trainedMean)));
      expect(x.logits.length).toBe(2 * config.seq_len * config.vocab_size);
      expect(x.logits.every(Number.isFinite)).toBe(true);
      let maxDiff = 0;
      for (let i = 0; i < y.logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x.logits[i]! - y.logits[i]!));
      expect(maxDiff).toBeGreaterThan(0); // the weights were rounded
      // measured 3.1e-3 (logits) and 1.8e-4 (q_halt) with these weights
      expect(maxDiff).toBeLessThan(0.01);
      expect(Math.abs(x.qHalt[0]! - y.qHalt[0]!)).toBeLessThan(0.002);
    } finally {
      await a.release();
      await b.release();
    }
    expect(summary.checkStepMs).toBeGreaterThan(0);
  });

  it('appends "Shipped form" to the card: source, rows cut, mean of the trained rows, dtype, file sizes', async () => {
    const card = await readFile(join(out, 'README.md'), 'utf8');
    expect(card.startsWith(sourceCard.trimEnd())).toBe(true);
    const section = card.slice(card.indexOf('## Shipped form'));
    // The source by its name (it lies outside the repository), never by this machine's absolute path.
    expect(section).toContain('shipped form of `run`');
    expect(card).not.toContain(root);
    expect(section).toContain(`cut from ${ROWS} rows to 1 (${ROWS - 1} rows cut)`);
    expect(section).toContain(`**mean of the trained rows** (rows 1..${ROWS - 1}`);
    expect(section).toContain('stores float16');
    for (const f of summary.files.filter((x) => x.name !== 'README.md')) {
      expect(f.bytes).toBe((await stat(join(out, f.name))).size);
      expect(section).toContain(`| \`${f.name}\` | ${formatBytes(f.bytes)} |`);
    }
    expect(summary.files.find((f) => f.name === 'README.md')?.bytes).toBe((await stat(join(out, 'README.md'))).size);
  });

  it('ends with a summary line of the sizes and leaves no temporary folder', async () => {
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^shipped ${out}: weights.safetensors [0-9.]+ kB \\(float16\\), model.onnx [0-9.]+ kB, .*puzzle table 6 -> 1 row \\(mean of rows 1..5\\)`,
      ),
    );
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('ships a shipped folder again as it is, with one "Shipped form" section', async () => {
    const again = join(root, 'again');
    const s = (await shipCommand(['--model', out, '--out', again], io))!;
    expect(s.table).toMatchObject({ first: 0, last: 0, rows: 1 });
    expect(s.rowsCut).toBe(0);
    const a = (await readModelFolder(out)).weights[PUZZLE_TABLE]!.data;
    expect((await readModelFolder(again)).weights[PUZZLE_TABLE]!.data).toEqual(a);
    const card = await readFile(join(again, 'README.md'), 'utf8');
    expect(card.split('## Shipped form').length).toBe(2);
    expect(card).toContain('## Accuracy');
    expect(card).toContain('it had a single row, kept as it was');
  });
});

describe('ship --dtype float32', () => {
  it('keeps the float32 mean and every other tensor exactly', async () => {
    const out = join(root, 'f32');
    await shipCommand(['--model', src, '--out', out, '--dtype', 'float32'], io);
    const shipped = await readModelFolder(out);
    expect(shipped.weights[PUZZLE_TABLE]!.data).toEqual(Float32Array.from(trainedMean));
    for (const name of Object.keys(source.weights).filter((n) => n !== PUZZLE_TABLE))
      expect(shipped.weights[name]!.data).toEqual(source.weights[name]!.data);
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('stores float32');
  });
});

describe('ship refuses', () => {
  it('a model without a puzzle table', async () => {
    const dir = join(root, 'no-table');
    const c = { ...config, puzzle_emb_ndim: 0, num_puzzle_identifiers: 1 };
    await writeModelFolder(dir, { config: c, weights: randomWeights(c), identifiers: ['<blank>'], card: '# t\n' });
    await expect(shipCommand(['--model', dir, '--out', join(root, 'x1')], io)).rejects.toThrow(
      `--model ${dir} has no puzzle table (puzzle_emb_ndim is 0)`,
    );
    expect(existsSync(join(root, 'x1'))).toBe(false);
  });

  it('a model without identifiers.json, or with one that does not name every row', async () => {
    const dir = join(root, 'no-ids');
    await writeModelFolder(dir, { config, weights: source.weights, identifiers: null, card: '# t\n' });
    await expect(shipCommand(['--model', dir, '--out', join(root, 'x2')], io)).rejects.toThrow(
      `--model ${dir} has no identifiers.json`,
    );
    await writeFile(join(dir, 'identifiers.json'), '["<blank>", "a"]\n');
    await expect(shipCommand(['--model', dir, '--out', join(root, 'x2')], io)).rejects.toThrow(
      `--model ${dir}: identifiers.json names 2 rows but the puzzle table has ${ROWS}`,
    );
  });

  it('an existing non-empty --out unless --force, which replaces it', async () => {
    const out = join(root, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine\n');
    await expect(shipCommand(['--model', src, '--out', out], io)).rejects.toThrow(
      `--out ${out} already holds files (notes.txt); give --force to replace it`,
    );
    expect(await readdir(out)).toEqual(['notes.txt']);
    await shipCommand(['--model', src, '--out', out, '--force'], io);
    expect(existsSync(join(out, 'notes.txt'))).toBe(false);
    expect(existsSync(join(out, 'model.onnx'))).toBe(true);
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('an empty --out is fine; --out equal to --model, a missing flag or a bad dtype are not', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await shipCommand(['--model', src, '--out', empty], io);
    expect(existsSync(join(empty, 'weights.safetensors'))).toBe(true);
    await expect(shipCommand(['--model', src, '--out', src, '--force'], io)).rejects.toThrow(
      '--out must differ from --model',
    );
    await expect(shipCommand(['--model', src], io)).rejects.toThrow('--out <dir> is required');
    await expect(shipCommand(['--out', empty], io)).rejects.toThrow('--model <dir> is required');
    await expect(shipCommand(['--model', src, '--out', empty, '--dtype', 'bf16'], io)).rejects.toThrow(
      '--dtype must be one of float16, float32 (got "bf16")',
    );
  });

  it('a weight beyond float16 range, naming the tensor and --dtype float32', async () => {
    const dir = join(root, 'huge');
    const weights = structuredClone(source.weights);
    weights['lm_head.weight']!.data[3] = 1e5;
    await writeModelFolder(dir, { config, weights, identifiers, card: '# t\n' });
    await expect(shipCommand(['--model', dir, '--out', join(root, 'x3')], io)).rejects.toThrow(
      "lm_head.weight[3] of the arc model is 100000, beyond float16's range (+-65504); ship it with --dtype float32",
    );
  });
});
