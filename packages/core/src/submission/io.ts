// Reading and writing submission.json. Writing is atomic (temporary file + rename), so a crash mid-way never
// leaves a truncated submission behind; reading validates (see validate.ts).
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(JSON.stringify(submission));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
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
