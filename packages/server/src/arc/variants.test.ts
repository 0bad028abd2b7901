// Variant planning: a task the model knows runs with the model's own variants (its rows only fit those exact
// augmentations); an unknown one gets fresh, seeded, repeatable variants, the same ones the adaptation dataset holds.
import { applyArcAugmentation, type ArcTask } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { freshVariants, modelVariantIndex, planTask, taskSeed } from './variants.js';

const TASK: ArcTask = {
  train: [
    { input: [[1, 2, 0]], output: [[0, 2, 1]] },
    { input: [[3], [4]], output: [[4], [3]] },
  ],
  test: [{ input: [[5, 6, 7]] }],
};
const IDS = [
  '<blank>',
  'known|||t3|||0213456789',
  'known',
  'other|||t1|||0123456789',
  'known|||t5|||0987654321',
  'not|a|variant|||name',
];

describe('modelVariantIndex', () => {
  it('groups the model rows by task, the original first, and skips names that are not variants', () => {
    const index = modelVariantIndex(IDS);
    expect([...index.keys()]).toEqual(['known', 'other']);
    expect(index.get('known')).toEqual(['known', 'known|||t3|||0213456789', 'known|||t5|||0987654321']);
  });
});

describe('planTask', () => {
  const known = modelVariantIndex(IDS);

  it("uses the model's variants for a task it knows, at most 1 + augment of them", () => {
    const plan = planTask('known', TASK, { augment: 1, seed: 0, known, fit: true });
    expect(plan.rows).toBe('model');
    expect(plan.variants).toEqual([
      { name: 'known', aug: { tid: 0, perm: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } },
      { name: 'known|||t3|||0213456789', aug: { tid: 3, perm: [0, 2, 1, 3, 4, 5, 6, 7, 8, 9] } },
    ]);
    expect(planTask('known', TASK, { augment: 50, seed: 0, known, fit: true }).variants).toHaveLength(3);
  });

  it('draws fresh variants for an unknown task: repeatable per seed, unique, the original first', () => {
    const plan = planTask('fresh', TASK, { augment: 6, seed: 4, known, fit: true });
    expect(plan.rows).toBe('fitted');
    expect(plan.variants).toHaveLength(7);
    expect(plan.variants[0]!.name).toBe('fresh');
    expect(new Set(plan.variants.map((v) => v.name)).size).toBe(7);
    for (const v of plan.variants.slice(1)) expect(v.name).toMatch(/^fresh\|\|\|t[0-7]\|\|\|0[1-9]{9}$/);
    expect(planTask('fresh', TASK, { augment: 6, seed: 4, known: null, fit: false })).toEqual({
      ...plan,
      rows: 'blank',
    });
    expect(planTask('fresh', TASK, { augment: 6, seed: 5, known, fit: true }).variants).not.toEqual(plan.variants);
    expect(taskSeed(4, 'fresh')).not.toBe(taskSeed(4, 'fresh2'));

    // The adaptation data holds these very variants, each the task under its augmentation.
    const fits = [...freshVariants('fresh', TASK, 6, 4)];
    expect(fits.map((v) => v.name)).toEqual(plan.variants.map((v) => v.name));
    for (const [i, v] of fits.entries()) {
      const aug = plan.variants[i]!.aug;
      expect(v.examples.filter((e) => e.split === 'train').map((e) => e.input)).toEqual(
        TASK.train.map((p) => applyArcAugmentation(p.input, aug)),
      );
      expect(v.examples.filter((e) => e.split === 'test').map((e) => e.input)).toEqual([
        applyArcAugmentation(TASK.test[0]!.input, aug),
      ]);
    }
  });
});
