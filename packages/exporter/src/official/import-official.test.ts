// import-official end to end on the official fixtures (a torch.save checkpoint per variant, made by the official
// code): every tensor lands in the model folder bit for bit as the fixture's weights-fp32.safetensors has it, the
// safetensors route gives the same folder, and broken checkpoints (made here by editing the fixtures' bytes) are
// refused with the key named.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ModelConfig,
  type NamedArrays,
  readModelFolder,
  readSafetensors,
  type SafetensorsSource,
  toFloat32,
  writeSafetensors,
} from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { importOfficial } from './import-official.js';
import { rebuildZip, replaceBytes } from './testing/zip-builder.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'official');
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  variants: Record<string, { official_config: Record<string, unknown>; model_config: ModelConfig }>;
  files: Record<string, { sha256: string }>;
};
const VARIANTS = ['att', 'mlp'] as const;
const PREFIX = '_orig_mod.model.inner.';

const root = mkdtempSync(join(tmpdir(), 'import-official-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(root, `${name}-${n++}`);

/** The variant's official config dict as a JSON file (what a user would pass as --config). */
function officialConfigFile(variant: string): string {
  const path = join(root, `${variant}-official.json`);
  writeFileSync(path, JSON.stringify(manifest.variants[variant]!.official_config));
  return path;
}

async function expected(variant: string): Promise<Map<string, Float32Array>> {
  const ref = await readSafetensors(join(FIXTURES, variant, 'weights-fp32.safetensors'));
  return new Map([...ref.tensors].map(([k, t]) => [k, toFloat32(t)]));
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function expectSameWeights(got: NamedArrays, want: Map<string, Float32Array>): void {
  expect(Object.keys(got).sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) expect(bitsEqual(got[k]!.data, w), k).toBe(true);
}

describe('import-official on the official fixtures', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: imports step_0 bit for bit, with the config and a model card`, async () => {
      const out = fresh(variant);
      const checkpoint = join(FIXTURES, variant, 'step_0');
      const summary = await importOfficial({ checkpoint, out, config: officialConfigFile(variant) });
      expect(summary.format).toBe('pytorch-zip');
      expect(summary.keyPrefix).toBe(PREFIX);
      expect(summary.sha256).toBe(manifest.files[`${variant}/step_0`]!.sha256);
      expect(summary.dtypes.bfloat16).toEqual(['H_init', 'L_init']);
      expect(summary.dtypes.float32).toHaveLength(13);
      expect(summary.config).toEqual(manifest.variants[variant]!.model_config);

      const folder = await readModelFolder(out);
      expect(folder.config).toEqual(manifest.variants[variant]!.model_config);
      expectSameWeights(folder.weights, await expected(variant));
      // H_init holds bf16 values: the low 16 bits of every float32 are zero.
      expect(new Uint32Array(folder.weights.H_init!.data.buffer).every((b) => (b & 0xffff) === 0)).toBe(true);
      expect(folder.metadata['trm.source_sha256']).toBe(summary.sha256);
      expect(folder.metadata['trm.source_key_prefix']).toBe(PREFIX);

      const card = await readFile(join(out, 'README.md'), 'utf8');
      expect(card).toContain('**imported**');
      expect(card).toContain('`step_0`');
      expect(card).toContain(summary.sha256);
      expect(card).toContain(`\`${PREFIX}\` (removed)`);
      expect(card).toContain('bfloat16 (2: H_init, L_init)');
      expect(card).toMatch(/float32 \(13\)/);
    });
  }

  it('takes the config from all_config.yaml (arch:) and infers what the tensors fix', async () => {
    const c = manifest.variants.mlp!.official_config;
    const yaml = [
      'arch:',
      '  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
      '  loss:',
      '    name: losses@ACTLossHead',
      '    loss_type: stablemax_cross_entropy',
      `  H_cycles: ${c.H_cycles}`,
      `  L_cycles: ${c.L_cycles}`,
      '  H_layers: 0',
      `  L_layers: ${c.L_layers}`,
      `  hidden_size: ${c.hidden_size}`,
      `  num_heads: ${c.num_heads}`,
      '  expansion: 4',
      `  puzzle_emb_ndim: ${c.puzzle_emb_ndim}`,
      '  pos_encodings: none',
      '  forward_dtype: float32',
      '  mlp_t: true',
      `  puzzle_emb_len: ${c.puzzle_emb_len}`,
      '  halt_exploration_prob: 0.1',
      '  halt_max_steps: 16',
      '  no_ACT_continue: true',
      'global_batch_size: 4',
      'lr: 0.0001',
      'data_paths:',
      '  - data/sudoku-extreme-1k-aug-1000',
      '',
    ].join('\n');
    const path = join(root, 'all_config.yaml');
    await writeFile(path, yaml);
    const out = fresh('yaml');
    const s = await importOfficial({ checkpoint: join(FIXTURES, 'mlp', 'step_0'), out, config: path });
    expect(s.config).toEqual(manifest.variants.mlp!.model_config);
    expect(s.sources.hidden_size).toBe('checkpoint');
    expect(s.sources.H_cycles).toBe('config');
    expect(s.sources.task).toBe('checkpoint');
    expect(s.sources.seq_len).toBe('task');
    expect(s.sources.batch_size).toBe('config');
  });

  it('the safetensors route (bare F32 names, or prefixed with bf16 H_init/L_init) gives the same folder', async () => {
    const config = officialConfigFile('att');
    const viaTorch = fresh('torch');
    await importOfficial({ checkpoint: join(FIXTURES, 'att', 'step_0'), out: viaTorch, config });
    const bare = fresh('bare');
    const s1 = await importOfficial({
      checkpoint: join(FIXTURES, 'att', 'weights-fp32.safetensors'),
      out: bare,
      config,
    });
    expect(s1.format).toBe('safetensors');
    expect(s1.keyPrefix).toBe('');

    // The checkpoint's own tensors, prefixed and with bf16 H_init/L_init, as a safetensors file.
    const ref = await readSafetensors(join(FIXTURES, 'att', 'weights-fp32.safetensors'));
    const bf16 = (x: Float32Array) =>
      Uint16Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length), (b) => b >>> 16);
    const sources: SafetensorsSource[] = [...ref.tensors].map(([k, t]) => {
      const data = toFloat32(t);
      return k === 'H_init' || k === 'L_init'
        ? { name: `model.inner.${k}`, dtype: 'BF16', shape: t.shape, data: bf16(data) }
        : { name: `model.inner.${k}`, dtype: 'F32', shape: t.shape, data };
    });
    const prefixedPath = join(root, 'prefixed.safetensors');
    await writeSafetensors(prefixedPath, sources);
    const prefixed = fresh('prefixed');
    const s2 = await importOfficial({ checkpoint: prefixedPath, out: prefixed, config });
    expect(s2.keyPrefix).toBe('model.inner.');
    expect(s2.dtypes.BF16).toEqual(['H_init', 'L_init']);

    const a = await readModelFolder(viaTorch);
    for (const dir of [bare, prefixed]) {
      const b = await readModelFolder(dir);
      expect(b.config).toEqual(a.config);
      expectSameWeights(b.weights, new Map(Object.entries(a.weights).map(([k, v]) => [k, v.data])));
      expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(
        await readFile(join(viaTorch, 'config.json'), 'utf8'),
      );
    }
  });

  it('without a config, names exactly the fields to pass', async () => {
    const att = importOfficial({ checkpoint: join(FIXTURES, 'att', 'step_0'), out: fresh('none') });
    await expect(att).rejects.toThrow(
      'cannot complete the model config: the checkpoint does not fix puzzle_emb_len, pos_encodings, num_heads, H_cycles, ' +
        "L_cycles, halt_max_steps: pass --config with the official run's all_config.yaml (or a YAML/JSON file giving " +
        'them, e.g. "arch: {puzzle_emb_len: 16, pos_encodings: rope, num_heads: 8, H_cycles: 3, L_cycles: 6, halt_max_steps: 16}")',
    );
    // mlp_t fixes the prefix length (state length 97 - 81 cells) and makes positions irrelevant.
    const mlp = importOfficial({ checkpoint: join(FIXTURES, 'mlp', 'step_0'), out: fresh('none') });
    await expect(mlp).rejects.toThrow('does not fix num_heads, H_cycles, L_cycles, halt_max_steps: pass --config');
  });

  it('refuses a config that contradicts the tensors, naming the field', async () => {
    const path = join(root, 'wrong.json');
    await writeFile(path, JSON.stringify({ ...manifest.variants.att!.official_config, hidden_size: 128 }));
    await expect(
      importOfficial({ checkpoint: join(FIXTURES, 'att', 'step_0'), out: fresh('wrong'), config: path }),
    ).rejects.toThrow(
      `--config ${path}: hidden_size is 128 but the checkpoint's embed_tokens.embedding_weight has shape [11, 64] (hidden_size 64)`,
    );
    await expect(
      importOfficial({
        checkpoint: join(FIXTURES, 'att', 'step_0'),
        out: fresh('wrong'),
        config: officialConfigFile('att'),
        task: 'maze',
      }),
    ).rejects.toThrow(
      'task "maze" has 6 tokens but the checkpoint\'s embed_tokens.embedding_weight has shape [11, 64]',
    );
  });

  it('refuses to overwrite a non-empty folder unless forced, and then drops files that no longer match', async () => {
    const out = fresh('force');
    const args = { checkpoint: join(FIXTURES, 'att', 'step_0'), out, config: officialConfigFile('att') };
    await importOfficial(args);
    await writeFile(join(out, 'model.onnx'), 'stale');
    await expect(importOfficial(args)).rejects.toThrow(/is not empty .*pass --force/);
    await importOfficial({ ...args, force: true });
    expect(() => readFileSync(join(out, 'model.onnx'))).toThrow();
    expect((await readModelFolder(out)).config.task).toBe('sudoku');
  });
});

