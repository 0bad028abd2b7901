// Backend choice, and the wasm backend computing the same step and gradients as the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@trm/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type NamedArrays, TrmModel } from '../model/model.js';
import { initialCarry, supervisionStep } from '../model/step.js';
import { microConfig, randomizedModel, randomTokens } from '../testing/random-model.js';
import { forwardBackward } from '../train/forward-backward.js';
import { selectBackend } from './backend.js';

afterAll(async () => {
  await selectBackend('cpu', () => {});
});

describe('selectBackend', () => {
  it('activates a named backend and reports it', async () => {
    const lines: string[] = [];
    const choice = await selectBackend('cpu', (l) => lines.push(l));
    expect(choice.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual(['backend: cpu (cpu (pure JS))']);
  });

  it('names the valid choices for an unknown name, and says why a missing backend is missing', async () => {
    await expect(selectBackend('gpu' as never)).rejects.toThrow(
      /backend must be one of auto, cpu, wasm, webgpu, tensorflow/,
    );
    await expect(selectBackend('tensorflow', () => {})).rejects.toThrow(/@tensorflow\/tfjs-node/);
  });

  it("logs one line for the choice and keeps tfjs's banner off the console", async () => {
    // A fresh cpu backend: tfjs prints its banner ("Hi, looks like you are running TensorFlow.js in Node.js...")
    // at a backend instance's first tensor.
    const factory = tf.findBackendFactory('cpu')!;
    tf.removeBackend('cpu');
    tf.registerBackend('cpu', factory, 1);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const info = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const lines: string[] = [];
      await selectBackend('cpu', (l) => lines.push(l));
      tf.tidy(() => tf.add(tf.tensor([1, 2]), 1)).dispose();
      expect(lines).toEqual(['backend: cpu (cpu (pure JS))']);
      expect(warn).not.toHaveBeenCalled();
      expect(info).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      info.mockRestore();
    }
  });

  it('auto falls through the optional backends to wasm here, logging why', async () => {
    const choice = await selectBackend('auto', () => {});
    expect(choice.backend).toBe('wasm');
    expect(choice.reasons[0]).toMatch(/^not tensorflow: /);
    expect(choice.reasons[1]).toMatch(/^not webgpu: /);
  });
});

describe('wasm computes what cpu computes', () => {
  it('for the step outputs and the gradients', async () => {
    const config = microConfig({ hidden_size: 32, num_heads: 4, L_layers: 2, seq_len: 9, puzzle_emb_ndim: 32 });
    const B = 4;
    const rng = new Rng(2);
    const tokens = randomTokens(rng, B * config.seq_len, config.vocab_size);
    const labels = randomTokens(rng, B * config.seq_len, config.vocab_size);

    const run = async (backend: 'cpu' | 'wasm', weights?: NamedArrays) => {
      await selectBackend(backend, () => {});
      const model = weights ? TrmModel.fromWeights(config, structuredClone(weights)) : await randomizedModel(config, 9);
      const tok = tf.tensor2d(tokens, [B, config.seq_len], 'int32');
      const lab = tf.tensor2d(labels, [B, config.seq_len], 'int32');
      const rows = model.puzzleTable!.gatherTensor([0, 0, 0, 0]);
      const carry = initialCarry(model, B);
      const step = supervisionStep(model, carry, { tokens: tok, puzzleRows: rows });
      const fb = forwardBackward(
        model,
        step.carry,
        { tokens: tok, labels: lab, puzzleRows: rows },
        { lossScale: 1 / B },
      );
      const out = {
        weights: await model.exportWeights(),
        logits: await step.logits.data(),
        zH: await fb.carry.zH.data(),
        gradQkv: await fb.grads['L_level.layers.0.self_attn.qkv_proj.weight']!.data(),
        gradEmbed: await fb.grads['embed_tokens.embedding_weight']!.data(),
        gradRows: await fb.puzzleGrad!.data(),
      };
      tf.disposeVariables();
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm', cpu.weights);
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
      return m;
    };
    expect(maxDiff(wasm.logits, cpu.logits)).toBeLessThan(1e-5);
    expect(maxDiff(wasm.zH, cpu.zH)).toBeLessThan(1e-5);
    for (const k of ['gradQkv', 'gradEmbed', 'gradRows'] as const) {
      const scale = Math.max(...Array.from(cpu[k], Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(maxDiff(wasm[k], cpu[k]) / scale, k).toBeLessThan(1e-4);
    }
  });
});
