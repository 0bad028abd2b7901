// The JSON paths and value descriptions that error messages are built from, and the first-error choice of the
// schema check.
import { describe, expect, it } from 'vitest';
import { HttpError } from '../http-error.js';
import { describeValue, jsonPath, validateSolveBody } from './validate-body.js';

function fieldOf(body: unknown): { field?: string; message: string } {
  try {
    validateSolveBody(body);
  } catch (err) {
    if (err instanceof HttpError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('jsonPath', () => {
  it('writes indices in brackets, identifiers with dots, and quotes other keys', () => {
    expect(jsonPath('', 'grid')).toBe('grid');
    expect(jsonPath(jsonPath('grid', 3), '4')).toBe('grid[3][4]');
    expect(jsonPath('a', 'b_c$1')).toBe('a.b_c$1');
    expect(jsonPath('', 'max steps')).toBe('["max steps"]');
    expect(jsonPath('', '007')).toBe('["007"]');
    expect(jsonPath('', '__proto__')).toBe('__proto__');
    expect(jsonPath('', 'é"\n')).toBe('["é\\"\\n"]');
  });
});

describe('describeValue', () => {
  it('names the type of containers and cuts long strings', () => {
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, [2]])).toBe('an array of 2');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(describeValue('ab')).toBe('"ab"');
    expect(describeValue('y'.repeat(61))).toBe(`"${'y'.repeat(60)}..."`);
  });
});

describe('validateSolveBody', () => {
  it('returns a valid body unchanged', () => {
    const body = { task: 'arc', grid: [[1]], model: 'm', maxSteps: 16, haltThreshold: 0, trace: false, puzzleId: 'p' };
    expect(validateSolveBody(body)).toBe(body);
  });

  it('names the first problem and its path', () => {
    expect(fieldOf(null)).toEqual({ field: undefined, message: 'the body must be a JSON object (got null)' });
    expect(fieldOf({ grid: 5 })).toEqual({ field: 'task', message: 'task is required' });
    expect(
      fieldOf({
        task: 'arc',
        grid: [
          [0, 1],
          [2, -1],
        ],
      }),
    ).toEqual({
      field: 'grid[1][1]',
      message: 'grid[1][1] must be >= 0 (got -1)',
    });
    expect(fieldOf({ task: 'arc', grid: [[0], 7] })).toEqual({
      field: 'grid[1]',
      message: 'grid[1] must be an array (got 7)',
    });
    const longKey = 'k'.repeat(100);
    const unknown = fieldOf({ task: 'arc', grid: [[0]], [longKey]: 1 });
    expect(unknown.field).toBe(longKey);
    expect(unknown.message).toBe(
      `the field "${'k'.repeat(60)}..." is not a known field (known: task, grid, model, maxSteps, haltThreshold, trace, untilValid, views, puzzleId)`,
    );
    expect(fieldOf({ task: 'arc', grid: [[0]], 'a/b~c': 1 }).field).toBe('["a/b~c"]');
  });
});
