// `pnpm --filter @trm/core generate ...`: writes generated sudoku or maze puzzles as a CSV (see --help).
// Ctrl-C stops after the current puzzle and writes nothing.
import { runCommand } from '../command/run-command.js';
import { GENERATE_USAGE, parseGenerateArgs, runGenerate } from '../generate/command.js';

process.exitCode = await runCommand({
  name: 'generate',
  usage: GENERATE_USAGE,
  parse: parseGenerateArgs,
  run: runGenerate,
  stopping: 'stopping, nothing will be written...',
});
