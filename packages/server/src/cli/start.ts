// `pnpm --filter @trm/server start`: serves models over HTTP (see http/start-command.ts and --help).
import { runCommand } from '@trm/core';
import { parseStartArgs, runStart, START_USAGE } from '../http/start-command.js';

const code = await runCommand({
  name: 'start',
  usage: START_USAGE,
  parse: parseStartArgs,
  run: (cmd, { signal }) => runStart(cmd, { signal }),
  stopping: 'draining: finishing the requests in flight...',
});
// Exit explicitly: a worker or socket that outlived the shutdown must not keep the process up.
process.exit(code);
