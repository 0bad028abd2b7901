// Official parity: each fixture checkpoint, imported, drives the trainer's supervision step through the official
// evaluation loop recorded in the fixture (TRM-SPEC §3): per call, the tokens and puzzle rows each row used and the
// rows restarted from H_init/L_init. Logits and q_halt must match the official outputs to 1e-4 at every call, and
// the carried state after the first and the last call too. Measured worst differences are printed.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFolder, readNpy } from '@trm/core';
import {
  type BackendName,
  type Carry,
  initialCarry,
  resetCarry,
  selectBackend,
  type StepInputs,
  supervisionStep,
  TrmModel,
} from '@trm/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import { importOfficial } from './import-official.js';

// tfjs is the trainer's dependency, not ours: take the trainer's copy (the same module its step uses) to make the
// int32 token tensors.
const tf = createRequire(join(import.meta.dirname, '..', '..', '..', 'trainer', 'package.json'))(
  '@tensorflow/tfjs',
) as {
  tensor2d(values: Int32Array, shape: [number, number], dtype: 'int32'): StepInputs['tokens'];
  dispose(x: unknown): void;
};

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'official');
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  variants: Record<string, { official_config: Record<string, unknown> }>;
};
const TOLERANCE = 1e-4;

const root = mkdtempSync(join(tmpdir(), 'official-parity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Slice c of a [calls, ...] array. */
function at<T extends { subarray(a: number, b: number): T; length: number }>(data: T, calls: number, c: number): T {
  const size = data.length / calls;
  return data.subarray(c * size, (c + 1) * size);
}

async function importVariant(variant: string): Promise<string> {
  const config = join(root, `${variant}.json`);
  writeFileSync(config, JSON.stringify(manifest.variants[variant]!.official_config));
  const out = join(root, `${variant}-${Math.random().toString(36).slice(2)}`);
  await importOfficial({ checkpoint: join(FIXTURES, variant, 'step_0'), out, config });
  return out;
}

// Every scenario on wasm (the backend users train and evaluate with), and one on the pure-JS cpu backend, which is
// ten to twenty times slower here (50-95 s per scenario on 2 shared cores); run on cpu, all four scenarios stayed
// within 3.4e-6 (logits, q_halt) and 9.1e-6 (state) of the official outputs.
interface Case {
  variant: string;
  scenario: string;
  backend: BackendName;
}
const CASES: Case[] = [
  ...['att', 'mlp'].flatMap((variant) =>
    ['eval', 'reset'].map((scenario): Case => ({ variant, scenario, backend: 'wasm' })),
  ),
  { variant: 'mlp', scenario: 'eval', backend: 'cpu' },
];

describe('imported official checkpoints reproduce the official evaluation loop in the trainer', () => {
  for (const { variant, scenario, backend } of CASES) {
    it(`${variant} / ${scenario} on ${backend}`, async () => {
      await selectBackend(backend, () => {});
      const folder = await readModelFolder(await importVariant(variant));
      const model = TrmModel.fromWeights(folder.config, folder.weights);
      const dir = join(FIXTURES, variant, scenario);
      const npy = (name: string) => readNpy(join(dir, `${name}.npy`));
      const inputs = npy('inputs');
      const [calls, B, S] = inputs.shape as [number, number, number];
      const ids = npy('puzzle_identifiers').data as Int32Array;
      const reset = npy('reset').data as Uint8Array;
      const logits = npy('logits').data as Float32Array;
      const qHalt = npy('q_halt_logits').data as Float32Array;
      const qContinue = npy('q_continue_logits').data as Float32Array;
      expect(S).toBe(folder.config.seq_len);
      expect(Array.from(at(reset, calls, 0))).toEqual(new Array(B).fill(1));

      const worst = { logits: 0, qHalt: 0, qContinue: 0, zFirst: 0, zLast: 0 };
      let carry: Carry = initialCarry(model, B);
      for (let c = 0; c < calls; c++) {
        const next = resetCarry(
          model,
          carry,
          Array.from(at(reset, calls, c), (r) => r === 1),
        );
        tf.dispose([carry.zH, carry.zL]);
        carry = next;
        const tokens = tf.tensor2d(Int32Array.from(at(inputs.data as Int32Array, calls, c)), [B, S], 'int32');
        const rows = model.puzzleTable!.gatherTensor(at(ids, calls, c));
        const out = supervisionStep(model, carry, { tokens, puzzleRows: rows });
        const d = {
          logits: maxAbsDiff(await out.logits.data(), at(logits, calls, c)),
          qHalt: maxAbsDiff(await out.qHalt.data(), at(qHalt, calls, c)),
          qContinue: maxAbsDiff(await out.qContinue.data(), at(qContinue, calls, c)),
        };
        expect(d.logits, `logits at call ${c + 1}`).toBeLessThan(TOLERANCE);
        expect(d.qHalt, `q_halt at call ${c + 1}`).toBeLessThan(TOLERANCE);
        expect(d.qContinue, `q_continue at call ${c + 1}`).toBeLessThan(TOLERANCE);
        worst.logits = Math.max(worst.logits, d.logits);
        worst.qHalt = Math.max(worst.qHalt, d.qHalt);
        worst.qContinue = Math.max(worst.qContinue, d.qContinue);
        if (c === 0 && scenario === 'eval') {
          worst.zFirst = Math.max(
            maxAbsDiff(await out.carry.zH.data(), npy('z_H_first').data as Float32Array),
            maxAbsDiff(await out.carry.zL.data(), npy('z_L_first').data as Float32Array),
          );
          expect(worst.zFirst, 'state after call 1').toBeLessThan(TOLERANCE);
        }
        tf.dispose([carry.zH, carry.zL, tokens, rows, out.logits, out.qHalt, out.qContinue]);
        carry = out.carry;
      }
      worst.zLast = Math.max(
        maxAbsDiff(await carry.zH.data(), npy('z_H').data as Float32Array),
        maxAbsDiff(await carry.zL.data(), npy('z_L').data as Float32Array),
      );
      expect(worst.zLast, 'final state').toBeLessThan(TOLERANCE);
      // The outputs move: a model that ignored its weights or state could not match by accident.
      expect(maxAbsDiff(at(logits, calls, 0), at(logits, calls, calls - 1))).toBeGreaterThan(0.5);
      console.log(
        `official parity ${variant}/${scenario} on ${backend} (${calls} calls): max |diff| logits ${worst.logits.toExponential(2)}, ` +
          `q_halt ${worst.qHalt.toExponential(2)}, q_continue ${worst.qContinue.toExponential(2)}, ` +
          `state ${scenario === 'eval' ? `after call 1 ${worst.zFirst.toExponential(2)}, ` : ''}final ${worst.zLast.toExponential(2)}`,
      );
      tf.dispose([carry.zH, carry.zL]);
      model.dispose();
    }, 300_000);
  }
});
