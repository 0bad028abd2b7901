// Checks a model's answer against the puzzle it was given, so the page can say in words whether the answer is a
// solution: a model can halt confidently on a wrong grid. Sudoku: every row, column and box holds 1-9 once and
// the givens are kept. Maze: the marked cells join S to G along a shortest path and nothing else changed. ARC
// answers have no rule to check without the task's solution, so there is no verdict for them.
import { MAZE_CELL } from './tasks.js';

/** @typedef {import('./tasks.js').Grid} Grid */
/** @typedef {{ solved: boolean, text: string }} Verdict */

/**
 * @param {import('./tasks.js').TaskName} task @param {Grid} puzzle @param {Grid} answer
 * @returns {Verdict | null}
 */
export function checkAnswer(task, puzzle, answer) {
  if (task === 'sudoku') return checkSudoku(puzzle, answer);
  if (task === 'maze') return checkMaze(puzzle, answer);
  return null;
}

/** @param {Grid} puzzle @param {Grid} answer @returns {Verdict} */
export function checkSudoku(puzzle, answer) {
  if (answer.length !== 9 || answer.some((row) => row.length !== 9)) {
    return { solved: false, text: 'Not solved: the answer is not a 9x9 grid.' };
  }
  let givens = 0;
  let givensChanged = 0;
  let blanks = 0;
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < 9; c++) {
      if (answer[r][c] === 0) blanks++;
      if (puzzle[r][c] !== 0) {
        givens++;
        if (answer[r][c] !== puzzle[r][c]) givensChanged++;
      }
    }
  }
  let badUnits = 0;
  for (let u = 0; u < 9; u++) {
    const row = answer[u];
    const col = answer.map((r) => r[u]);
    const box = [];
    for (let i = 0; i < 9; i++) box.push(answer[3 * Math.floor(u / 3) + Math.floor(i / 3)][3 * (u % 3) + (i % 3)]);
    for (const unit of [row, col, box]) if (!isPermutationOfDigits(unit)) badUnits++;
  }
  if (badUnits === 0 && blanks === 0 && givensChanged === 0) {
    return {
      solved: true,
      text: `Solved: every row, column and box holds 1-9 once, and all ${givens} givens are kept.`,
    };
  }
  const problems = [];
  if (badUnits > 0) problems.push(`${plural(badUnits, 'row, column or box', 'rows, columns or boxes')} break the rule`);
  if (blanks > 0) problems.push(`${plural(blanks, 'cell is', 'cells are')} blank`);
  if (givensChanged > 0) problems.push(`${plural(givensChanged, 'given was', 'givens were')} changed`);
  return { solved: false, text: `Not solved: ${problems.join('; ')}.` };
}

/** @param {number[]} unit */
function isPermutationOfDigits(unit) {
  let seen = 0;
  for (const v of unit) {
    if (v < 1 || v > 9) return false;
    seen |= 1 << v;
  }
  return seen === 0b1111111110;
}

/** @param {Grid} puzzle @param {Grid} answer @returns {Verdict} */
export function checkMaze(puzzle, answer) {
  const rows = puzzle.length;
  const cols = puzzle[0].length;
  if (answer.length !== rows || answer.some((row) => row.length !== cols)) {
    return { solved: false, text: `Not solved: the answer is not a ${rows}x${cols} grid.` };
  }
  const find = (/** @type {number} */ code) => {
    const cells = [];
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (puzzle[r][c] === code) cells.push(r * cols + c);
    return cells;
  };
  const starts = find(MAZE_CELL.START);
  const goals = find(MAZE_CELL.GOAL);
  if (starts.length !== 1 || goals.length !== 1) {
    return { solved: false, text: 'No verdict: the maze needs exactly one start (S) and one goal (G).' };
  }
  const at = (/** @type {Grid} */ g, /** @type {number} */ i) => g[Math.floor(i / cols)][i % cols];
  let changed = 0;
  let marked = 0;
  for (let i = 0; i < rows * cols; i++) {
    const before = at(puzzle, i);
    const after = at(answer, i);
    if (after === MAZE_CELL.PATH) {
      marked++;
      if (before !== MAZE_CELL.OPEN) changed++;
    } else if (after !== before) changed++;
  }
  const shortest = distance(puzzle, starts[0], goals[0], (v) => v !== MAZE_CELL.WALL);
  const along = distance(answer, starts[0], goals[0], (v) => v === MAZE_CELL.PATH || v === MAZE_CELL.GOAL);
  if (shortest < 0) return { solved: false, text: 'No verdict: G cannot be reached from S in this maze.' };
  if (along === shortest && marked === shortest - 1 && changed === 0) {
    return { solved: true, text: `Solved: the marked path joins S to G in ${shortest} steps, the shortest possible.` };
  }
  const problems = [];
  if (along < 0) problems.push('the marked cells do not join S to G');
  else if (along > shortest) problems.push(`the marked path takes ${along} steps where ${shortest} would do`);
  if (along >= 0 && marked !== along - 1)
    problems.push(`${plural(marked - along + 1, 'extra cell is', 'extra cells are')} marked`);
  if (changed > 0)
    problems.push(`${plural(changed, 'wall, start or goal cell was', 'wall, start or goal cells were')} changed`);
  if (along < 0)
    problems.push(`${plural(marked, 'cell is', 'cells are')} marked; the shortest path has ${shortest} steps`);
  return { solved: false, text: `Not solved: ${problems.join('; ')}.` };
}

/**
 * Steps of the shortest 4-neighbour walk from `from` to `to` through cells that `enter` accepts, or -1.
 * @param {Grid} grid @param {number} from @param {number} to @param {(v: number) => boolean} enter
 */
function distance(grid, from, to, enter) {
  const rows = grid.length;
  const cols = grid[0].length;
  const dist = new Int32Array(rows * cols).fill(-1);
  const queue = [from];
  dist[from] = 0;
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head];
    if (i === to) return dist[i];
    const r = Math.floor(i / cols);
    const c = i % cols;
    for (const [nr, nc] of [
      [r - 1, c],
      [r + 1, c],
      [r, c - 1],
      [r, c + 1],
    ]) {
      if (nr < 0 || nc < 0 || nr >= rows || nc >= cols) continue;
      const j = nr * cols + nc;
      if (dist[j] >= 0 || !enter(grid[nr][nc])) continue;
      dist[j] = dist[i] + 1;
      queue.push(j);
    }
  }
  return -1;
}

/** @param {number} n @param {string} one @param {string} many */
function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
