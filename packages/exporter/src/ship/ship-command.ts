// `pnpm --filter @trm/exporter ship`: an ARC model folder to its shipped form (one puzzle-table row, float16
// weights, model.onnx, the card with a "Shipped form" section), with a progress bar over the graph build and a
// summary line with the file sizes.
import { type CliSpec, type CommandIo, Progress, parseFlags, requiredPath, type WeightsDtype } from '@trm/core';
import { formatBytes } from './ship-card.js';
import { SHIP_DTYPES, type ShipSummary, shipModelFolder } from './ship-model.js';

export const shipSpec: CliSpec = {
  usage: 'pnpm --filter @trm/exporter ship',
  summary:
    'Writes the shipped form of a model folder with a puzzle table (ARC): the table cut to one row, the mean of the\n' +
    'trained rows (where `adapt` starts the rows of new tasks), weights stored float16, model.onnx exported from\n' +
    'them and checked with ONNX Runtime (CPU), and the model card with a "Shipped form" section.',
  flags: [
    {
      name: 'model',
      kind: 'path',
      value: '<dir>',
      help: 'trained model folder (config.json, weights.safetensors, identifiers.json)',
    },
    { name: 'out', kind: 'path', value: '<dir>', help: 'folder to write; must be new or empty unless --force' },
    {
      name: 'dtype',
      kind: 'enum',
      choices: SHIP_DTYPES,
      default: 'float16',
      help: 'storage type of weights.safetensors (H_init/L_init stay bfloat16)',
    },
    { name: 'force', kind: 'bool', help: 'replace a non-empty --out' },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm --filter @trm/exporter ship --model runs/arc-simple-new --out out/arc-simple-new',
    'pnpm --filter @trm/exporter ship --model runs/arc-simple-new --out out/arc-simple-new --dtype float32 --force',
  ],
};

export async function shipCommand(argv: readonly string[], io: CommandIo): Promise<ShipSummary | null> {
  const { values: f, help } = parseFlags(argv, shipSpec);
  if (help) return null;
  const model = requiredPath(f, 'model', { exists: true });
  const out = requiredPath(f, 'out');
  let bar: Progress | null = null;
  const summary = await shipModelFolder(model, out, {
    dtype: f.dtype as WeightsDtype,
    force: f.force as boolean,
    signal: io.signal,
    onProgress: (done, total) => {
      bar ??= new Progress('ship: model.onnx', total, { unit: 'net calls', silent: Boolean(f.quiet || io.quiet) });
      bar.update(done);
    },
  });
  (bar as Progress | null)?.finish();
  const t = summary.table;
  const sizes = summary.files
    .map((x) => `${x.name} ${formatBytes(x.bytes)}${x.name === 'weights.safetensors' ? ` (${summary.dtype})` : ''}`)
    .join(', ');
  io.out(
    `shipped ${out}: ${sizes}; puzzle table ${t.rows} -> 1 row (mean of rows ${t.first}..${t.last}), ` +
      `source weights ${formatBytes(summary.sourceWeightsBytes)}; ONNX Runtime (CPU) loads model.onnx, one step at ` +
      `batch 1: ${summary.checkStepMs.toFixed(1)} ms; ${summary.seconds.toFixed(1)} s`,
  );
  return summary;
}
