// `pnpm --filter @trm/server start`: serves models over HTTP (see http/start-command.ts and --help).
import { runCommand } from '@trm/core';
import { ENGINE_DEFAULTS } from '../engine/engine.js';
import { workerThreadsExited } from '../engine/worker/worker-lane.js';
import { parseStartArgs, runStart, START_USAGE } from '../http/start-command.js';

/** After the workers have gone, how long anything else may hold the stopped process open. */
const EXIT_GRACE_MS = 2_000;

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
process.exitCode = code;
// The process ends by itself once nothing holds it. Ending it sooner could cut an inference worker inside a native
// call (session.run, the model's loading), which aborts the process: the drain stops the workers the engine holds,
// but one it let go (a step past the step timeout or past close()'s wait, a replacement that loaded after its lane
// closed) runs on until that call returns. One still busy after the step timeout is hung, and a stopped server must
// not stay up for it.
if (!(await workerThreadsExited(ENGINE_DEFAULTS.stepTimeoutMs))) {
  process.stderr.write(
    `start: an inference worker is still inside a step ${ENGINE_DEFAULTS.stepTimeoutMs} ms after the drain: exiting\n`,
  );
  process.exit(code);
}
// Nothing should be left open now; if something is (a socket, a timer), it must not keep a stopped server up.
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
