// The README.md written into every built dataset: what it is, how it was made, the counts, and anything a user
// must know (for example an evaluation set that was not available).
import { cardPath } from '../model-folder/card-path.js';
import type { BuildSummary } from './build.js';
import type { DatasetBuildInfo } from './metadata.js';

export function datasetReadme(summary: Omit<BuildSummary, 'bytes' | 'seconds'>, build: DatasetBuildInfo): string {
  const lines = [
    `# ${summary.task} dataset`,
    '',
    `Built ${build.created} by ${build.tool} (seed ${build.seed}, augment ${build.augment}` +
      `${build.subsample === null ? '' : `, subsample ${build.subsample}`}).`,
    'Format: the reference TRM layout (`<split>/dataset.json`, `<split>/all__{inputs,labels,puzzle_identifiers,' +
      'puzzle_indices,group_indices}.npy`, `identifiers.json`); read it with `readDataset(dir, split)` from `@trm/core`.',
    '',
    '## Sources',
    '| name | path | items |',
    '|---|---|---|',
    // Paths as the repository sees them (never the building machine's absolute path).
    ...build.sources.map((s) => `| ${s.name} | \`${cardPath(s.path)}\` | ${s.items} |`),
    '',
    '## Splits',
    '| split | examples | puzzles | groups | mean examples per puzzle | seq_len | vocab | puzzle ids |',
    '|---|---|---|---|---|---|---|---|',
    ...summary.splits.map(
      (s) =>
        `| ${s.split} | ${s.examples} | ${s.puzzles} | ${s.groups} | ${s.metadata.mean_puzzle_examples.toFixed(3)} | ` +
        `${s.metadata.seq_len} | ${s.metadata.vocab_size} | ${s.metadata.num_puzzle_identifiers} |`,
    ),
  ];
  if (build.notes.length > 0) lines.push('', '## Notes', ...build.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
