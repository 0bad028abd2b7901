import { getPreset } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { type CardFacts, modelCard } from './model-card.js';

const preset = getPreset('sudoku-tiny-mlp');
const facts = (backend: string): CardFacts => ({
  title: 'TRM sudoku-tiny-mlp',
  preset: 'sudoku-tiny-mlp',
  model: preset.model,
  train: preset.train,
  data: 'ds',
  steps: 10,
  totalSteps: 10,
  wallSeconds: 12,
  backend,
  machine: 'a test machine',
  command: 'train --steps 10',
  trainMetrics: null,
  evals: [{ split: 'test', examples: 8, exact_accuracy: 0.5, exact_accuracy_halted: 0.25, steps_halted: 2 }],
});

describe('modelCard', () => {
  it('names the engine that trained the model: ONNX Runtime for the ort-* backends, TensorFlow.js otherwise', () => {
    expect(modelCard(facts('ort-cpu'))).toMatch(
      /trained with the TypeScript trainer of this repository \(ONNX Runtime\)/,
    );
    expect(modelCard(facts('ort-cuda'))).toContain('backend `ort-cuda`');
    expect(modelCard(facts('wasm'))).toMatch(/\(TensorFlow\.js\)/);
    expect(modelCard(facts('wasm'))).toContain('| test | 8 | 50.0 % | 25.0 % | 2.00 |');
  });
});
