// `npx tsx scripts/long-functions.ts [--max 80]`: a lint helper that lists every function, method, constructor and
// function-valued expression over --max lines in the packages' sources (packages/*/src, tests left out), longest
// first. A function may stay long when the comments just above it include one that starts with `// long:` and says
// why (a flat table, a linear recipe); every other one fails the run with exit code 1.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type CliSpec, type CommandIo, parseFlags, runCli } from '@trm/core';
import ts from 'typescript';

const spec: CliSpec = {
  usage: 'npx tsx scripts/long-functions.ts',
  summary:
    'Lists the functions of packages/*/src (tests left out) longer than --max lines, longest first, and fails when one\n' +
    'of them has no `// long: <why>` comment just above it.',
  flags: [{ name: 'max', kind: 'int', min: 1, default: 80, help: 'the longest a function may be, in lines' }],
  examples: ['npx tsx scripts/long-functions.ts', 'npx tsx scripts/long-functions.ts --max 60'],
};

interface LongFunction {
  /** repository-relative path */
  file: string;
  /** 1-based line of the function's first token */
  line: number;
  name: string;
  lines: number;
  /** the text after `// long:`, or null when the function has no such comment */
  why: string | null;
}

const ROOT = join(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    const source = entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts');
    return source ? [path] : [];
  });
}

function propertyName(name: ts.PropertyName | ts.BindingName, file: ts.SourceFile): string {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) ? name.text : name.getText(file);
}

/** What the reader calls the function: `Class.method`, the variable or property it is assigned to, or its call. */
function functionName(node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
  const owner = ts.isClassLike(node.parent) ? `${node.parent.name?.text ?? '<class>'}.` : '';
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (node.name) return owner + propertyName(node.name, file);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return owner + propertyName(parent.name, file);
  if (ts.isCallExpression(parent)) {
    const callee = parent.expression.getText(file).replace(/\s+/g, '');
    const first = parent.arguments[0];
    const label = first && ts.isStringLiteralLike(first) ? `'${first.text}'` : '';
    return `${callee}(${label}) callback`;
  }
  return '<anonymous>';
}

/** The `// long:` reason among the comments just above the statement, member or property the function begins. */
function longReason(node: ts.Node, file: ts.SourceFile): string | null {
  const line = (n: ts.Node) => file.getLineAndCharacterOfPosition(n.getStart(file)).line;
  let anchor: ts.Node = node;
  while (
    anchor.parent &&
    !ts.isSourceFile(anchor.parent) &&
    !ts.isBlock(anchor.parent) &&
    line(anchor.parent) === line(node)
  )
    anchor = anchor.parent;
  for (const range of ts.getLeadingCommentRanges(file.text, anchor.getFullStart()) ?? []) {
    const match = /^\/\/\s*long:\s*(\S.*)$/.exec(file.text.slice(range.pos, range.end).trim());
    if (match) return match[1]!.trim();
  }
  return null;
}

function longFunctions(path: string, max: number): LongFunction[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const start = file.getLineAndCharacterOfPosition(fn.getStart(file)).line;
      const lines = file.getLineAndCharacterOfPosition(fn.getEnd()).line - start + 1;
      if (lines > max)
        found.push({
          file: relative(ROOT, path),
          line: start + 1,
          name: functionName(fn, file),
          lines,
          why: longReason(fn, file),
        });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function table(rows: readonly LongFunction[]): string[] {
  const cells = rows.map((r) => [
    `${r.file}:${r.line}`,
    r.name,
    String(r.lines),
    r.why ?? 'OVER: split it, or say why',
  ]);
  const header = ['where', 'function', 'lines', 'long: why'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const format = (c: string[]) =>
    c
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...cells.map(format)];
}

async function listLongFunctions(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: flags, help } = parseFlags(argv, spec);
  if (help) return;
  const max = flags.max as number;
  const packages = join(ROOT, 'packages');
  const files = readdirSync(packages).flatMap((pkg) => sourceFiles(join(packages, pkg, 'src')));
  const rows = files.flatMap((f) => longFunctions(f, max)).sort((a, b) => b.lines - a.lines);
  if (rows.length > 0) for (const line of table(rows)) io.out(line);
  const over = rows.filter((r) => r.why === null).length;
  const summary = `${rows.length} functions over ${max} lines in ${files.length} files, ${over} without a // long: reason`;
  if (over > 0) throw new Error(summary);
  io.out(summary);
}

await runCli(spec, listLongFunctions);
