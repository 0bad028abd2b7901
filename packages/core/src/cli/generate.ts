// `pnpm --filter @trm/core generate ...`: writes generated sudoku or maze puzzles as a CSV (see --help). pnpm
// runs package scripts inside packages/core, so a relative --out is resolved against INIT_CWD, the caller's folder.
// Exit codes: 0 done, 1 generation failed, 2 bad command line, 130 interrupted.
import { GENERATE_USAGE, GenerateUsageError, parseGenerateArgs, runGenerate } from '../generate/command.js';

async function main(): Promise<number> {
  let cmd: ReturnType<typeof parseGenerateArgs>;
  try {
    cmd = parseGenerateArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof GenerateUsageError)) throw err;
    process.stderr.write(`generate: ${err.message}\nRun with --help for the flags and examples.\n`);
    return 2;
  }
  if (cmd.kind === 'help') {
    process.stdout.write(GENERATE_USAGE);
    return 0;
  }
  // First Ctrl-C: stop after the current puzzle and write nothing. Second: exit at once.
  const stop = new AbortController();
  process.on('SIGINT', () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\ngenerate: stopping...\n');
    stop.abort();
  });
  try {
    await runGenerate(cmd, { signal: stop.signal });
    return 0;
  } catch (err) {
    if (stop.signal.aborted) return 130;
    process.stderr.write(`generate: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
