// What every command reports about where it ran: the machine line of model cards and benchmark tables.
import { cpus } from 'node:os';

export function machineDescription(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}`;
}

/** Output of a command: lines for the user (stdout) and for the log (stderr). Tests capture them. */
export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** aborts a long command between steps (Ctrl-C) */
  signal?: AbortSignal;
  quiet?: boolean;
}

export const consoleIo: CommandIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};
