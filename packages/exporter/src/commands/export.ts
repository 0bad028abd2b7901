// `pnpm --filter @trm/exporter export`: a model folder (or a preset with random weights, for speed tests) to
// the ONNX step graph, with a progress bar, a check that ONNX Runtime loads the file with full optimisation and
// runs one step, and a summary line (file, size, time).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  FlagError,
  getPreset,
  PRESET_NAMES,
  Progress,
  parseFlags,
  readModelConfig,
  resolveUserPath,
} from '@trm/core';
import { exportModelFolder, type ExportSummary, onnxFileName, writeStepGraph } from '../export/export-model.js';
import { randomWeights } from '../export/random-weights.js';
import { formatOps, parseOps } from '@trm/graph';
import { DEFAULT_OPS, GRAPH_DTYPES, type GraphDtype, METADATA_KEYS } from '@trm/graph';
import { checkStepGraph } from '../runtime/ort-step.js';

export const exportSpec: CliSpec = {
  usage: 'pnpm --filter @trm/exporter export',
  summary:
    'Writes one supervision step of a TRM model as an ONNX graph (inputs tokens, puzzle_emb, reset, z_h, z_l;\n' +
    'outputs z_h_out, z_l_out, logits, q_halt; the config in the metadata), then checks that ONNX Runtime (CPU)\n' +
    'loads it with full graph optimisation and runs one step.',
  flags: [
    { name: 'model', kind: 'path', value: '<dir>', help: 'model folder (config.json + weights.safetensors)' },
    {
      name: 'preset',
      kind: 'enum',
      choices: PRESET_NAMES,
      help: 'instead of --model: a preset with random weights (speed tests); needs --out',
    },
    { name: 'seed', kind: 'int', min: 0, default: 0, value: '<n>', help: 'seed of the random weights (--preset)' },
    {
      name: 'dtype',
      kind: 'enum',
      choices: GRAPH_DTYPES,
      default: 'fp32',
      help: 'fp32; fp16-weights (half the file, fp32 arithmetic); fp16 (fp16 state and arithmetic, for GPUs)',
    },
    {
      name: 'ops',
      kind: 'string',
      value: '<k=v,...>',
      help: `op choices, e.g. norm=decomposed,attention=decomposed,swiglu=split (default ${formatOps(DEFAULT_OPS)})`,
    },
    {
      name: 'out',
      kind: 'path',
      value: '<file>',
      help: 'output file (default: <model>/model.onnx or model.<dtype>.onnx)',
    },
    { name: 'no-check', kind: 'bool', help: 'skip loading the graph with ONNX Runtime after writing it' },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm --filter @trm/exporter export --model models/sudoku-small-mlp',
    'pnpm --filter @trm/exporter export --model runs/easy-sudoku --dtype fp16',
    'pnpm --filter @trm/exporter export --preset sudoku-mlp --out out/sudoku-mlp.onnx',
  ],
};

export interface ExportCommandResult extends ExportSummary {
  /** ms of one step at batch 1 on ORT CPU (the load check), when checked */
  checkStepMs?: number;
}

export async function exportCommand(argv: readonly string[], io: CommandIo): Promise<ExportCommandResult | null> {
  const { values: f, help } = parseFlags(argv, exportSpec);
  if (help) return null;
  const dtype = f.dtype as GraphDtype;
  const ops = f.ops ? parseOps(f.ops as string) : {};
  if (f.model && f.preset) throw new FlagError('give either --model or --preset, not both', '--preset');
  if (!f.model && !f.preset)
    throw new FlagError('--model <dir> is required (or --preset <name> with --out)', '--model');
  let bar: Progress | null = null;
  const onProgress = (stage: string, done: number, total: number) => {
    if (stage !== 'build') return;
    bar ??= new Progress('export', total, { unit: 'net calls', silent: Boolean(f.quiet || io.quiet) });
    bar.update(done);
  };
  let summary: ExportSummary;
  if (f.preset) {
    if (!f.out) throw new FlagError('--preset needs --out <file>', '--out');
    const config = getPreset(f.preset as string).model;
    const weights = randomWeights(config, { seed: f.seed as number, puzzleRows: 1 });
    summary = await writeStepGraph({ ...config, num_puzzle_identifiers: 1 }, weights, f.out as string, {
      dtype,
      ops,
      onProgress,
      metadata: { [METADATA_KEYS.source]: `preset ${f.preset} with random weights (seed ${f.seed})` },
    });
  } else {
    const dir = f.model as string;
    if (!existsSync(join(dir, 'config.json')))
      throw new FlagError(`--model ${dir} is not a model folder (no config.json)`, '--model');
    await readModelConfig(dir);
    summary = await exportModelFolder(dir, {
      dtype,
      ops,
      out: (f.out as string | undefined) ?? join(dir, onnxFileName(dtype)),
      onProgress,
    });
  }
  (bar as Progress | null)?.finish();
  const result: ExportCommandResult = { ...summary };
  if (!f['no-check']) result.checkStepMs = await checkStepGraph(summary.path, summary.config);
  const mb = (summary.bytes / 1e6).toFixed(summary.bytes < 1e7 ? 2 : 1);
  io.out(
    `wrote ${resolveUserPath(summary.path)} (${mb} MB, ${dtype}) in ${summary.seconds.toFixed(2)} s` +
      (result.checkStepMs !== undefined
        ? `; ONNX Runtime (CPU, full optimisation) loads it, one step at batch 1: ${result.checkStepMs.toFixed(1)} ms`
        : '') +
      ` [${basename(summary.path)}]`,
  );
  return result;
}
