// Which ONNX ops make the step graph fastest on each execution provider: every op choice (RMSNorm decomposed, the
// opset-23 op or fused with the residual add as com.microsoft.SkipSimplifiedLayerNormalization, attention decomposed or com.microsoft.MultiHeadAttention, SwiGLU as one MatMul + Split or two
// MatMuls) of each preset, with random weights, timed on ONNX Runtime at a few batch sizes. Loading a graph is
// also the check that the provider accepts it with full graph optimisation. Prints a table, writes JSON.
//   pnpm --filter @trm/exporter bench:ops [--ep cpu,webgpu,cuda] [--preset sudoku-mlp,...] [--batch 1,64] ...
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  FlagError,
  getPreset,
  machineDescription,
  type ModelConfig,
  parseFlags,
  runCli,
  stateLen,
  swigluIntermediate,
} from '@trm/core';
import * as ort from 'onnxruntime-node';
import { randomWeights } from '../export/random-weights.js';
import {
  DEFAULT_OPS,
  decodeRawModel,
  exportStepGraph,
  formatOps,
  type GraphDtype,
  type OpChoice,
  parseOps,
  STEP_INPUTS,
} from '@trm/graph';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/exporter bench:ops',
  summary: 'Times one supervision step of every op choice on each execution provider (random weights).',
  flags: [
    { name: 'ep', kind: 'string', default: 'cpu', value: '<list>', help: 'execution providers: cpu,webgpu,cuda' },
    { name: 'preset', kind: 'string', default: 'sudoku-mlp,sudoku-att', value: '<list>', help: 'presets' },
    { name: 'batch', kind: 'string', default: '1,16', value: '<list>', help: 'batch sizes' },
    { name: 'dtype', kind: 'string', default: 'fp32', value: '<list>', help: 'fp32,fp16-weights,fp16' },
    { name: 'reps', kind: 'int', min: 1, default: 5, value: '<n>', help: 'timed runs per point (after 2 warm-ups)' },
    {
      name: 'max-seconds',
      kind: 'number',
      min: 1,
      default: 60,
      value: '<s>',
      help: 'skip larger batches of a graph after a point takes longer than this',
    },
    {
      name: 'ops',
      kind: 'string',
      value: '<list>',
      help:
        'time these op choices instead of every combination: semicolon-separated changes from the defaults in the ' +
        'exporter\'s --ops form, `default` for none, e.g. "default;silu=op,mlpTPad=align8;norm=skip,seqNorm=l2"',
    },
    { name: 'json', kind: 'path', value: '<file>', help: 'output JSON (default bench/results/op-choice-<ep>.json)' },
  ],
  examples: [
    'pnpm --filter @trm/exporter bench:ops --ep cpu --preset sudoku-att --batch 1,8',
    'pnpm --filter @trm/exporter bench:ops --ep cuda --preset sudoku-mlp --dtype fp16 --batch 1,256 --ops "default;silu=op"',
  ],
};

/** Forward FLOPs of one supervision step per sequence (2 per multiply-add; TRM-SPEC §10). */
export function stepFlops(c: ModelConfig): number {
  const L = stateLen(c);
  const D = c.hidden_size;
  const I = swigluIntermediate(D, c.expansion);
  const mixer = c.mlp_t ? 2 * 3 * L * swigluIntermediate(L, c.expansion) : 2 * 4 * D * D + 4 * L * D;
  const perBlockPerPos = mixer + 2 * 3 * D * I;
  return L * perBlockPerPos * c.L_layers * c.H_cycles * (c.L_cycles + 1);
}

/** Every combination that matters for the config: attention choices for attention models, mlpT for MLP-mixers. */
function opChoices(c: ModelConfig): OpChoice[] {
  const out: OpChoice[] = [];
  for (const norm of ['decomposed', 'op', 'skip'] as const)
    for (const attention of c.mlp_t ? (['decomposed'] as const) : (['decomposed', 'mha'] as const))
      for (const swiglu of ['fused', 'split'] as const)
        for (const mlpT of c.mlp_t ? (['broadcast', 'transpose'] as const) : (['transpose'] as const))
          out.push({ norm, attention, swiglu, mlpT });
  // RotaryEmbedding goes with MultiHeadAttention (attention models only), next to the default choices
  if (!c.mlp_t) out.push({ norm: 'op', attention: 'mha', swiglu: 'split', mlpT: 'transpose', rope: 'op' });
  // the MLP-mixer's token mix padded to a multiple of 8 positions (aligned float16 products), next to the defaults
  if (c.mlp_t) out.push({ norm: 'op', attention: 'decomposed', swiglu: 'split', mlpT: 'broadcast', mlpTPad: 'align8' });
  return out;
}

/** `--ops a;b`: each entry's changes from the defaults (`default`: none), with the entry's text as its label. */
function listedChoices(text: string): { ops: OpChoice; label: string }[] {
  const entries = text
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new FlagError('--ops: no op choice given', '--ops');
  return entries.map((e) => ({ ops: { ...DEFAULT_OPS, ...(e === 'default' ? {} : parseOps(e)) }, label: e }));
}

/** Short label: norm/attention/swiglu[/mlpT[/pad8]], e.g. op/mha/split or dec/-/fused/transpose. */
function opsLabel(c: ModelConfig, o: OpChoice): string {
  const norm = o.norm === 'decomposed' ? 'dec' : o.norm;
  return c.mlp_t
    ? `${norm}/-/${o.swiglu}/${o.mlpT}${o.mlpTPad === 'align8' ? '/pad8' : ''}`
    : `${norm}/${o.attention}/${o.swiglu}${o.rope === 'op' ? '/rope-op' : ''}`;
}

