// `pnpm --filter @trm/server solve-arc`: batch offline solving of ARC tasks (see commands/solve-arc.ts and --help).
import { runCli } from '@trm/core';
import { solveArcCommand, solveArcSpec } from '../commands/solve-arc.js';

await runCli(solveArcSpec, solveArcCommand);
// Exit explicitly: a worker thread or child process that outlived the run must not keep the process up.
process.exit(process.exitCode ?? 0);
