// What the host transfers of a training step cost on an ONNX Runtime provider, apart from the graph's work: a graph
// with the training graph's large inputs and outputs (the carry z_H and z_L [B, L, D], the trained parameters and
// their gradients) that only passes them through, timed per session.run. Variants: the carry in float32 (as the
// training graph takes it) or float16, outputs allocated by each run or preallocated once and reused (fetches),
// and ONNX Runtime's preferred output location (cpu or cpu-pinned) where the binding accepts it. Prints a table.
//
//   node packages/trainer/dist/ort-io.mjs --backend ort-cuda --preset sudoku-mlp --batch 768
//   pnpm --filter @trm/trainer exec tsx src/bench/ort-io.ts --backend ort-cpu --preset sudoku-tiny-mlp --batch 64
import {
  type CliSpec,
  type CommandIo,
  countParameters,
  getPreset,
  machineDescription,
  ORT_BACKENDS,
  parseFlags,
  runCli,
  stateLen,
} from '@trm/core';
import { DataType, type DataTypeId, encodeModel, GraphBuilder, IR_VERSION, OPSET, type ValueInfoMsg } from '@trm/graph';
import * as ort from 'onnxruntime-node';

const spec: CliSpec = {
  usage: 'node packages/trainer/dist/ort-io.mjs',
  summary:
    "The cost of a training step's host transfers on an ONNX Runtime provider: a graph that only passes the carry\n" +
    'and the parameters through, per carry type, output allocation and preferred output location.',
  flags: [
    { name: 'backend', kind: 'enum', choices: ORT_BACKENDS, default: 'ort-cpu', help: 'ONNX Runtime backend' },
    { name: 'preset', kind: 'string', default: 'sudoku-mlp', value: '<name>', help: 'model shape of the carry' },
    { name: 'batch', kind: 'int', min: 1, default: 768, value: '<n>', help: 'rows per run' },
    { name: 'runs', kind: 'int', min: 1, default: 10, value: '<n>', help: 'timed runs per variant' },
    { name: 'warmup', kind: 'int', min: 0, default: 2, value: '<n>', help: 'untimed runs before them' },
    {
      name: 'nodes',
      kind: 'int',
      min: 0,
      default: 2000,
      value: '<n>',
      help: 'also time a chain of this many tiny nodes: the fixed cost of a node (0: skip)',
    },
  ],
  examples: ['node packages/trainer/dist/ort-io.mjs --backend ort-cuda --preset sudoku-mlp --batch 768'],
};

/** The bytes of a probe graph built in `g`. */
function probeModel(
  g: GraphBuilder,
  graphName: string,
  docString: string,
  inputs: ValueInfoMsg[],
  outputs: ValueInfoMsg[],
): Uint8Array {
  return encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'trm-trainer',
    producerVersion: '1',
    docString,
    graphName,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
    metadata: {},
  });
}

/** The pass-through graph: z_h, z_l ([B, L, D], `state`) and params ([P], float32) to outputs of the same. */
function passThrough(L: number, D: number, P: number, state: DataTypeId): Uint8Array {
  const g = new GraphBuilder();
  const out = (x: string, name: string) => g.node('Identity', [x], {}, { outputs: [name] });
  // a device-side op on each, so that the provider holds the values (an Identity alone may alias its input)
  const plusZero = (x: string, t: DataTypeId) => g.op('Add', [x, g.scalar(0, t)]);
  out(plusZero('z_h', state), 'z_h_out');
  out(plusZero('z_l', state), 'z_l_out');
  out(plusZero('params', DataType.FLOAT), 'grads');
  const carry = (name: string): ValueInfoMsg => ({ name, elemType: state, shape: ['batch', L, D] });
  const flat = (name: string): ValueInfoMsg => ({ name, elemType: DataType.FLOAT, shape: [P] });
  return probeModel(
    g,
    'io_probe',
    'pass-through of a training step’s carry and parameters',
    [carry('z_h'), carry('z_l'), flat('params')],
    [carry('z_h_out'), carry('z_l_out'), flat('grads')],
  );
}

