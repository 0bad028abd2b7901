// The shell around every command: --help, Ctrl-C (first: stop after the current step and save; second: exit at
// once), and errors as one line naming what was wrong (exit 2 for bad flags, 1 otherwise).
import { ConfigError } from '@trm/core';
import { type CommandSpec, FlagError, helpText } from '../flags/flags.js';
import { type CommandIo, consoleIo } from './environment.js';

export async function main(
  spec: CommandSpec,
  command: (argv: readonly string[], io: CommandIo) => Promise<unknown>,
): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText(spec));
    return;
  }
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('\ninterrupted again: exiting without saving\n');
      process.exit(130);
    }
    process.stderr.write('\ninterrupt: finishing the current step, then saving (Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  try {
    await command(argv, { ...consoleIo, signal: controller.signal });
    if (controller.signal.aborted) process.exitCode = 130;
  } catch (err) {
    const bad = err instanceof FlagError || err instanceof ConfigError;
    process.stderr.write(`error: ${(err as Error).message}${bad ? ' (see --help)' : ''}\n`);
    if (!bad && process.env.TRM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = bad ? 2 : 1;
  }
}
