// The `import-official` command line: flags, help text and the run with a progress line. Kept apart from the
// process wiring in cli/import-official.ts so that tests can call it directly.
import { type CliSpec, cardCommand, helpText, Progress, parseFlags, TASK_NAMES, type TaskName } from '@trm/core';
import { type ImportOfficialSummary, type ImportProgress, importOfficial } from '../official/import-official.js';

export const importOfficialSpec: CliSpec = {
  usage: 'pnpm --filter @trm/exporter import-official',
  summary: `Converts a checkpoint of the official PyTorch TRM trainer (SamsungSAILMontreal/TinyRecursiveModels) into a model
folder (config.json, weights.safetensors in float32, README.md saying where it came from), without Python. Reads
the torch.save zip directly (keys _orig_mod.model.inner.*, model.inner.* or bare; bf16 H_init/L_init are widened
exactly), or a .safetensors file of the same tensors. The checkpoint holds no config: the tensor shapes fix the
hidden size, vocabulary, puzzle table, layers and mlp_t; the rest comes from --config.`,
  flags: [
    {
      name: 'checkpoint',
      kind: 'path',
      required: true,
      value: '<file>',
      help: 'the official checkpoint (checkpoints/<project>/<run>/step_<N>) or a .safetensors file',
    },
    {
      name: 'out',
      kind: 'path',
      required: true,
      value: '<dir>',
      help: 'model folder to write; relative paths are taken from where pnpm was started',
    },
    {
      name: 'config',
      kind: 'path',
      value: '<file>',
      help:
        "the run's all_config.yaml (fields under arch:), the official model's config dict as JSON/YAML, or our " +
        'config.json; needed for H_cycles, L_cycles, num_heads, halt_max_steps and, for attention models, ' +
        'pos_encodings and puzzle_emb_len. Every field the tensors fix is checked against it.',
    },
    {
      name: 'task',
      kind: 'enum',
      choices: TASK_NAMES,
      value: '<task>',
      help: `${TASK_NAMES.join(' | ')} (default: from the config, else from the vocabulary: 11 sudoku, 6 maze, 12 arc)`,
    },
    {
      name: 'seq-len',
      kind: 'int',
      min: 1,
      value: '<N>',
      help: 'cells per puzzle, checked against the task (81 sudoku, 900 maze and arc)',
    },
    {
      name: 'force',
      kind: 'bool',
      help: 'replace the model files of a non-empty --out (and drop its model.onnx, which would no longer match)',
    },
    { name: 'quiet', kind: 'bool', help: 'no progress line' },
  ],
  examples: [
    'pnpm --filter @trm/exporter import-official --checkpoint ckpt/Sudoku-extreme-1k-aug-1000-ACT-torch/run/step_65104 --config ckpt/Sudoku-extreme-1k-aug-1000-ACT-torch/run/all_config.yaml --out models/sudoku-official',
    'pnpm --filter @trm/exporter import-official --checkpoint trm-arc1.safetensors --config all_config.yaml --task arc --out models/arc1-official --force',
  ],
};

export const IMPORT_OFFICIAL_USAGE = helpText(importOfficialSpec);

export type ImportOfficialCommand =
  | { kind: 'help' }
  | {
      kind: 'import';
      checkpoint: string;
      out: string;
      config?: string;
      task?: TaskName;
      seqLen?: number;
      force: boolean;
      quiet: boolean;
      /** the command line as typed, for the model card */
      argv: readonly string[];
    };

/** Parses the command line; relative paths are resolved against `cwd` (pnpm's INIT_CWD, the caller's folder). */
export function parseImportOfficialArgs(argv: readonly string[], cwd: string): ImportOfficialCommand {
  const { values: f, help } = parseFlags(argv, importOfficialSpec, cwd);
  if (help) return { kind: 'help' };
  return {
    kind: 'import',
    checkpoint: f.checkpoint as string,
    out: f.out as string,
    config: f.config as string | undefined,
    task: f.task as TaskName | undefined,
    seqLen: f['seq-len'] as number | undefined,
    force: f.force === true,
    quiet: f.quiet === true,
    argv,
  };
}

const MB = 1e6;

/** Runs a parsed command: one progress line per phase (hashing, reading), then a summary line on stdout. */
export async function runImportOfficial(
  cmd: Extract<ImportOfficialCommand, { kind: 'import' }>,
  ctx: { signal?: AbortSignal; out?: (line: string) => void } = {},
): Promise<ImportOfficialSummary> {
  const bars = new Map<ImportProgress['phase'], Progress>();
  const onProgress = (p: ImportProgress) => {
    let bar = bars.get(p.phase);
    if (!bar) {
      bar = new Progress(p.phase === 'hash' ? 'sha-256' : 'tensors', Math.ceil(p.total / MB), {
        unit: 'MB',
        silent: cmd.quiet,
      });
      bars.set(p.phase, bar);
    }
    bar.update(Math.ceil(p.done / MB));
    if (p.done >= p.total) bar.finish();
  };
  const s = await importOfficial({
    checkpoint: cmd.checkpoint,
    out: cmd.out,
    config: cmd.config,
    task: cmd.task,
    seqLen: cmd.seqLen,
    force: cmd.force,
    onProgress,
    signal: ctx.signal,
    // paths as the card shows them: from the repository root, or by name, never this machine's absolute paths
    command: cardCommand('pnpm --filter @trm/exporter import-official', cmd.argv, ['checkpoint', 'out', 'config']),
  });
  const write = ctx.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  for (const note of s.notes) write(`note: ${note}`);
  const dtypes = Object.entries(s.dtypes)
    .map(([d, keys]) => `${keys.length} ${d}`)
    .join(', ');
  write(
    `imported ${s.tensors} tensors (${dtypes}; key prefix ${s.keyPrefix ? `"${s.keyPrefix}"` : 'none'}) from ${cmd.checkpoint} ` +
      `(sha256 ${s.sha256.slice(0, 12)}...): ${s.config.task}, ${s.config.mlp_t ? 'mlp_t' : `attention/${s.config.pos_encodings}`}, ` +
      `hidden ${s.config.hidden_size}, ${s.parameters.toLocaleString('en-US')} parameters, ` +
      `${s.config.num_puzzle_identifiers.toLocaleString('en-US')} puzzle ids -> ${cmd.out} [${s.seconds.toFixed(1)} s]`,
  );
  return s;
}
