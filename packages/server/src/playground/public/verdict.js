// The line under the answer that says whether it is a solution. The server holds every answer to the task's rules
// (sudoku: rows, columns and boxes, with the givens written back; maze: the path from S to G) and sends its
// `check` with each step; this only puts it into words, so the page and the API never disagree.

/** @typedef {import('./server-api.js').AnswerCheck} AnswerCheck */
/** @typedef {{ kind: 'solved' | 'invalid' | 'unchecked', text: string }} Verdict */

/** @type {Record<string, string>} */
const SOLVED = {
  sudoku: 'Solved: every row, column and box holds 1-9 exactly once.',
  maze: 'Solved: the marked path joins S to G.',
};

/**
 * @param {string} task
 * @param {{ check?: AnswerCheck, givensRestored?: number }} answer a step event or the done event
 * @returns {Verdict | null} null when the server sent no check
 */
export function verdict(task, answer) {
  const check = answer.check;
  if (check === undefined || check === null) return null;
  const restored = answer.givensRestored ?? 0;
  const note =
    restored > 0
      ? ` The model changed ${restored === 1 ? 'a given' : `${restored} givens`}; the server wrote ${restored === 1 ? 'it' : 'them'} back.`
      : '';
  if (check.valid === true) return { kind: 'solved', text: `${SOLVED[task] ?? 'Solved.'}${note}` };
  if (check.valid === false) {
    return { kind: 'invalid', text: `Not a valid solution: ${check.reason ?? 'the server did not say why'}.${note}` };
  }
  return { kind: 'unchecked', text: `Not checked: ${check.reason ?? 'the task has no rule check'}.` };
}
