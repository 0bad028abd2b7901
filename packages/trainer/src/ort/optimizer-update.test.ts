// The optimiser update graph (run on the CPU provider here) against the host optimiser: AdamATan2 and AdamW with
// the EMA, the same parameters, moments and shadow after several steps within float32 rounding (the host computes
// each element in float64 and rounds once), and atan2's edge where the second moment is 0.
import { getPreset, Rng, type TrainConfig, validateModelConfig } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import { HostOptimizer } from '../optim/host-optim.js';
import { OrtTrainingRun } from './ort-training-run.js';
import { deviceUpdate } from './optimizer-update.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

const initial = () => ({
  a: { shape: [4, 6], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 0.3) },
  b: { shape: [5], data: Float32Array.from({ length: 5 }, (_, i) => 0.2 - i / 11) },
});

function maxRelative(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-30);
}

describe('the optimiser update as a graph', () => {
  for (const optimizer of ['adam_atan2', 'adamw'] as const)
    it(`${optimizer} + EMA: the host optimiser's state after 6 steps, within float32 rounding`, async () => {
      const hyper = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };
      const host = new HostOptimizer(initial(), { optimizer, hyper, emaRate: 0.999 });
      const onDevice = new HostOptimizer(initial(), {
        optimizer,
        hyper,
        emaRate: 0.999,
        device: await deviceUpdate(optimizer, true, { provider: 'cpu', threads: 1 }),
      });
      const rng = new Rng(3);
      for (let s = 0; s < 6; s++) {
        const grads = {
          a: Float32Array.from({ length: 24 }, () => rng.normal()),
          // element 0 of b never gets a gradient: its second moment stays 0 (atan2's x = 0 branch)
          b: Float32Array.from({ length: 5 }, (_, i) => (i === 0 ? 0 : rng.normal())),
        };
        await host.apply(grads, 1e-2);
        await onDevice.apply(grads, 1e-2);
      }
      for (const k of ['a', 'b']) {
        expect(maxRelative(onDevice.params[k]!.data, host.params[k]!.data), k).toBeLessThanOrEqual(1e-6);
        expect(maxRelative(onDevice.shadow![k]!.data, host.shadow![k]!.data), k).toBeLessThanOrEqual(1e-6);
      }
      const [hs, ds] = [host.exportState()!, onDevice.exportState()!];
      expect(ds.step).toBe(6);
      for (const k of Object.keys(hs.tensors))
        expect(maxRelative(ds.tensors[k]!.data, hs.tensors[k]!.data), k).toBeLessThanOrEqual(1e-6);
      expect(onDevice.params.b!.data[0]).not.toBe(initial().b.data[0]); // weight decay still applies
      expect(Number.isFinite(onDevice.params.b!.data[0]!)).toBe(true);
      await host.dispose();
      await onDevice.dispose();
    });

  it('a training run with the optimiser on the device follows the host one', async () => {
    const p = getPreset('sudoku-tiny-mlp');
    const model = validateModelConfig({ ...p.model, batch_size: 12 });
    const train: TrainConfig = { ...p.train, global_batch_size: 12, seed: 5 };
    const data = fromMemory(sudokuSplit(easySudoku(60, [3, 6], new Rng(9))));
    const o = { model, train, totalSteps: 50, data, provider: 'cpu' as const, threads: 1 };
    const host = await OrtTrainingRun.create(o);
    const device = await OrtTrainingRun.create({ ...o, optimizerOn: 'device' });
    for (let i = 0; i < 4; i++) {
      const a = await host.trainStep();
      const b = await device.trainStep();
      expect(Math.abs(a.metrics.lm_loss - b.metrics.lm_loss), `step ${i + 1}`).toBeLessThanOrEqual(1e-5);
    }
    const [wa, wb] = [await host.folderWeights(), await device.folderWeights()];
    for (const k of Object.keys(wa)) expect(maxRelative(wb[k]!.data, wa[k]!.data), k).toBeLessThanOrEqual(1e-5);
    await host.dispose();
    await device.dispose();
  });
});
