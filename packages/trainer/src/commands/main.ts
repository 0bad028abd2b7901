// The shell around every trainer command: core's command runner (--help, errors as one line naming what was
// wrong with exit 2 for bad flags and 1 otherwise, Ctrl-C: first stops after the current step and saves, second
// exits at once, exit 130 after an interruption).
import { runCommand } from '@trm/core';
import { type CommandSpec, helpText } from '../flags/flags.js';
import { type CommandIo, consoleIo } from './environment.js';

export async function main(
  spec: CommandSpec,
  command: (argv: readonly string[], io: CommandIo) => Promise<unknown>,
): Promise<void> {
  process.exitCode = await runCommand({
    name: spec.usage.split(' ').at(-1) ?? 'trainer',
    usage: helpText(spec),
    parse: (argv) => (argv.includes('--help') || argv.includes('-h') ? { kind: 'help' } : { kind: 'run', argv }),
    run: (cmd, { signal }) => command(cmd.argv, { ...consoleIo, signal }),
    stopping: 'finishing the current step, then saving...',
  });
}
