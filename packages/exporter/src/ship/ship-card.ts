// The "Shipped form" section that `ship` appends to the model card: where the folder came from, what was cut from
// the puzzle table and why the kept row is what `adapt` needs, the weights' storage type, and the file sizes.
import type { ModelConfig, WeightsDtype } from '@trm/core';
import type { OneRowTable } from './one-row-table.js';

export const SHIPPED_HEADING = '## Shipped form';

export interface ShippedCardFacts {
  /** the source folder as the user named it */
  source: string;
  task: ModelConfig['task'];
  table: OneRowTable;
  dtype: WeightsDtype;
  /** files of the shipped folder other than the card */
  files: readonly { name: string; bytes: number }[];
  sourceWeightsBytes: number;
}

/** Sizes as people read them: bytes below 1 kB, then kB and MB (decimal units, as file managers show them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}

/** The section's Markdown. */
export function shippedSection(f: ShippedCardFacts): string {
  const t = f.table;
  const averaged = t.first === t.last ? `row ${t.first}` : `rows ${t.first}..${t.last}`;
  const tableLine =
    t.rows === 1
      ? '- Puzzle table: it had a single row, kept as it was (nothing was cut).'
      : `- Puzzle table: cut from ${t.rows} rows to 1 (${t.rows - 1} rows cut). The kept row is the **mean of the ` +
        `trained rows** (${averaged}${t.first === 1 ? '; row 0, the never-used `<blank>` row, is left out' : ''}). ` +
        '`adapt` starts the rows of new puzzles at the mean of the rows a model has, so on this folder they start ' +
        'at the mean of the trained rows. The trained puzzles themselves have no rows here any more: run ' +
        '`pnpm --filter @trm/trainer adapt --model <this folder> --data <dataset>` to fit rows for the tasks to solve.';
  const weightsLine =
    f.dtype === 'float16'
      ? '- Weights: `weights.safetensors` stores float16 (`H_init`/`L_init` bfloat16, as the reference keeps them); ' +
        '`model.onnx` is the float32 step graph exported from these rounded weights.'
      : '- Weights: `weights.safetensors` stores float32 (`H_init`/`L_init` bfloat16, as the reference keeps them); ' +
        '`model.onnx` is the float32 step graph exported from them.';
  const rows = f.files.map((x) => `| \`${x.name}\` | ${formatBytes(x.bytes)} |`);
  return [
    SHIPPED_HEADING,
    '',
    `This folder is the shipped form of \`${f.source}\` (${f.task}), written by \`pnpm --filter @trm/exporter ship\`.`,
    '',
    tableLine,
    weightsLine,
    `- Files (the source's \`weights.safetensors\` with the full table: ${formatBytes(f.sourceWeightsBytes)}):`,
    '',
    '| file | size |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/**
 * The source card with the section appended. A card that already has one (a shipped folder shipped again) loses
 * the old section, which would describe files that are no longer there; no card at all gets a title.
 */
export function appendShippedSection(card: string | null, facts: ShippedCardFacts): string {
  let base = card ?? `# TRM ${facts.task}\n`;
  const at = base.indexOf(`\n${SHIPPED_HEADING}\n`);
  if (at >= 0) {
    const next = base.indexOf('\n## ', at + SHIPPED_HEADING.length + 1);
    base = base.slice(0, at + 1) + (next >= 0 ? base.slice(next + 1) : '');
  }
  return `${base.trimEnd()}\n\n${shippedSection(facts)}`;
}
