// The shell of every command-line tool of the project: parse the flags (a UsageError becomes exit code 2 with a
// hint to --help), print the usage for --help, run with an AbortSignal that the first Ctrl-C fires (the second
// exits at once), and turn a failure into one line on stderr and exit code 1 (2 when a flag or config was wrong).
// Exit 130 after an interruption.
import { ConfigError } from '../config/validate.js';

/** A bad command line: the message names the flag and what was expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CommandSpec<C> {
  /** the command's name, used as the prefix of its messages */
  name: string;
  usage: string;
  /** parses argv (without node and the script); `cwd` is where the user ran the command */
  parse(argv: string[], cwd: string): C | { kind: 'help' };
  run(cmd: Exclude<C, { kind: 'help' }>, ctx: { signal: AbortSignal }): Promise<unknown>;
  /** printed at the first Ctrl-C, e.g. "stopping, removing the partial output..." */
  stopping?: string;
}

function isHelp(x: unknown): x is { kind: 'help' } {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'help';
}

/** Signals closer together than this are one stop delivered twice (see runCommand). */
export const DUPLICATE_SIGNAL_MS = 1000;

/** Runs a command and returns its exit code (0 done, 1 failed, 2 bad command line, 130 interrupted). */
export async function runCommand<C>(spec: CommandSpec<C>, argv = process.argv.slice(2)): Promise<number> {
  let cmd: C | { kind: 'help' };
  try {
    // pnpm runs package scripts inside the package folder; INIT_CWD is the folder the user typed the command in.
    cmd = spec.parse(argv, process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\nRun with --help for the flags and an example.\n`);
    return 2;
  }
  if (isHelp(cmd)) {
    process.stdout.write(spec.usage);
    return 0;
  }
  const stop = new AbortController();
  let stoppedAt = 0;
  // SIGINT (Ctrl-C) and SIGTERM (kill, timeout, a container stop) both stop gracefully: a training run saves, a
  // build removes its partial output. A second Ctrl-C exits at once, but only a deliberate one: a signal within
  // DUPLICATE_SIGNAL_MS of the first is the same stop delivered twice (timeout(1) signals the child and then its
  // process group, so the child sees it twice).
  const onSignal = (name: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      if (performance.now() - stoppedAt < DUPLICATE_SIGNAL_MS) return;
      process.exit(130);
    }
    stoppedAt = performance.now();
    const again = name === 'SIGINT' ? ' (Ctrl-C again to exit at once)' : '';
    process.stderr.write(`\n${spec.name}: ${name}: ${spec.stopping ?? 'stopping...'}${again}\n`);
    stop.abort();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    await spec.run(cmd as Exclude<C, { kind: 'help' }>, { signal: stop.signal });
    return stop.signal.aborted ? 130 : 0;
  } catch (err) {
    if (stop.signal.aborted) return 130;
    // A flag or config found wrong only while running (a dataset of another task, say) is still bad input.
    const badInput = err instanceof UsageError || err instanceof ConfigError;
    process.stderr.write(`${spec.name}: ${err instanceof Error ? err.message : String(err)}`);
    process.stderr.write(badInput ? ' (see --help)\n' : '\n');
    if (!badInput && process.env.TRM_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return badInput ? 2 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
