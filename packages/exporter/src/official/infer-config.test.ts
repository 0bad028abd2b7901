// The imported config: what the tensor shapes fix, what the config file or flags must give, the cross-checks
// between them, and the tensor-set check that names unknown, missing and misshapen keys.
import { checkpointTensors, getPreset, type ModelConfig } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { type ConfigFile, interpretConfig } from './config-file.js';
import { checkTensorSet, resolveConfig, shapeFacts } from './infer-config.js';

function shapesOf(c: ModelConfig): Map<string, number[]> {
  return new Map(checkpointTensors(c).map((t) => [t.name, t.shape]));
}
const file = (fields: object, path = 'cfg.json'): ConfigFile => interpretConfig(fields, path);

describe('resolveConfig', () => {
  it('rebuilds a paper preset from its shapes plus the fields they cannot show', () => {
    for (const name of ['sudoku-att', 'sudoku-mlp', 'maze-att', 'arc1-att']) {
      const want = getPreset(name).model;
      const { H_cycles, L_cycles, num_heads, halt_max_steps, pos_encodings, puzzle_emb_len } = want;
      const given = file({ H_cycles, L_cycles, num_heads, halt_max_steps, pos_encodings, puzzle_emb_len });
      const { config, sources } = resolveConfig({ facts: shapeFacts(shapesOf(want)), file: given });
      expect(config, name).toEqual({ ...want, batch_size: 768 });
      expect(sources.num_puzzle_identifiers).toBe('checkpoint');
      expect(sources.expansion).toBe('default');
    }
  });

  it('infers the prefix length of mlp_t and a learned position table from the state length', () => {
    const mlp = { ...getPreset('sudoku-mlp').model, puzzle_emb_len: 3, puzzle_emb_ndim: 1500 };
    const r = resolveConfig({
      facts: shapeFacts(shapesOf(mlp)),
      file: file({ H_cycles: 3, L_cycles: 6, num_heads: 8, halt_max_steps: 16 }),
    });
    expect([r.config.puzzle_emb_len, r.sources.puzzle_emb_len, r.config.pos_encodings]).toEqual([
      3,
      'checkpoint',
      'none',
    ]);
    const learned = { ...getPreset('maze-att').model, pos_encodings: 'learned' as const, puzzle_emb_len: 2 };
    const l = resolveConfig({
      facts: shapeFacts(shapesOf(learned)),
      file: file({ H_cycles: 3, L_cycles: 4, num_heads: 8, halt_max_steps: 16 }),
    });
    expect([l.config.pos_encodings, l.config.puzzle_emb_len, l.config.task]).toEqual(['learned', 2, 'maze']);
  });

  it('cross-checks every field the tensors fix', () => {
    const att = getPreset('sudoku-att').model;
    const facts = shapeFacts(shapesOf(att));
    const base = {
      H_cycles: 3,
      L_cycles: 6,
      num_heads: 8,
      halt_max_steps: 16,
      pos_encodings: 'rope',
      puzzle_emb_len: 16,
    };
    const cases: [object, string][] = [
      [{ L_layers: 4 }, '--config cfg.json: L_layers is 4 but the checkpoint has L_level.layers.0 to 1'],
      [{ mlp_t: true }, 'mlp_t is true but the checkpoint has no mlp_t weights'],
      [{ vocab_size: 12 }, "vocab_size is 12 but the checkpoint's embed_tokens.embedding_weight has shape [11, 512]"],
      [
        { num_puzzle_identifiers: 5 },
        "num_puzzle_identifiers is 5 but the checkpoint's puzzle_emb.weights has shape [1, 512]",
      ],
      [
        { expansion: 2 },
        "expansion is 2 but the checkpoint's L_level.layers.0.mlp.gate_up_proj.weight has shape [3072, 512]",
      ],
      [
        { pos_encodings: 'learned' },
        'pos_encodings is "learned" but the checkpoint lacks key embed_pos.embedding_weight',
      ],
      [{ seq_len: 900 }, 'seq_len is 900 but task "sudoku" has 81 cells'],
    ];
    for (const [over, message] of cases)
      expect(() => resolveConfig({ facts, file: file({ ...base, ...over }) }), message).toThrow(message);
    expect(() => resolveConfig({ facts, file: file(base), seqLen: 900 })).toThrow(
      '--seq-len 900 does not match task "sudoku" (81 cells)',
    );
    expect(() => resolveConfig({ facts, file: file({ ...base, num_heads: 7 }) })).toThrow(
      'the imported config is invalid: model.num_heads must divide hidden_size 512 (got 7) (from --config cfg.json: num_heads)',
    );
    const noTable = shapesOf({ ...att, puzzle_emb_ndim: 0 });
    expect(() => resolveConfig({ facts: shapeFacts(noTable), file: file({ ...base, puzzle_emb_ndim: 512 }) })).toThrow(
      'puzzle_emb_ndim is 512 but the checkpoint has no puzzle table (missing key puzzle_emb.weights)',
    );
  });

  it('asks for --task when the vocabulary is none of ours', () => {
    const odd = shapesOf(getPreset('sudoku-mlp').model);
    odd.set('embed_tokens.embedding_weight', [7, 512]);
    expect(() =>
      resolveConfig({
        facts: shapeFacts(odd),
        file: file({ H_cycles: 3, L_cycles: 6, num_heads: 8, halt_max_steps: 16 }),
      }),
    ).toThrow(
      'cannot complete the model config: pass --task <sudoku|maze|arc> (a vocabulary of 7 tokens is none of ours)',
    );
  });
});

describe('checkTensorSet', () => {
  it('lists unknown, misshapen and missing keys with the prefix they were stored under', () => {
    const c = getPreset('test-micro').model;
    const shapes = shapesOf(c);
    expect(() => checkTensorSet(c, shapes, 'p.')).not.toThrow();
    shapes.delete('q_head.bias');
    shapes.set('lm_head.weight', [11, 8]);
    shapes.set('extra.bias', [3]);
    expect(() => checkTensorSet(c, shapes, 'p.')).toThrow(
      'the checkpoint does not match a TRM model of this config: key p.lm_head.weight has shape [11, 8], the config ' +
        'implies [11, 16]; unknown key p.extra.bias [3]; missing key p.q_head.bias [2]',
    );
  });
});
