// Official parity through ONNX: each fixture checkpoint is imported, exported as a step graph, and run on ONNX
// Runtime's CPU provider through the official evaluation loop recorded in the fixture (per call: the tokens and
// puzzle row each row used, and the rows restarted from H_init/L_init). Logits and q_halt must match the official
// outputs to 1e-4 at every call, and the final state too. This is the path the server runs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFolder, readNpy } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { exportStepGraph } from '@trm/graph';
import { createCpuSession, runStep } from '../runtime/ort-step.js';
import { importOfficial } from './import-official.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'official');
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  variants: Record<string, { official_config: Record<string, unknown> }>;
};
const TOLERANCE = 1e-4;
const root = mkdtempSync(join(tmpdir(), 'official-onnx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('imported official checkpoints reproduce the official evaluation loop on ONNX Runtime (CPU)', () => {
  for (const variant of ['att', 'mlp'])
    for (const scenario of ['eval', 'reset'])
      it(`${variant} / ${scenario}`, async () => {
        const configFile = join(root, `${variant}-${scenario}.json`);
        writeFileSync(configFile, JSON.stringify(manifest.variants[variant]!.official_config));
        const out = join(root, `${variant}-${scenario}`);
        await importOfficial({ checkpoint: join(FIXTURES, variant, 'step_0'), out, config: configFile });
        const { config, weights } = await readModelFolder(out);
        const session = await createCpuSession(exportStepGraph(config, weights), 1);
        const dir = join(FIXTURES, variant, scenario);
        const npy = (name: string) => readNpy(join(dir, `${name}.npy`));
        const inputs = npy('inputs');
        const [calls, B, S] = inputs.shape as [number, number, number];
        const tokens = inputs.data as Int32Array;
        const ids = npy('puzzle_identifiers').data as Int32Array;
        const reset = npy('reset').data as Uint8Array;
        const logits = npy('logits').data as Float32Array;
        const qHalt = npy('q_halt_logits').data as Float32Array;
        const table = weights['puzzle_emb.weights']!.data;
        const E = config.puzzle_emb_ndim;
        const V = config.vocab_size;
        const size = B * (S + 16) * config.hidden_size;
        let state: { zH: Float32Array; zL: Float32Array } = { zH: new Float32Array(size), zL: new Float32Array(size) };
        const worst = { logits: 0, qHalt: 0 };
        for (let c = 0; c < calls; c++) {
          const r = await runStep(session, config, {
            tokens: Array.from({ length: B }, (_, b) => tokens.subarray((c * B + b) * S, (c * B + b + 1) * S)),
            puzzleEmb: Array.from({ length: B }, (_, b) => table.slice(ids[c * B + b]! * E, (ids[c * B + b]! + 1) * E)),
            reset: Array.from({ length: B }, (_, b) => reset[c * B + b] === 1),
            zH: state.zH,
            zL: state.zL,
          });
          state = r;
          const dl = maxAbsDiff(r.logits, logits.subarray(c * B * S * V, (c + 1) * B * S * V));
          const dq = maxAbsDiff(r.qHalt, qHalt.subarray(c * B, (c + 1) * B));
          expect(dl, `logits at call ${c + 1}`).toBeLessThan(TOLERANCE);
          expect(dq, `q_halt at call ${c + 1}`).toBeLessThan(TOLERANCE);
          worst.logits = Math.max(worst.logits, dl);
          worst.qHalt = Math.max(worst.qHalt, dq);
        }
        const dz = Math.max(
          maxAbsDiff(state.zH, npy('z_H').data as Float32Array),
          maxAbsDiff(state.zL, npy('z_L').data as Float32Array),
        );
        expect(dz, 'final state').toBeLessThan(TOLERANCE);
        await session.release();
        console.log(
          `official parity (ONNX, ORT CPU) ${variant}/${scenario}, ${calls} calls: max |diff| logits ` +
            `${worst.logits.toExponential(2)}, q_halt ${worst.qHalt.toExponential(2)}, final state ${dz.toExponential(2)}`,
        );
      });
});