function providers(ep: string): ort.InferenceSession.SessionOptions['executionProviders'] {
  if (ep === 'cuda') return [{ name: 'cuda' }];
  if (ep === 'webgpu') return [{ name: 'webgpu' }];
  return ['cpu'];
}

interface Point {
  ep: string;
  preset: string;
  dtype: GraphDtype;
  ops: string;
  /** the same choice as the exporter's --ops argument */
  opsArg: string;
  batch: number;
  /** nodes of the exported graph (before ONNX Runtime's own fusions) */
  nodes: number;
  loadMs: number;
  msPerStep: number;
  tflops: number;
  error?: string;
}

async function time(session: ort.InferenceSession, c: ModelConfig, B: number, reps: number, fp16: boolean) {
  const L = stateLen(c);
  const D = c.hidden_size;
  const state = () =>
    fp16
      ? new ort.Tensor('float16', new Uint16Array(B * L * D), [B, L, D])
      : new ort.Tensor('float32', new Float32Array(B * L * D), [B, L, D]);
  const feeds: Record<string, ort.Tensor> = {
    [STEP_INPUTS.tokens]: new ort.Tensor('int64', new BigInt64Array(B * c.seq_len).fill(2n), [B, c.seq_len]),
    [STEP_INPUTS.reset]: new ort.Tensor('bool', new Uint8Array(B).fill(1), [B]),
    [STEP_INPUTS.zH]: state(),
    [STEP_INPUTS.zL]: state(),
  };
  const E = c.puzzle_emb_ndim;
  if (E > 0) feeds[STEP_INPUTS.puzzleEmb] = new ort.Tensor('float32', new Float32Array(B * E), [B, E]);
  for (let i = 0; i < 2; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await session.run(feeds);
  return (performance.now() - t0) / reps;
}

async function bench(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const list = (k: string) => String(f[k]).split(',').filter(Boolean);
  const points: Point[] = [];
  const listed = f.ops === undefined ? null : listedChoices(f.ops as string);
  const width = Math.max(26, ...(listed ?? []).map((l) => l.label.length + 2));
  const fmt = (p: Point) =>
    `${p.ep.padEnd(7)}${p.preset.padEnd(16)}${p.dtype.padEnd(13)}${p.ops.padEnd(width)}${String(p.batch).padStart(5)}${String(p.nodes).padStart(6)}` +
    (p.error
      ? `  ERROR ${p.error}`
      : `${p.loadMs.toFixed(0).padStart(8)}${p.msPerStep.toFixed(2).padStart(11)}${p.tflops.toFixed(2).padStart(9)}`);
  io.out(`# ${machineDescription()}, onnxruntime-node ${ort.env.versions.node}`);
  io.out(
    `${'ep'.padEnd(7)}${'preset'.padEnd(16)}${'dtype'.padEnd(13)}${'ops'.padEnd(width)}${'batch'.padStart(5)}${'nodes'.padStart(6)}${'load ms'.padStart(8)}${'ms/step'.padStart(11)}${'TFLOP/s'.padStart(9)}`,
  );
  for (const ep of list('ep'))
    for (const preset of list('preset')) {
      const c = { ...getPreset(preset).model, num_puzzle_identifiers: 1 };
      const weights = randomWeights(c, { seed: 1, gain: 0.5 });
      for (const dtype of list('dtype') as GraphDtype[])
        for (const { ops, label } of listed ?? opChoices(c).map((o) => ({ ops: o, label: opsLabel(c, o) }))) {
          const t0 = performance.now();
          let session: ort.InferenceSession | null = null;
          let loadMs = 0;
          let error: string | undefined;
          const bytes = exportStepGraph(c, weights, { dtype, ops });
          const nodes = decodeRawModel(bytes).graph.node.length;
          try {
            session = await ort.InferenceSession.create(bytes, {
              executionProviders: providers(ep),
              graphOptimizationLevel: 'all',
            });
            loadMs = performance.now() - t0;
          } catch (err) {
            error = (err as Error).message.split('\n')[0]!.slice(0, 120);
          }
          for (const batch of list('batch').map(Number)) {
            const p: Point = {
              ep,
              preset,
              dtype,
              ops: label,
              opsArg: formatOps(ops),
              batch,
              nodes,
              loadMs,
              msPerStep: 0,
              tflops: 0,
              error,
            };
            if (session && !error) {
              try {
                p.msPerStep = await time(session, c, batch, f.reps as number, dtype === 'fp16');
                p.tflops = (stepFlops(c) * batch) / (p.msPerStep / 1000) / 1e12;
              } catch (err) {
                p.error = (err as Error).message.split('\n')[0]!.slice(0, 120);
              }
            }
            points.push(p);
            io.out(fmt(p));
            if (p.error || p.msPerStep * ((f.reps as number) + 2) > (f['max-seconds'] as number) * 1000) break;
          }
          await session?.release();
        }
    }
  const out =
    (f.json as string | undefined) ?? join(process.cwd(), `bench/results/op-choice-${list('ep').join('-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ machine: machineDescription(), date: new Date().toISOString(), points }, null, 2)}\n`,
  );
  io.out(`wrote ${out}`);
}

await runCli(spec, bench);
