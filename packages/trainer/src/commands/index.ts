// The command-line surface of @trm/trainer (`@trm/trainer/commands`): each command's spec (usage, flags, examples)
// and the function that runs it, as cli/ wires them to a process; for tests that check the commands.
export * from './adapt.js';
export * from './eval.js';
export * from './train.js';
