// --config in its three forms (all_config.yaml, the official flat dict, our ModelConfig) becomes one partial
// config under our names; unknown fields, bad values and other architectures are refused by name.
import { getPreset } from '@trm/core';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { interpretConfig } from './config-file.js';

const ALL_CONFIG = `
arch:
  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1
  loss:
    name: losses@ACTLossHead
    loss_type: softmax_cross_entropy
  H_cycles: 3
  L_cycles: 4
  H_layers: 0
  L_layers: 2
  hidden_size: 512
  num_heads: 8
  expansion: 4
  puzzle_emb_ndim: 512
  pos_encodings: rope
  forward_dtype: bfloat16
  mlp_t: false
  puzzle_emb_len: 16
  halt_exploration_prob: 0.1
  halt_max_steps: 16
  no_ACT_continue: true
global_batch_size: 768
lr: 1.0e-04
data_paths:
  - data/arc1concept-aug-1000
`;

describe('interpretConfig', () => {
  it('reads all_config.yaml: arch fields, the loss type and the batch', () => {
    const c = interpretConfig(parse(ALL_CONFIG), 'all_config.yaml');
    expect(c.kind).toBe('all_config.yaml');
    expect(c.fields).toEqual({
      H_cycles: 3,
      L_cycles: 4,
      H_layers: 0,
      L_layers: 2,
      hidden_size: 512,
      num_heads: 8,
      expansion: 4,
      puzzle_emb_ndim: 512,
      pos_encodings: 'rope',
      forward_dtype: 'bfloat16',
      mlp_t: false,
      puzzle_emb_len: 16,
      halt_exploration_prob: 0.1,
      halt_max_steps: 16,
      no_ACT_continue: true,
      loss_type: 'softmax_cross_entropy',
      batch_size: 768,
    });
    expect(c.origin.hidden_size).toBe('arch.hidden_size');
    expect(c.origin.batch_size).toBe('global_batch_size');
  });

  it('reads the official flat dict, mapping a pos_encodings the reference treats as none', () => {
    const c = interpretConfig({ hidden_size: 64, pos_encodings: 'sincos', causal: false, seq_len: 81 }, 'c.json');
    expect(c.kind).toBe('official config');
    expect(c.fields).toEqual({ hidden_size: 64, pos_encodings: 'none', seq_len: 81 });
    expect(c.notes).toEqual([
      'pos_encodings "sincos" means no positional encoding in the reference; imported as "none"',
    ]);
  });

  it('reads our ModelConfig whole, validated', () => {
    const model = getPreset('sudoku-mlp').model;
    expect(interpretConfig(model, 'config.json').fields).toEqual(model);
    expect(() => interpretConfig({ ...model, num_heads: 7 }, 'config.json')).toThrow(
      '--config config.json: model.num_heads must divide hidden_size 512 (got 7)',
    );
  });

  it('names the bad field', () => {
    const doc = parse(ALL_CONFIG);
    expect(() => interpretConfig({ arch: { ...doc.arch, hidden_sise: 3 } }, 'a.yaml')).toThrow(
      '--config a.yaml: arch.hidden_sise is not a field of the TRM config',
    );
    expect(() => interpretConfig({ arch: { ...doc.arch, H_cycles: 'three' } }, 'a.yaml')).toThrow(
      '--config a.yaml: arch.H_cycles must be an integer (got "three")',
    );
    expect(() => interpretConfig({ arch: { ...doc.arch, expansion: 0 } }, 'a.yaml')).toThrow(
      'arch.expansion must be > 0 (got 0)',
    );
    expect(() => interpretConfig({ arch: { ...doc.arch, forward_dtype: 'int8' } }, 'a.yaml')).toThrow(
      'arch.forward_dtype must be one of "float32", "bfloat16", "float16" (got "int8")',
    );
    expect(() => interpretConfig({ arch: { ...doc.arch, causal: true } }, 'a.yaml')).toThrow(
      'arch.causal must be false for TRM (got true)',
    );
    expect(() =>
      interpretConfig({ arch: { ...doc.arch, name: 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1' } }, 'a.yaml'),
    ).toThrow('arch.name is "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"; import-official reads TRM checkpoints');
    expect(() => interpretConfig([1, 2], 'a.yaml')).toThrow('--config a.yaml must hold a mapping of config fields');
  });
});
