// Maze dataset (TRM-SPEC §6.3): 900 tokens per maze, labels = the maze with its path marked. `--augment N`
// (0..8) turns each train maze into a group of its first N dihedral transforms in the reference's numbering:
// 8 = all eight symmetries (the reference's `--aug`), 4 = the rotations (identity, 90, 180, 270), 2 = identity
// and rot90; 0 and 1 both mean the original maze only (the reference's default).
import { DIHEDRAL_NAMES, dihedral } from '../augment/dihedral.js';
import { encodeMaze, type MazeGrid, parseMazeString } from '../tasks/maze.js';
import { MAZE } from '../tasks/vocab.js';
import type { BuildSummary } from './build.js';
import { buildCsvDataset, type CsvBuildOptions, type CsvTaskSpec } from './build-csv.js';

interface MazeRow {
  question: MazeGrid;
  answer: MazeGrid;
}

function transformMaze(rows: MazeGrid, tid: number): MazeGrid {
  return dihedral(
    rows.map((r) => [...r]),
    tid,
  ).map((r) => r.join(''));
}

export const mazeTaskSpec: CsvTaskSpec<MazeRow> = {
  task: 'maze',
  seqLen: MAZE.seqLen,
  vocabSize: MAZE.vocabSize,
  maxAugment: 8,
  parse(row, where) {
    return {
      question: parseMazeString(row.question, `${where} question`),
      answer: parseMazeString(row.answer, `${where} answer`),
    };
  },
  variants({ question, answer }, augment, _rng, emit) {
    for (let tid = 0; tid < Math.max(1, augment); tid++)
      emit(encodeMaze(transformMaze(question, tid)), encodeMaze(transformMaze(answer, tid)));
  },
  describeAugment: (n) =>
    n <= 1
      ? 'No augmentation: one puzzle per train maze.'
      : `Each train maze is a group of ${n} puzzles: dihedral transforms ${DIHEDRAL_NAMES.slice(0, n).join(', ')}.`,
};

/** Builds the maze dataset from `--input` (train CSV or its folder) into `--out`. */
export function buildMazeDataset(opts: CsvBuildOptions): Promise<BuildSummary> {
  return buildCsvDataset(mazeTaskSpec, opts);
}
