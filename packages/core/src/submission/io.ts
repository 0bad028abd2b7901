// Reading and writing submission.json. Writing is atomic (temporary file + rename), so a crash mid-way never
// leaves a truncated submission behind; reading validates (see validate.ts).
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { ArcSubmission, ArcTestCounts } from './types.js';
import { parseSubmission, submissionProblems, SubmissionError } from './validate.js';

/** Validates and writes `submission` to `path` as compact JSON (the form Kaggle expects). */
export async function writeSubmission(
  path: string,
  submission: ArcSubmission,
  expected?: ArcTestCounts,
): Promise<void> {
  const problems = submissionProblems(submission, expected);
  if (problems.length > 0) throw new SubmissionError(problems);
  await writeFileAtomic(path, JSON.stringify(submission));
}

/** Reads and validates a submission file; errors name the file. */
export async function readSubmission(path: string, expected?: ArcTestCounts): Promise<ArcSubmission> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseSubmission(json, expected);
  } catch (err) {
    if (err instanceof SubmissionError) throw new SubmissionError(err.problems.map((p) => `${path}: ${p}`));
    throw err;
  }
}
