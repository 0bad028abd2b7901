import { describe, expect, it } from 'vitest';
import { type CliSpec, type FlagError, helpText, parseFlags } from './flags.js';

const spec: CliSpec = {
  usage: 'trm demo',
  summary: 'A demo command.',
  flags: [
    { name: 'steps', kind: 'int', min: 1, default: 10, help: 'optimiser steps', value: '<n>' },
    { name: 'lr', kind: 'number', min: 0, exclusiveMin: true, help: 'learning rate' },
    { name: 'rate', kind: 'number', min: 0, max: 1, help: 'a rate' },
    { name: 'backend', kind: 'enum', choices: ['cpu', 'wasm'], default: 'wasm', help: 'backend' },
    { name: 'out', kind: 'path', default: 'runs/x', help: 'output folder', value: '<dir>' },
    { name: 'resume', kind: 'bool', help: 'continue' },
  ],
  examples: ['trm demo --steps 5'],
};

function error(argv: string[]): FlagError {
  try {
    parseFlags(argv, spec);
  } catch (e) {
    return e as FlagError;
  }
  throw new Error('expected a FlagError');
}

describe('parseFlags', () => {
  it('reads values in both spellings, fills defaults and resolves paths against INIT_CWD', () => {
    const prev = process.env.INIT_CWD;
    process.env.INIT_CWD = '/home/user/work';
    try {
      const { values } = parseFlags(['--lr=0.5', '--resume', '--out', 'a/b'], spec);
      expect(values).toEqual({ steps: 10, lr: 0.5, backend: 'wasm', out: '/home/user/work/a/b', resume: true });
      expect(parseFlags([], spec).values.out).toBe('/home/user/work/runs/x');
      expect(parseFlags(['--out', '/abs'], spec).values.out).toBe('/abs');
    } finally {
      if (prev === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = prev;
    }
  });

  it('names the bad flag and what was expected', () => {
    expect(error(['--steps', '0']).message).toBe('--steps must be an integer >= 1 (got "0")');
    expect(error(['--steps', '2.5']).flag).toBe('--steps');
    expect(error(['--lr', '0']).message).toBe('--lr must be a number > 0 (got "0")');
    expect(error(['--rate', '1.5']).message).toBe('--rate must be a number >= 0 and <= 1 (got "1.5")');
    expect(error(['--rate', '-0.1']).flag).toBe('--rate');
    expect(parseFlags(['--rate', '1'], spec).values.rate).toBe(1);
    expect(error(['--backend', 'gpu']).message).toBe('--backend must be one of cpu, wasm (got "gpu")');
    expect(error(['--step', '3']).message).toMatch(/^unknown flag --step \(known: --steps, /);
    expect(error(['--steps']).message).toBe('--steps needs a value <n>');
    expect(error(['--steps', '--resume']).message).toBe('--steps needs a value <n>');
    expect(error(['--resume=yes']).message).toBe('--resume takes no value (got "yes")');
    expect(error(['--steps', '1', '--steps', '2']).message).toBe('--steps is given twice');
    expect(error(['steps']).message).toMatch(/unexpected argument "steps"/);
  });

  it('answers --help without checking anything else', () => {
    expect(parseFlags(['--steps', 'x', '--help'], spec).help).toBe(true);
    const text = helpText(spec);
    expect(text).toContain('Usage: trm demo [flags]');
    expect(text).toMatch(/--steps <n>\s+optimiser steps \(default: 10\)/);
    expect(text).toMatch(/--backend <cpu\|wasm>\s+backend \(default: wasm\)/);
    expect(text).toContain('  trm demo --steps 5');
  });

  it('checks required flags, integer ranges and repeated flags, resolving paths against a given folder', () => {
    const more: CliSpec = {
      usage: 'trm more',
      summary: 'Another demo.',
      flags: [
        { name: 'task', kind: 'enum', choices: ['a', 'b'], required: true, help: 'task' },
        { name: 'port', kind: 'int', min: 0, max: 65535, default: 8080, value: 'N', help: 'port;\n0 picks one' },
        { name: 'model', kind: 'path', multiple: true, value: '<dir>', help: 'model folder' },
        { name: 'count', kind: 'int', min: 1, required: true, help: 'how many' },
      ],
      examples: ['trm more --task a --count 1'],
    };
    const parse = (argv: string[]) => parseFlags(argv, more, '/w');
    const fail = (argv: string[]) => {
      try {
        parse(argv);
      } catch (e) {
        return (e as FlagError).message;
      }
      throw new Error('expected a FlagError');
    };
    expect(parse(['--task', 'a', '--count', '2', '--model', 'm1', '--model=/abs/m2']).values).toEqual({
      task: 'a',
      port: 8080,
      model: ['/w/m1', '/abs/m2'],
      count: 2,
    });
    expect(fail(['--count', '1'])).toBe('--task is required (one of a, b)');
    expect(fail(['--task', 'b'])).toBe('--count is required');
    expect(fail(['--task', 'b', '--count', '1', '--port', '70000'])).toBe(
      '--port must be an integer 0..65535 (got "70000")',
    );
    expect(fail(['--task', 'b', '--count', '1', '--model', ''])).toBe('--model needs a value <dir>');
    const text = helpText(more);
    expect(text).toContain('Usage: trm more --task <a|b> --count <value> [flags]');
    expect(text).toMatch(/--task <a\|b>\s+task \(required\)\n/);
    expect(text).toMatch(/--port N\s+port;\n {19}0 picks one \(default: 8080\)\n/);
    expect(text).toMatch(/--model <dir>\s+model folder \(repeatable\)\n/);
  });
});
