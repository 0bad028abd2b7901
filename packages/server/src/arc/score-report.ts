// Scoring a batch run against known solutions: pass@2 as the leaderboard counts it (core's scoreSubmission)
// averaged per task and per test output, pass@1 beside it, every task's line, and the table printed at the end.
// Tasks of the run without a solution are listed, not scored.
import { type ArcSolutions, type ArcSubmission, type ArcTestCounts, scoreSubmission } from '@trm/core';
import type { TaskRecord } from './work-folder.js';

export interface TaskScoreLine {
  taskId: string;
  tests: number;
  /** per test output: the attempt that matched (1 or 2) or null */
  matched: (1 | 2 | null)[];
  /** pass@2 of the task: solved outputs / outputs */
  score: number;
  status: 'solved' | 'failed' | 'missing';
}

export interface ScoreReport {
  /** mean over tasks of the fraction of test outputs solved in two attempts: the headline ARC number */
  score: number;
  /** solved test outputs / all test outputs (two attempts) */
  outputScore: number;
  /** the same two averages with the first attempt only */
  pass1: number;
  pass1Output: number;
  solvedOutputs: number;
  totalOutputs: number;
  tasks: TaskScoreLine[];
  /** tasks of the run that the solutions do not cover, or with another number of test outputs */
  unscored: string[];
}

/** Scores the run's tasks that the solutions cover. */
export function scoreReport(
  submission: ArcSubmission,
  solutions: ArcSolutions,
  counts: ArcTestCounts,
  records: ReadonlyMap<string, TaskRecord>,
): ScoreReport {
  const covered: ArcSolutions = {};
  const unscored: string[] = [];
  for (const [id, n] of Object.entries(counts)) {
    const s = solutions[id];
    if (s && s.length === n) covered[id] = s;
    else unscored.push(id);
  }
  const s = scoreSubmission(submission, covered);
  const tasks: TaskScoreLine[] = s.tasks.map((t) => ({
    taskId: t.taskId,
    tests: t.matched.length,
    matched: t.matched,
    score: t.score,
    status: records.get(t.taskId)?.status ?? 'missing',
  }));
  const firstSolved = tasks.map((t) => t.matched.filter((m) => m === 1).length);
  const pass1 = tasks.length > 0 ? tasks.reduce((a, t, i) => a + firstSolved[i]! / t.tests, 0) / tasks.length : 0;
  const pass1Solved = firstSolved.reduce((a, b) => a + b, 0);
  return {
    score: s.score,
    outputScore: s.outputScore,
    pass1,
    pass1Output: s.totalOutputs > 0 ? pass1Solved / s.totalOutputs : 0,
    solvedOutputs: s.solvedOutputs,
    totalOutputs: s.totalOutputs,
    tasks,
    unscored,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** The per-task table and the two averages, as printed after a run. */
export function scoreTable(report: ScoreReport): string {
  const width = Math.max(4, ...report.tasks.map((t) => t.taskId.length));
  const rows = report.tasks.map((t) => {
    const matched = t.matched.map((m) => (m === null ? '-' : String(m))).join(' ');
    return `${t.taskId.padEnd(width)}  ${String(t.tests).padStart(5)}  ${matched.padEnd(9)}  ${t.score.toFixed(3).padStart(5)}${t.status === 'solved' ? '' : `  (${t.status})`}`;
  });
  const solvedTasks = report.tasks.filter((t) => t.score === 1).length;
  const lines = [
    `${'task'.padEnd(width)}  tests  attempts   score`,
    ...rows,
    '',
    `per task:        pass@2 ${pct(report.score)}  pass@1 ${pct(report.pass1)}  (${solvedTasks} of ${report.tasks.length} tasks fully solved)`,
    `per test output: pass@2 ${pct(report.outputScore)}  pass@1 ${pct(report.pass1Output)}  (${report.solvedOutputs} of ${report.totalOutputs} outputs)`,
  ];
  if (report.unscored.length > 0)
    lines.push(
      `not scored (no matching solution): ${report.unscored.slice(0, 20).join(', ')}${report.unscored.length > 20 ? ', ...' : ''}`,
    );
  return lines.join('\n');
}
