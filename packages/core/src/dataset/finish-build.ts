// The last act of every dataset builder: write the dataset's README, move the finished folder into place, and
// report (notes, then the summary line). Shared so that every task's build ends and reports the same way.
import { type BuildSummary, type DatasetTask, summaryLine } from './build.js';
import { README_FILE } from './layout.js';
import type { DatasetBuildInfo } from './metadata.js';
import { datasetReadme } from './readme.js';
import type { SplitSummary } from './split-writer.js';
import type { DatasetWriter } from './writer.js';

export function finishBuild(
  writer: DatasetWriter,
  o: {
    task: DatasetTask;
    splits: SplitSummary[];
    notes: string[];
    build: DatasetBuildInfo;
    started: number;
    log: (line: string) => void;
  },
): BuildSummary {
  const summary: BuildSummary = {
    task: o.task,
    out: writer.outDir,
    splits: o.splits,
    examples: o.splits.reduce((a, s) => a + s.examples, 0),
    puzzles: o.splits.reduce((a, s) => a + s.puzzles, 0),
    groups: o.splits.reduce((a, s) => a + s.groups, 0),
    bytes: 0,
    seconds: 0,
    notes: o.notes,
  };
  writer.writeText(README_FILE, datasetReadme(summary, o.build));
  writer.commit();
  summary.bytes = writer.bytes();
  summary.seconds = (performance.now() - o.started) / 1000;
  for (const n of o.notes) o.log(`note: ${n}`);
  o.log(summaryLine(summary));
  return summary;
}
