// `pnpm --filter @trm/server solve-arc`: batch offline solving of ARC tasks (see commands/solve-arc.ts and --help).
import { runCli } from '@trm/core';
import { solveArcCommand, solveArcSpec } from '../commands/solve-arc.js';

// A run whose tasks failed (no answer, as opposed to a wrong one) writes its submission and then exits 1.
let failedTasks = false;
await runCli(solveArcSpec, async (argv, io) => {
  const result = await solveArcCommand(argv, io);
  failedTasks = (result?.exitCode ?? 0) !== 0;
  return result;
});
// Exit explicitly: a worker thread or child process that outlived the run must not keep the process up.
process.exit(process.exitCode || (failedTasks ? 1 : 0));
