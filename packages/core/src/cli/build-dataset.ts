// `pnpm --filter @trm/core build-dataset ...`: builds a sudoku, maze or ARC dataset (see --help).
// Ctrl-C stops at the next puzzle and removes the partial output.
import { runCommand } from '../command/run-command.js';
import { BUILD_DATASET_USAGE, parseBuildDatasetArgs, runBuildDataset } from '../dataset/build-args.js';

process.exitCode = await runCommand({
  name: 'build-dataset',
  usage: BUILD_DATASET_USAGE,
  parse: parseBuildDatasetArgs,
  run: runBuildDataset,
  stopping: 'stopping, removing the partial output...',
});
