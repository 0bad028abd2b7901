// Views of a puzzle for answering it: the same puzzle under a symmetry of its task that maps solutions to
// solutions (sudoku: a digit relabelling with a transpose and band/row/stack/column permutations, as the training
// augmentation draws them; maze: the 8 symmetries of the square). A model that answers a puzzle wrongly may answer
// one of its views rightly; mapped back to the puzzle's frame, a view's answer that satisfies the task's rules
// answers the puzzle (a well-posed sudoku has exactly one solution). ARC has no rule check, so no views here: its
// answers are chosen by voting over augmented tasks instead (`solve-arc`).
//
// A view works on token rows: output cell i reads input cell source[i], and every token passes through `tokens`
// (the digit relabelling; the identity on other tokens). `back` undoes both.
import { checkMazeAnswer } from '../check/maze.js';
import { isValidSudokuSolution } from '../check/sudoku.js';
import { decodeMaze } from '../tasks/maze.js';
import { decodeSudoku } from '../tasks/sudoku.js';
import { MAZE, SUDOKU, type TaskName } from '../tasks/vocab.js';
import { Rng } from '../util/random.js';
import { DIHEDRAL_NAMES, dihedral } from './dihedral.js';
import { randomSudokuShuffle, type SudokuShuffle } from './sudoku.js';

export interface PuzzleView {
  /** what the view is, for logs: "identity", "sudoku shuffle", "rot90", ... */
  name: string;
  /** output cell i of the view reads cell source[i] of the puzzle */
  source: Int32Array;
  /** token t of the puzzle is token tokens[t] in the view */
  tokens: Int32Array;
  /** the inverse of `tokens` */
  tokensBack: Int32Array;
}

/** Most views a maze has (its 8 symmetries); sudoku has more than anyone asks for. */
export const MAX_MAZE_VIEWS = 8;

function identityTokens(vocab: number): Int32Array {
  return Int32Array.from({ length: vocab }, (_, t) => t);
}

function identityView(cells: number, vocab: number): PuzzleView {
  const tokens = identityTokens(vocab);
  return { name: 'identity', source: Int32Array.from({ length: cells }, (_, i) => i), tokens, tokensBack: tokens };
}

/** A sudoku shuffle as a view of the 81 tokens (the same cells and digits as `applySudokuShuffle`). */
export function sudokuView(s: SudokuShuffle): PuzzleView {
  const source = new Int32Array(81);
  for (let i = 0; i < 9; i++)
    for (let j = 0; j < 9; j++) {
      const r = s.rows[i]!;
      const c = s.cols[j]!;
      source[i * 9 + j] = s.transpose ? c * 9 + r : r * 9 + c;
    }
  const tokens = identityTokens(SUDOKU.vocabSize);
  const tokensBack = identityTokens(SUDOKU.vocabSize);
  for (let d = 1; d <= 9; d++) {
    tokens[d + SUDOKU.digitOffset] = s.digits[d]! + SUDOKU.digitOffset;
    tokensBack[s.digits[d]! + SUDOKU.digitOffset] = d + SUDOKU.digitOffset;
  }
  return { name: 'sudoku shuffle', source, tokens, tokensBack };
}

/** Symmetry `tid` of the square (dihedral numbering) as a view of a side x side maze. */
export function mazeView(tid: number, side = MAZE.side): PuzzleView {
  const index = Array.from({ length: side }, (_, r) => Array.from({ length: side }, (_, c) => r * side + c));
  const tokens = identityTokens(MAZE.vocabSize);
  return {
    name: DIHEDRAL_NAMES[tid]!,
    source: Int32Array.from(dihedral(index, tid).flat()),
    tokens,
    tokensBack: tokens,
  };
}

/**
 * `count` views of every puzzle of `task`, the first the puzzle itself. Sudoku views are drawn from `seed` (the
 * same views for every puzzle: which of them helps depends on the puzzle, not on the draw); maze views are the
 * first `count` symmetries in the dihedral numbering.
 */
export function puzzleViews(task: TaskName, count: number, seed = 0): PuzzleView[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`views: count must be an integer >= 1 (got ${count})`);
  if (task === 'sudoku') {
    const rng = new Rng(seed);
    const out = [identityView(SUDOKU.seqLen, SUDOKU.vocabSize)];
    while (out.length < count) out.push(sudokuView(randomSudokuShuffle(rng)));
    return out;
  }
  if (task === 'maze') {
    if (count > MAX_MAZE_VIEWS)
      throw new RangeError(
        `views: a maze has ${MAX_MAZE_VIEWS} symmetries, so at most ${MAX_MAZE_VIEWS} views (got ${count})`,
      );
    return Array.from({ length: count }, (_, tid) => mazeView(tid));
  }
  throw new RangeError(
    `views: ${task} answers cannot be checked against rules, so it has no views (use solve-arc's voting)`,
  );
}

/** The view of a row of puzzle tokens. */
export function toView(view: PuzzleView, row: ArrayLike<number>): Int32Array {
  const n = view.source.length;
  if (row.length !== n) throw new RangeError(`view of ${row.length} tokens, expected ${n}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = row[view.source[i]!]!;
    out[i] = t >= 0 && t < view.tokens.length ? view.tokens[t]! : t;
  }
  return out;
}

/** A row of tokens in the view's frame (a model's answer to the view) back in the puzzle's frame. */
export function fromView(view: PuzzleView, row: ArrayLike<number>): Int32Array {
  const n = view.source.length;
  if (row.length !== n) throw new RangeError(`answer of ${row.length} tokens, expected ${n}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = row[i]!;
    out[view.source[i]!] = t >= 0 && t < view.tokensBack.length ? view.tokensBack[t]! : t;
  }
  return out;
}

/**
 * Whether `answer` (tokens) satisfies the rules of `task` for the puzzle `question` (tokens): sudoku, a complete
 * grid with every row, column and box holding 1..9 once that keeps every given; maze, one S-to-G path through
 * free cells and nothing else changed. ARC has no rules to check: throws.
 */
export function answerFollowsRules(task: TaskName, question: ArrayLike<number>, answer: ArrayLike<number>): boolean {
  if (task === 'sudoku') return isValidSudokuSolution(decodeSudoku(question), decodeSudoku(answer));
  if (task === 'maze') return checkMazeAnswer(decodeMaze(question), decodeMaze(answer)).valid;
  throw new RangeError(`${task} answers cannot be checked against rules`);
}
