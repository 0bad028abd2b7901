// The command-line surface of @trm/exporter (`@trm/exporter/commands`): each command's spec or usage and the
// function that runs it, as cli/ wires them to a process; for tests that check the commands.
export * from '../ship/ship-command.js';
export * from './export.js';
export * from './import-official.js';
