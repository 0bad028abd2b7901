// Command-line flags for every command: a declarative list (name, kind, default, help) gives both the
// parser and the --help text, so the two cannot disagree. Errors name the flag and say what was expected.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from './run-command.js';

interface FlagBase {
  name: string;
  help: string;
  /** shown in --help as the value's placeholder, e.g. <dir> */
  value?: string;
}
export type FlagSpec =
  | (FlagBase & { kind: 'string'; default?: string })
  | (FlagBase & { kind: 'path'; default?: string })
  | (FlagBase & { kind: 'int'; default?: number; min?: number })
  | (FlagBase & { kind: 'number'; default?: number; min?: number; exclusiveMin?: boolean })
  | (FlagBase & { kind: 'enum'; choices: readonly string[]; default?: string })
  | (FlagBase & { kind: 'bool' });

export type FlagValues = Record<string, string | number | boolean | undefined>;

/** A bad flag; a UsageError, so the command runner answers it with exit code 2. */
export class FlagError extends UsageError {
  constructor(
    message: string,
    readonly flag: string,
  ) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface CliSpec {
  /** e.g. "pnpm --filter @trm/trainer train" */
  usage: string;
  summary: string;
  flags: FlagSpec[];
  examples: string[];
}

/** Where relative paths are resolved: the directory the user ran pnpm from (pnpm runs scripts in the package). */
export function userCwd(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

export function resolveUserPath(p: string): string {
  return isAbsolute(p) ? p : resolve(userCwd(), p);
}

function convert(spec: FlagSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'path':
      return resolveUserPath(raw);
    case 'enum':
      if (!spec.choices.includes(raw))
        throw new FlagError(`${flag} must be one of ${spec.choices.join(', ')} (got "${raw}")`, flag);
      return raw;
    case 'int': {
      const n = Number(raw);
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min)
        throw new FlagError(
          `${flag} must be an integer${Number.isFinite(min) ? ` >= ${min}` : ''} (got "${raw}")`,
          flag,
        );
      return n;
    }
    case 'number': {
      const n = Number(raw);
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const low = spec.exclusiveMin ? n <= min : n < min;
      if (raw.trim() === '' || !Number.isFinite(n) || low)
        throw new FlagError(
          `${flag} must be a number${Number.isFinite(min) ? ` ${spec.exclusiveMin ? '>' : '>='} ${min}` : ''} (got "${raw}")`,
          flag,
        );
      return n;
    }
    case 'bool':
      throw new FlagError(`${flag} takes no value (got "${raw}")`, flag);
  }
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`. Unknown flags, missing values and bad values throw a
 * FlagError naming the flag. `help` is true when --help or -h was given (nothing else is checked then).
 */
export function parseFlags(argv: readonly string[], spec: CliSpec): { values: FlagValues; help: boolean } {
  if (argv.includes('--help') || argv.includes('-h')) return { values: {}, help: true };
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const values: FlagValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new FlagError(`unexpected argument "${arg}": every option is a --flag (see --help)`, arg);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const f = byName.get(name);
    if (!f)
      throw new FlagError(
        `unknown flag --${name} (known: ${spec.flags.map((x) => `--${x.name}`).join(', ')})`,
        `--${name}`,
      );
    if (values[name] !== undefined) throw new FlagError(`--${name} is given twice`, `--${name}`);
    if (f.kind === 'bool') {
      if (eq >= 0) throw new FlagError(`--${name} takes no value (got "${arg.slice(eq + 1)}")`, `--${name}`);
      values[name] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith('--'))
        throw new FlagError(`--${name} needs a value${f.value ? ` ${f.value}` : ''}`, `--${name}`);
      i++;
    }
    values[name] = convert(f, raw);
  }
  for (const f of spec.flags) {
    if (values[f.name] !== undefined) continue;
    if (f.kind === 'bool') values[f.name] = false;
    else if (f.default !== undefined) values[f.name] = f.kind === 'path' ? resolveUserPath(f.default) : f.default;
  }
  return { values, help: false };
}

/** The --help text: usage, summary, every flag with its default, and examples. */
export function helpText(spec: CliSpec): string {
  const rows = spec.flags.map((f) => {
    const head = `--${f.name}${f.kind === 'bool' ? '' : ` ${f.value ?? (f.kind === 'enum' ? `<${f.choices.join('|')}>` : '<value>')}`}`;
    const def = f.kind !== 'bool' && f.default !== undefined ? ` (default: ${f.default})` : '';
    return [head, `${f.help}${def}`] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([h]) => h.length)) + 2);
  const lines = [`Usage: ${spec.usage} [flags]`, '', spec.summary, '', 'Flags:'];
  for (const [h, t] of rows)
    lines.push(h.length < width ? `  ${h.padEnd(width)}${t}` : `  ${h}\n  ${''.padEnd(width)}${t}`);
  lines.push(`  ${'--help'.padEnd(width)}show this help`, '', 'Examples:', ...spec.examples.map((e) => `  ${e}`), '');
  return lines.join('\n');
}

/** The value of a required path flag (`--model <dir> is required`), optionally one that must exist. */
export function requiredPath(values: FlagValues, name: string, o: { exists?: boolean } = {}): string {
  const v = values[name] as string | undefined;
  if (!v) throw new FlagError(`--${name} <dir> is required`, `--${name}`);
  if (o.exists && !existsSync(v)) throw new FlagError(`--${name} ${v} does not exist`, `--${name}`);
  return v;
}
