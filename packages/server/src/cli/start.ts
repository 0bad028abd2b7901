// `pnpm --filter @trm/server start`: serves models over HTTP (see http/start-command.ts and --help).
import { runCommand } from '@trm/core';
import { parseStartArgs, runStart, START_USAGE } from '../http/start-command.js';

const code = await runCommand({
  name: 'start',
  usage: START_USAGE,
  parse: parseStartArgs,
  run: (cmd, { signal, hurry }) => runStart(cmd, { signal, hurry }),
  stopping: 'draining: finishing the requests in flight...',
  // Never exit under a running step: a second signal refuses the queue and the in-flight puzzles still finish.
  again: 'hurry',
  // SIGTERM is how an orchestrator stops a server: a normal stop. Ctrl-C is an interruption (130).
  stopCodes: { SIGTERM: 0 },
});
// Exit explicitly: a worker or socket that outlived the shutdown must not keep the process up. The engines have
// drained by now, so no worker thread is inside session.run.
process.exit(code);
