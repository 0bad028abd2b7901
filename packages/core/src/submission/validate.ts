// Checking a submission object (untrusted JSON) against the ARC Prize format and, optionally, against the task
// set it must cover. All problems are collected, each with the JSON path of the offending value.
import { validateArcGrid } from '../tasks/arc.js';
import type { ArcAttempts, ArcSubmission, ArcTestCounts } from './types.js';

export class SubmissionError extends Error {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 20).join('\n  ');
    super(
      `invalid submission (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${shown}` +
        (problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''),
    );
    this.name = 'SubmissionError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Lists every problem of `value` as a submission; empty when valid. With `expected`, the submission must have
 * exactly those tasks with exactly that many entries each.
 */
export function submissionProblems(value: unknown, expected?: ArcTestCounts): string[] {
  if (!isRecord(value)) return ['submission must be a JSON object mapping task ids to lists of attempts'];
  const problems: string[] = [];
  for (const [taskId, entries] of Object.entries(value)) {
    const field = `submission[${JSON.stringify(taskId)}]`;
    if (!Array.isArray(entries) || entries.length === 0) {
      problems.push(`${field} must be a non-empty array with one {attempt_1, attempt_2} per test input`);
      continue;
    }
    entries.forEach((entry: unknown, i) => {
      if (!isRecord(entry)) {
        problems.push(`${field}[${i}] must be an object {attempt_1, attempt_2}`);
        return;
      }
      for (const key of ['attempt_1', 'attempt_2'] as const) {
        if (entry[key] === undefined) {
          problems.push(`${field}[${i}].${key} is missing`);
          continue;
        }
        try {
          validateArcGrid(entry[key], `${field}[${i}].${key}`);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
    });
    if (expected !== undefined) {
      const want = expected[taskId];
      if (want === undefined) problems.push(`${field}: task ${taskId} is not in the task set`);
      else if (entries.length !== want)
        problems.push(`${field} has ${entries.length} entries, expected ${want} (one per test input)`);
    }
  }
  if (expected !== undefined) {
    const missing = Object.keys(expected).filter((id) => !Object.hasOwn(value, id));
    if (missing.length > 0) problems.push(`missing tasks (${missing.length}): ${missing.join(', ')}`);
  }
  return problems;
}

/** Returns `value` as a submission, or throws a SubmissionError listing every problem. */
export function parseSubmission(value: unknown, expected?: ArcTestCounts): ArcSubmission {
  const problems = submissionProblems(value, expected);
  if (problems.length > 0) throw new SubmissionError(problems);
  const out: ArcSubmission = {};
  for (const [taskId, entries] of Object.entries(value as Record<string, ArcAttempts[]>)) {
    out[taskId] = entries.map((e) => ({ attempt_1: e.attempt_1, attempt_2: e.attempt_2 }));
  }
  return out;
}
