// `pnpm --filter @trm/core build-dataset ...`: builds a sudoku, maze or ARC dataset (see --help). pnpm runs
// package scripts inside packages/core, so relative paths are resolved against INIT_CWD, the caller's folder.
// Exit codes: 0 done, 1 the build failed, 2 bad command line, 130 interrupted.
import { BUILD_DATASET_USAGE, parseBuildDatasetArgs, runBuildDataset, UsageError } from '../dataset/build-args.js';

async function main(): Promise<number> {
  let cmd: ReturnType<typeof parseBuildDatasetArgs>;
  try {
    cmd = parseBuildDatasetArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`build-dataset: ${err.message}\nRun with --help for the flags and an example.\n`);
    return 2;
  }
  if (cmd.kind === 'help') {
    process.stdout.write(BUILD_DATASET_USAGE);
    return 0;
  }
  // First Ctrl-C: stop at the next puzzle and remove the partial output. Second: exit at once.
  const stop = new AbortController();
  process.on('SIGINT', () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\nbuild-dataset: stopping, removing the partial output...\n');
    stop.abort();
  });
  try {
    await runBuildDataset(cmd, { signal: stop.signal });
    return 0;
  } catch (err) {
    if (stop.signal.aborted) return 130;
    process.stderr.write(`build-dataset: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
