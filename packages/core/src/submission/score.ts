// Scoring a submission against the solutions as the ARC Prize leaderboard and TRM's evaluator do: a test output
// counts as solved when either attempt equals it exactly; a task scores the fraction of its test outputs solved;
// the headline is the mean over tasks (pass@2). The per-output rate (solved outputs / all outputs) weighs
// multi-output tasks more and is reported beside it.
import { gridsEqual } from '../check/arc.js';
import type { ArcSolutions, ArcSubmission } from './types.js';

export interface TaskScore {
  taskId: string;
  /** Per test output: which attempt matched (1 or 2), or null when neither did. */
  matched: (1 | 2 | null)[];
  /** Solved outputs / test outputs of this task. */
  score: number;
  /** The submission has no entry for this task (scored 0). */
  missing: boolean;
}

export interface SubmissionScore {
  /** Mean over tasks of the per-task score: the leaderboard's and TRM's number. */
  score: number;
  /** Solved test outputs / all test outputs. */
  outputScore: number;
  solvedOutputs: number;
  totalOutputs: number;
  /** Tasks in the solutions (each scored, missing ones as 0), sorted by id. */
  tasks: TaskScore[];
  /** Tasks of the solutions without an entry in the submission. */
  missingTasks: string[];
  /** Submission tasks that have no solutions (not scored). */
  extraTasks: string[];
}

/** Scores `submission` on every task of `solutions`; absent tasks or entries count as unsolved. */
export function scoreSubmission(submission: ArcSubmission, solutions: ArcSolutions): SubmissionScore {
  const ids = Object.keys(solutions).sort();
  const tasks: TaskScore[] = ids.map((taskId) => {
    const expected = solutions[taskId]!;
    const entries = Object.hasOwn(submission, taskId) ? submission[taskId]! : undefined;
    const matched = expected.map((want, i): 1 | 2 | null => {
      const entry = entries?.[i];
      if (entry === undefined) return null;
      if (gridsEqual(entry.attempt_1, want)) return 1;
      if (gridsEqual(entry.attempt_2, want)) return 2;
      return null;
    });
    const solved = matched.filter((m) => m !== null).length;
    return {
      taskId,
      matched,
      score: expected.length > 0 ? solved / expected.length : 0,
      missing: entries === undefined,
    };
  });
  const solvedOutputs = tasks.reduce((n, t) => n + t.matched.filter((m) => m !== null).length, 0);
  const totalOutputs = tasks.reduce((n, t) => n + t.matched.length, 0);
  return {
    score: tasks.length > 0 ? tasks.reduce((s, t) => s + t.score, 0) / tasks.length : 0,
    outputScore: totalOutputs > 0 ? solvedOutputs / totalOutputs : 0,
    solvedOutputs,
    totalOutputs,
    tasks,
    missingTasks: tasks.filter((t) => t.missing).map((t) => t.taskId),
    extraTasks: Object.keys(submission)
      .filter((id) => !Object.hasOwn(solutions, id))
      .sort(),
  };
}
