// Small models with non-trivial weights for the tests: the reference initialisation leaves q_head at 0 and the
// puzzle table at 0, which would hide mistakes in those paths, so they are randomised here.
import { getPreset, type ModelConfig, Rng } from '@trm/core';
import { TrmModel } from '../model/model.js';

/** test-micro with overrides (the dataset fields seq_len/vocab too). */
export function microConfig(over: Partial<ModelConfig>): ModelConfig {
  return { ...getPreset('test-micro').model, ...over };
}

/** A model from Rng(seed) whose q_head, puzzle table and H/L init are all random and non-zero. */
export async function randomizedModel(config: ModelConfig, seed: number): Promise<TrmModel> {
  const model = TrmModel.create(config, seed);
  const rng = new Rng(seed + 1000);
  const w = await model.exportWeights();
  for (const name of ['q_head.weight', 'q_head.bias', 'puzzle_emb.weights']) {
    const t = w[name];
    if (t) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 * rng.normal();
  }
  model.importWeights(w);
  return model;
}

export function randomTokens(rng: Rng, count: number, vocab: number): Int32Array {
  return Int32Array.from({ length: count }, () => rng.int(0, vocab - 1));
}