describe('import-official refuses broken checkpoints, naming the key', () => {
  const step0 = join(FIXTURES, 'att', 'step_0');
  const pkl = 'step_0/data.pkl';
  /** The fixture with its data.pkl edited. */
  async function withPickle(edit: (b: Uint8Array) => Uint8Array): Promise<string> {
    const to = join(root, `edited-${n++}`);
    await rebuildZip(step0, to, (entries) => entries.map((e) => (e.name === pkl ? { ...e, data: edit(e.data) } : e)));
    return to;
  }
  const run = (checkpoint: string) =>
    importOfficial({ checkpoint, out: fresh('bad'), config: officialConfigFile('att') });

  it('a rebuilt but unedited archive imports (the edits below are all that is wrong)', async () => {
    const s = await run(await withPickle((b) => b));
    expect(s.tensors).toBe(15);
  });

  it('missing and unknown keys', async () => {
    const path = await withPickle((b) => replaceBytes(b, `${PREFIX}q_head.bias`, `${PREFIX}q_head.bixs`));
    await expect(run(path)).rejects.toThrow(
      `unknown key ${PREFIX}q_head.bixs [2]; missing key ${PREFIX}q_head.bias [2]`,
    );
  });

  it('a wrong shape', async () => {
    // lm_head.weight's size tuple (11, 64) -> (10, 64): BININT1 11, BININT1 64, TUPLE2 after its key.
    const path = await withPickle((b) => {
      const at = Buffer.from(b).indexOf(`${PREFIX}lm_head.weight`);
      const head = b.subarray(0, at);
      return Buffer.concat([
        head,
        replaceBytes(b.subarray(at), [0x4b, 11, 0x4b, 64, 0x86], [0x4b, 10, 0x4b, 64, 0x86]),
      ]);
    });
    await expect(run(path)).rejects.toThrow(
      `key ${PREFIX}lm_head.weight has shape [10, 64], the config implies [11, 64]`,
    );
  });

  it('an unsupported global', async () => {
    const path = await withPickle((b) => replaceBytes(b, 'ctorch._utils\n_rebuild_tensor_v2\n', 'cos\nsystem\n'));
    await expect(run(path)).rejects.toThrow(
      `unsupported global os.system: a state_dict of tensors needs only collections.OrderedDict`,
    );
    await expect(run(path)).rejects.toThrow(`while reading key "${PREFIX}H_init"`);
  });

  it('a truncated storage', async () => {
    const to = join(root, `short-${n++}`);
    await rebuildZip(step0, to, (entries) =>
      entries.map((e) => (e.name === 'step_0/data/6' ? { ...e, data: e.data.subarray(0, 100) } : e)),
    );
    await expect(run(to)).rejects.toThrow(
      `tensor ${PREFIX}puzzle_emb.weights: storage step_0/data/6 is truncated (100 bytes, 192 float32 elements need 768)`,
    );
  });

  it('a truncated file, garbage, a corrupt storage and a compressed archive', async () => {
    const bytes = await readFile(step0);
    const cut = join(root, `cut-${n++}`);
    await writeFile(cut, bytes.subarray(0, 300_000));
    await expect(run(cut)).rejects.toThrow('is not a zip archive (no end-of-central-directory record');
    const garbage = join(root, `garbage-${n++}`);
    await writeFile(garbage, createHash('sha512').update('x').digest());
    await expect(run(garbage)).rejects.toThrow(
      'is neither a PyTorch checkpoint (a torch.save zip) nor a readable safetensors file',
    );
    // One flipped bit inside lm_head.weight's storage (data/3, 2816 bytes at offset 6928).
    const flipped = Buffer.from(bytes);
    flipped[6928 + 100]! ^= 1;
    const corrupt = join(root, `corrupt-${n++}`);
    await writeFile(corrupt, flipped);
    await expect(run(corrupt)).rejects.toThrow(`tensor ${PREFIX}lm_head.weight:`);
    await expect(run(corrupt)).rejects.toThrow('entry step_0/data/3 is corrupt (CRC-32');
    // Deflated entries are inflated; other methods are refused by name.
    const deflated = join(root, `deflated-${n++}`);
    await rebuildZip(step0, deflated, (entries) => entries.map((e) => ({ ...e, method: 8 })));
    expect((await run(deflated)).tensors).toBe(15);
    const bzip = join(root, `bzip2-${n++}`);
    await rebuildZip(step0, bzip, (entries) =>
      entries.map((e) => (e.name === 'step_0/data/3' ? { ...e, method: 12 } : e)),
    );
    await expect(run(bzip)).rejects.toThrow(
      'entry step_0/data/3 is compressed with method 12; only stored (0) and deflate (8) entries can be read',
    );
  });

  it('an integer tensor (safetensors route)', async () => {
    const ref = await readSafetensors(join(FIXTURES, 'att', 'weights-fp32.safetensors'));
    const sources: SafetensorsSource[] = [...ref.tensors].map(([k, t]) =>
      k === 'q_head.bias'
        ? { name: k, dtype: 'I64', shape: t.shape, data: new BigInt64Array(2) }
        : { name: k, dtype: 'F32', shape: t.shape, data: toFloat32(t) },
    );
    const path = join(root, 'int.safetensors');
    await writeSafetensors(path, sources);
    await expect(run(path)).rejects.toThrow('tensor q_head.bias has dtype I64; TRM weights are floating point');
  });
});
