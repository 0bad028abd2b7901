// The shell around every command of the packages: core's command runner (--help, errors as one line naming what was
// wrong with exit 2 for bad flags and 1 otherwise, Ctrl-C: first stops after the current step and saves, second
// exits at once, exit 130 after an interruption).
import { type CliSpec, helpText } from './flags.js';
import { runCommand } from './run-command.js';
import { type CommandIo, consoleIo } from './environment.js';

export async function runCli(
  spec: CliSpec,
  command: (argv: readonly string[], io: CommandIo) => Promise<unknown>,
): Promise<void> {
  process.exitCode = await runCommand({
    name: spec.usage.split(' ').at(-1) ?? 'trm',
    usage: helpText(spec),
    parse: (argv) => (argv.includes('--help') || argv.includes('-h') ? { kind: 'help' } : { kind: 'run', argv }),
    run: (cmd, { signal }) => command(cmd.argv, { ...consoleIo, signal }),
    stopping: 'finishing the current step, then saving...',
  });
}
