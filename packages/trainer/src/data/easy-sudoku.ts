// Easy sudoku held in memory, for the learning check and CPU demos: core's generator with many givens (e.g. 3-6
// blanks, each puzzle with a unique solution), in the dataset layout of TRM-SPEC §6.2 (blank = 1, digit d = d + 1,
// labels = the whole solution, one example per puzzle and one puzzle per group, every puzzle id 0). With so few
// blanks most are the last empty cell of their row, column or box: learnable in minutes, yet it takes the rule.
import { generateSudoku, type Rng, SUDOKU } from '@trm/core';
import type { InMemorySplit } from './split.js';

export interface SudokuPair {
  /** 81 characters, '.' or '0' for a blank */
  question: string;
  /** 81 digits */
  answer: string;
}

/** A split from question/answer strings. */
export function sudokuSplit(pairs: readonly SudokuPair[]): InMemorySplit {
  const S = SUDOKU.seqLen;
  const n = pairs.length;
  const inputs = new Uint8Array(n * S);
  const labels = new Uint8Array(n * S);
  pairs.forEach(({ question, answer }, k) => {
    if (!/^[1-9]{81}$/.test(answer))
      throw new Error(`answer ${k} must be 81 digits 1-9 (got "${answer.slice(0, 90)}")`);
    if (!/^[.0-9]{81}$/.test(question))
      throw new Error(`question ${k} must be 81 of '.', 0-9 (got "${question.slice(0, 90)}")`);
    for (let i = 0; i < S; i++) {
      labels[k * S + i] = answer.charCodeAt(i) - 48 + SUDOKU.digitOffset;
      const q = question[i] === '.' ? 0 : question.charCodeAt(i) - 48;
      inputs[k * S + i] = q === 0 ? SUDOKU.BLANK : q + SUDOKU.digitOffset;
    }
  });
  const upTo = Int32Array.from({ length: n + 1 }, (_, i) => i);
  return {
    metadata: { seq_len: S, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
    inputs,
    labels,
    puzzleIndices: upTo,
    groupIndices: upTo.slice(),
    puzzleIdentifiers: new Int32Array(n),
    numExamples: n,
  };
}

/** `count` generated puzzles with between blanks[0] and blanks[1] blank cells each (unique solutions). */
export function easySudoku(count: number, blanks: readonly [number, number], rng: Rng): SudokuPair[] {
  const [lo, hi] = blanks;
  return Array.from({ length: count }, () => generateSudoku(rng, { givens: [81 - hi, 81 - lo] }));
}
