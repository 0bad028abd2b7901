import { describe, expect, it } from 'vitest';
import { countParameters, getPreset, PRESET_NAMES, swigluIntermediate, validateModelConfig } from './index.js';

describe('model config', () => {
  it('every preset validates', () => {
    for (const name of PRESET_NAMES) expect(getPreset(name).name).toBe(name);
  });

  it('SwiGLU widths use the reference rounding (TRM-SPEC §1.5)', () => {
    expect(swigluIntermediate(512, 4)).toBe(1536);
    expect(swigluIntermediate(97, 4)).toBe(512);
    expect(swigluIntermediate(916, 4)).toBe(2560);
  });

  it('paper presets have the paper parameter counts (TRM-SPEC §5.5)', () => {
    expect(countParameters(getPreset('sudoku-mlp').model)).toBe(5_028_866);
    expect(countParameters(getPreset('sudoku-att').model)).toBe(6_828_034);
    expect(countParameters(getPreset('maze-att').model)).toBe(6_822_914);
    expect(countParameters(getPreset('arc1-att').model)).toBe(6_829_058);
  });

  it('names the bad field and the allowed values', () => {
    const bad = { ...getPreset('sudoku-att').model, pos_encodings: 'rop' };
    expect(() => validateModelConfig(bad)).toThrow(
      'model.pos_encodings must be one of "rope", "learned", "none" (got "rop")',
    );
    const missing: Record<string, unknown> = { ...getPreset('sudoku-att').model };
    delete missing.hidden_size;
    expect(() => validateModelConfig(missing)).toThrow('model.hidden_size is required');
    expect(() => validateModelConfig({ ...getPreset('sudoku-att').model, num_heads: 7 })).toThrow(
      'model.num_heads must divide hidden_size 512 (got 7)',
    );
    expect(() => validateModelConfig({ ...getPreset('sudoku-att').model, seq_len: 900 })).toThrow(
      'model.seq_len must be 81 for task "sudoku" (got 900)',
    );
    expect(() => validateModelConfig({ ...getPreset('sudoku-att').model, extra: 1 })).toThrow(
      'model.extra is not a known field',
    );
  });

  it('an unknown preset lists the known ones', () => {
    expect(() => getPreset('nope')).toThrow(/preset must be one of sudoku-mlp, sudoku-att/);
  });
});
