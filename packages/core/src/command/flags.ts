// Command-line flags for every command: a declarative list (name, kind, default, help) gives both the
// parser and the --help text, so the two cannot disagree. Errors name the flag and say what was expected.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from './run-command.js';

interface FlagBase {
  name: string;
  /** one or more lines; the --help text indents the lines after the first under it */
  help: string;
  /** shown in --help as the value's placeholder, e.g. <dir> */
  value?: string;
  /** missing: `--name is required`; listed in the usage line */
  required?: boolean;
}
export type FlagSpec =
  | (FlagBase & { kind: 'string'; default?: string; multiple?: boolean })
  | (FlagBase & { kind: 'path'; default?: string; multiple?: boolean })
  | (FlagBase & { kind: 'int'; default?: number; min?: number; max?: number })
  | (FlagBase & { kind: 'number'; default?: number; min?: number; exclusiveMin?: boolean; max?: number })
  | (FlagBase & { kind: 'enum'; choices: readonly string[]; default?: string })
  | (FlagBase & { kind: 'bool' });

/** Parsed flags by name; a `multiple` flag holds every value given, in order. */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

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

function convert(spec: FlagSpec, raw: string, cwd: string): string | number {
  const flag = `--${spec.name}`;
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'path':
      // An empty path would resolve to the working folder itself.
      if (raw === '') throw new FlagError(`${flag} needs a value${spec.value ? ` ${spec.value}` : ''}`, flag);
      return resolve(cwd, raw);
    case 'enum':
      if (!spec.choices.includes(raw))
        throw new FlagError(`${flag} must be one of ${spec.choices.join(', ')} (got "${raw}")`, flag);
      return raw;
    case 'int': {
      const n = Number(raw);
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const max = spec.max ?? Number.POSITIVE_INFINITY;
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
        const range = Number.isFinite(max)
          ? ` ${Number.isFinite(min) ? min : ''}..${max}`
          : Number.isFinite(min)
            ? ` >= ${min}`
            : '';
        throw new FlagError(`${flag} must be an integer${range} (got "${raw}")`, flag);
      }
      return n;
    }
    case 'number': {
      const n = Number(raw);
      const min = spec.min ?? Number.NEGATIVE_INFINITY;
      const max = spec.max ?? Number.POSITIVE_INFINITY;
      const low = spec.exclusiveMin ? n <= min : n < min;
      if (raw.trim() === '' || !Number.isFinite(n) || low || n > max) {
        const bounds = [
          Number.isFinite(min) ? `${spec.exclusiveMin ? '>' : '>='} ${min}` : '',
          Number.isFinite(max) ? `<= ${max}` : '',
        ].filter((b) => b !== '');
        throw new FlagError(
          `${flag} must be a number${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''} (got "${raw}")`,
          flag,
        );
      }
      return n;
    }
    case 'bool':
      throw new FlagError(`${flag} takes no value (got "${raw}")`, flag);
  }
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`. Unknown flags, missing values, bad values and missing
 * required flags throw a FlagError naming the flag; a flag given twice does too, unless it is `multiple`. Relative
 * paths are resolved against `cwd` (default: the folder the user ran pnpm from). `help` is true when --help or -h
 * was given (nothing else is checked then).
 */
export function parseFlags(
  argv: readonly string[],
  spec: CliSpec,
  cwd: string = userCwd(),
): { values: FlagValues; help: boolean } {
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
    const multiple = 'multiple' in f && f.multiple === true;
    if (values[name] !== undefined && !multiple) throw new FlagError(`--${name} is given twice`, `--${name}`);
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
    const value = convert(f, raw, cwd);
    if (multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value as string];
    else values[name] = value;
  }
  for (const f of spec.flags) {
    if (values[f.name] !== undefined) continue;
    if (f.kind === 'bool') values[f.name] = false;
    else if (f.default !== undefined) {
      const value = f.kind === 'path' ? resolve(cwd, f.default) : f.default;
      values[f.name] = 'multiple' in f && f.multiple ? [value as string] : value;
    } else if (f.required)
      throw new FlagError(
        `--${f.name} is required${f.kind === 'enum' ? ` (one of ${f.choices.join(', ')})` : ''}`,
        `--${f.name}`,
      );
  }
  return { values, help: false };
}

/** --help lines are wrapped to this width. */
const HELP_COLUMNS = 118;

/**
 * Splits text into lines of at most `columns` characters at spaces, keeping its own line breaks; `tail` (a flag's
 * notes, "(default: 8080)") ends the last line, or starts one of its own, in one piece.
 */
function wrap(text: string, columns: number, tail: string): string[] {
  const out: string[] = [];
  const paragraphs = text.split('\n');
  paragraphs.forEach((paragraph, p) => {
    const words = paragraph.split(' ');
    if (p === paragraphs.length - 1 && tail !== '') words.push(tail);
    let line = '';
    for (const word of words) {
      if (line !== '' && line.length + 1 + word.length > columns) {
        out.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out.push(line);
  });
  return out;
}

/** A flag's name and value placeholder, as the usage line and --help show it. */
function flagHead(f: FlagSpec): string {
  if (f.kind === 'bool') return `--${f.name}`;
  return `--${f.name} ${f.value ?? (f.kind === 'enum' ? `<${f.choices.join('|')}>` : '<value>')}`;
}

/** The --help text: usage (with the required flags), summary, every flag with its default, and examples. */
export function helpText(spec: CliSpec): string {
  const rows = spec.flags.map((f) => {
    const notes = [
      f.required ? 'required' : '',
      f.kind !== 'bool' && f.default !== undefined ? `default: ${f.default}` : '',
      'multiple' in f && f.multiple ? 'repeatable' : '',
    ].filter(Boolean);
    return [flagHead(f), f.help, notes.length > 0 ? `(${notes.join('; ')})` : ''] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([h]) => h.length)) + 2);
  const text = (help: string, notes: string) =>
    wrap(help, HELP_COLUMNS - 2 - width, notes).join(`\n  ${''.padEnd(width)}`);
  const required = spec.flags.filter((f) => f.required).map((f) => `${flagHead(f)} `);
  const lines = [`Usage: ${spec.usage} ${required.join('')}[flags]`, '', spec.summary, '', 'Flags:'];
  for (const [h, help, notes] of rows)
    lines.push(
      h.length < width
        ? `  ${h.padEnd(width)}${text(help, notes)}`
        : `  ${h}\n  ${''.padEnd(width)}${text(help, notes)}`,
    );
  lines.push(
    `  ${'-h, --help'.padEnd(width)}show this help`,
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
  );
  return lines.join('\n');
}

/** The value of a required path flag (`--model <dir> is required`), optionally one that must exist. */
export function requiredPath(values: FlagValues, name: string, o: { exists?: boolean } = {}): string {
  const v = values[name] as string | undefined;
  if (!v) throw new FlagError(`--${name} <dir> is required`, `--${name}`);
  if (o.exists && !existsSync(v)) throw new FlagError(`--${name} ${v} does not exist`, `--${name}`);
  return v;
}
