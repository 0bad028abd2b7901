// The model card (README.md) of a model folder made by import-official: where the weights came from (file, its
// SHA-256, format, key prefix, dtypes), where each config field came from, and that the model was imported, not
// trained here.
import { basename } from 'node:path';
import { countParameters, type ModelConfig } from '@trm/core';
import type { FieldSource } from './infer-config.js';
import type { SourceFormat } from './tensor-source.js';

export interface ImportFacts {
  title: string;
  config: ModelConfig;
  sources: Record<keyof ModelConfig, FieldSource>;
  notes: string[];
  source: {
    path: string;
    sha256: string;
    bytes: number;
    format: SourceFormat;
    keyPrefix: string;
  };
  /** dtype as stored -> the keys (bare names) stored in it */
  dtypes: Record<string, string[]>;
  /** --config path and its kind, when one was given */
  configFile: { path: string; kind: string } | null;
  command: string;
}

const FORMAT_NAMES: Record<SourceFormat, string> = {
  'pytorch-zip': 'PyTorch checkpoint (torch.save zip of a state_dict)',
  safetensors: 'safetensors',
};

const SOURCE_NAMES: Record<FieldSource, string> = {
  checkpoint: 'the tensor shapes',
  config: 'the config file',
  flag: 'a command-line flag',
  task: 'the task',
  default: "the reference's defaults",
};

export function importedModelCard(f: ImportFacts): string {
  const m = f.config;
  const arch = m.mlp_t ? 'MLP-mixer over the sequence (mlp_t)' : `attention (${m.num_heads} heads, ${m.pos_encodings})`;
  const dtypes = Object.entries(f.dtypes)
    .map(([d, keys]) => `${d} (${keys.length}${keys.length <= 4 ? `: ${keys.join(', ')}` : ''})`)
    .join(', ');
  const widened = Object.keys(f.dtypes).filter((d) => d !== 'float32');
  const bySource = new Map<FieldSource, string[]>();
  for (const [field, src] of Object.entries(f.sources) as [keyof ModelConfig, FieldSource][])
    bySource.set(src, [...(bySource.get(src) ?? []), `${field} = ${JSON.stringify(m[field])}`]);
  const lines = [
    `# ${f.title}`,
    '',
    `Tiny Recursive Model for **${m.task}**, **imported** from a checkpoint of the official PyTorch implementation`,
    '(SamsungSAILMontreal/TinyRecursiveModels) with `import-official`. It was not trained here, and its accuracy',
    'has not been measured here.',
    '',
    '## Source',
    '',
    '| | |',
    '|---|---|',
    `| file | \`${basename(f.source.path)}\` (${f.source.bytes.toLocaleString('en-US')} bytes) |`,
    `| SHA-256 | \`${f.source.sha256}\` |`,
    `| format | ${FORMAT_NAMES[f.source.format]} |`,
    `| key prefix | ${f.source.keyPrefix ? `\`${f.source.keyPrefix}\` (removed)` : 'none'} |`,
    `| dtypes found | ${dtypes} |`,
    `| config | ${f.configFile ? `\`${basename(f.configFile.path)}\` (${f.configFile.kind})` : 'none given'} |`,
    '',
    '## Model',
    `- ${arch}, hidden size ${m.hidden_size}, ${m.L_layers} layer(s), H_cycles ${m.H_cycles}, L_cycles ${m.L_cycles}, up to ${m.halt_max_steps} supervision steps, forward dtype ${m.forward_dtype} in the reference`,
    `- ${countParameters(m).toLocaleString('en-US')} trained parameters; puzzle table ${m.num_puzzle_identifiers.toLocaleString('en-US')} x ${m.puzzle_emb_ndim}`,
    `- \`weights.safetensors\`: every tensor under the reference's names without the prefix, float32${widened.length > 0 ? ` (${widened.join(', ')} values widened${widened.includes('float64') ? '; float64 rounded to nearest' : ', exactly'})` : ''}; \`config.json\`: the model config`,
    '',
    '## Where the config came from',
  ];
  for (const src of ['checkpoint', 'config', 'flag', 'task', 'default'] as FieldSource[]) {
    const fields = bySource.get(src);
    if (fields) lines.push(`- ${SOURCE_NAMES[src]}: ${fields.join(', ')}`);
  }
  for (const n of f.notes) lines.push(`- note: ${n}`);
  lines.push('', '## Reproduce', '', '```sh', f.command, '```', '');
  return lines.join('\n');
}
