// The shell of every command-line tool of the project: parse the flags (a UsageError becomes exit code 2 with a
// hint to --help), print the usage for --help, run with an AbortSignal that the first Ctrl-C fires (the second
// exits at once, or hurries a command that must not exit under a native call), and turn a failure into one line on
// stderr and exit code 1 (2 when a flag or config was wrong). Exit 130 after an interruption, unless the command
// gives the signal another code (the server: 0 after SIGTERM).
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
  run(cmd: Exclude<C, { kind: 'help' }>, ctx: CommandContext): Promise<unknown>;
  /** printed at the first Ctrl-C, e.g. "stopping, removing the partial output..." */
  stopping?: string;
  /**
   * What a deliberate second signal does: `exit` (default) exits at once with 130; `hurry` fires `ctx.hurry` and
   * lets the run end by itself. A process whose worker threads may be inside a native call must not exit: Node
   * ends the threads, and onnxruntime-node aborts the whole process when that happens inside session.run.
   */
  again?: 'exit' | 'hurry';
  /** exit code after a stop by this signal when the run then returns (default 130 for both) */
  stopCodes?: Partial<Record<StopSignal, number>>;
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface CommandContext {
  /** fires at the first SIGINT or SIGTERM: stop gracefully */
  signal: AbortSignal;
  /** fires at a deliberate second signal when the spec asks for `again: 'hurry'`: stop sooner */
  hurry: AbortSignal;
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
  const hurry = new AbortController();
  let stoppedBy: StopSignal = 'SIGINT';
  let stoppedAt = 0;
  // SIGINT (Ctrl-C) and SIGTERM (kill, timeout, a container stop) both stop gracefully: a training run saves, a
  // build removes its partial output. A second Ctrl-C exits at once (or, with `again: 'hurry'`, fires ctx.hurry),
  // but only a deliberate one: a signal within DUPLICATE_SIGNAL_MS of the first is the same stop delivered twice
  // (timeout(1) signals the child and then its process group, so the child sees it twice).
  const onSignal = (name: StopSignal) => {
    if (stop.signal.aborted) {
      if (performance.now() - stoppedAt < DUPLICATE_SIGNAL_MS) return;
      if (spec.again !== 'hurry') process.exit(130);
      if (!hurry.signal.aborted) process.stderr.write(`${spec.name}: ${name} again: stopping sooner\n`);
      hurry.abort();
      return;
    }
    stoppedAt = performance.now();
    stoppedBy = name;
    const hint = spec.again === 'hurry' ? 'again to stop sooner' : 'again to exit at once';
    const again = name === 'SIGINT' ? ` (Ctrl-C ${hint})` : '';
    process.stderr.write(`\n${spec.name}: ${name}: ${spec.stopping ?? 'stopping...'}${again}\n`);
    stop.abort();
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    await spec.run(cmd as Exclude<C, { kind: 'help' }>, { signal: stop.signal, hurry: hurry.signal });
    return stop.signal.aborted ? (spec.stopCodes?.[stoppedBy] ?? 130) : 0;
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
