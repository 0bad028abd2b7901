// The command-line surface of @trm/server (`@trm/server/commands`): the usage and the parsing and running of
// `start` and `solve-arc`, and the shell-like splitting of command lines that solve-arc's --adapt-cmd and
// --adapt-args use; for tests that check the commands.
export { splitCommandLine } from '../arc/adapt-command.js';
export * from '../http/start-command.js';
export * from './solve-arc.js';