/** A chain of `n` element-wise nodes on a 16-value tensor: its run time is the provider's fixed cost per node. */
function nodeChain(n: number): Uint8Array {
  const g = new GraphBuilder();
  let x = 'x';
  for (let i = 0; i < n; i++) x = g.op(i % 2 === 0 ? 'Add' : 'Mul', [x, g.scalar(i % 2 === 0 ? 0 : 1)]);
  g.node('Identity', [x], {}, { outputs: ['y'] });
  const vec = (name: string): ValueInfoMsg => ({ name, elemType: DataType.FLOAT, shape: [16] });
  return probeModel(g, 'node_probe', 'chain of tiny element-wise nodes', [vec('x')], [vec('y')]);
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const backend = values.backend as string;
  const provider = backend.slice(4);
  const model = getPreset(values.preset as string).model;
  const B = values.batch as number;
  const L = stateLen(model);
  const D = model.hidden_size;
  const P = countParameters(model);
  const runs = values.runs as number;
  const warmup = values.warmup as number;
  const ep = provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : provider === 'webgpu' ? { name: 'webgpu' } : 'cpu';
  const rows: string[] = [];
  for (const state of ['float32', 'float16'] as const)
    for (const reuse of [false, true])
      for (const location of ['cpu', 'cpu-pinned'] as const) {
        const elem = state === 'float32' ? DataType.FLOAT : DataType.FLOAT16;
        const bytes = B * L * D * (state === 'float32' ? 4 : 2);
        const mb = (2 * (2 * bytes + 8 * P)) / 1e6;
        const label = `| ${state} | ${reuse ? 'reused' : 'new each run'} | ${location} | ${mb.toFixed(0)} |`;
        let session: ort.InferenceSession | undefined;
        try {
          session = await ort.InferenceSession.create(passThrough(L, D, P, elem), {
            executionProviders: [ep as ort.InferenceSession.ExecutionProviderConfig],
            logSeverityLevel: 3,
            ...(location === 'cpu' ? {} : { preferredOutputLocation: location }),
          });
          const carry = () =>
            state === 'float32'
              ? new ort.Tensor('float32', new Float32Array(B * L * D).fill(0.5), [B, L, D])
              : new ort.Tensor('float16', new Uint16Array(B * L * D).fill(0x3800), [B, L, D]);
          const feeds = { z_h: carry(), z_l: carry(), params: new ort.Tensor('float32', new Float32Array(P), [P]) };
          const fetches = reuse
            ? { z_h_out: carry(), z_l_out: carry(), grads: new ort.Tensor('float32', new Float32Array(P), [P]) }
            : undefined;
          const times: number[] = [];
          for (let i = 0; i < warmup + runs; i++) {
            const t0 = performance.now();
            const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
            // touch the outputs as the trainer does (its carry feeds the next run)
            void (out.z_h_out!.data as ArrayLike<number>)[0];
            if (i >= warmup) times.push(performance.now() - t0);
          }
          const ms = median(times);
          rows.push(`${label} ${ms.toFixed(1)} | ${(mb / ms).toFixed(1)} |`);
        } catch (e) {
          rows.push(
            `${label} failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160)} | |`,
          );
        } finally {
          await session?.release();
        }
        io.err(rows.at(-1)!);
      }
  io.out(
    `\nHost transfers of one training run, ${backend}, ${values.preset} carry [${B}, ${L}, ${D}] x 2 and ${P.toLocaleString('en-US')} parameters (${machineDescription()})`,
  );
  io.out('| carry | outputs | preferred output location | MB in + out | ms per run | GB/s |');
  io.out('|---|---|---|---|---|---|');
  for (const r of rows) io.out(r);
  const n = values.nodes as number;
  if (n > 0) {
    // ONNX Runtime's optimiser would fold a chain of constants: disable it so that every node runs
    const session = await ort.InferenceSession.create(nodeChain(n), {
      executionProviders: [ep as ort.InferenceSession.ExecutionProviderConfig],
      logSeverityLevel: 3,
      graphOptimizationLevel: 'disabled',
    });
    try {
      const feeds = { x: new ort.Tensor('float32', new Float32Array(16).fill(1), [16]) };
      const times: number[] = [];
      for (let i = 0; i < warmup + runs; i++) {
        const t0 = performance.now();
        await session.run(feeds);
        if (i >= warmup) times.push(performance.now() - t0);
      }
      const ms = median(times);
      io.out(`\nFixed cost of a node, ${backend}: a chain of ${n} tiny Add/Mul nodes`);
      io.out('| nodes | ms per run | µs per node |');
      io.out('|---|---|---|');
      io.out(`| ${n} | ${ms.toFixed(2)} | ${((ms * 1000) / n).toFixed(1)} |`);
    } finally {
      await session.release();
    }
  }
}

await runCli(spec, main);
