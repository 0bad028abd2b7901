// The rules of a maze answer (rows over "# SGo", as the maze codec reads them): the walls, S and G stay where the
// maze has them, and the path cells ('o', token 5) join S to G through free cells, moving up, down, left or right.
// Reasons count rows and columns from 1, as a person reads the grid. The check asks for a connection, not for a
// shortest or unbranched path (check/maze.ts scores those against a reference label).
import type { MazeGrid } from './maze.js';
import type { RuleCheck } from './rule-check.js';

const FIXED = '#SG';

function cellName(ch: string): string {
  if (ch === '#') return 'a wall';
  if (ch === ' ') return 'open';
  if (ch === 'o') return 'path';
  return ch;
}

function at(i: number, width: number): string {
  return `row ${Math.floor(i / width) + 1}, column ${(i % width) + 1}`;
}

/** Whether `answer` solves the maze `question`; the reason names the first rule it breaks. */
export function checkMazeRules(question: MazeGrid, answer: MazeGrid): RuleCheck {
  const width = question[0]?.length ?? 0;
  if (answer.length !== question.length || answer.some((row) => row.length !== width)) {
    return { valid: false, reason: `the answer is not ${question.length}x${width} like the maze` };
  }
  const q = question.join('');
  const a = answer.join('');
  for (const mark of ['S', 'G']) {
    const count = q.split(mark).length - 1;
    if (count !== 1)
      return { valid: false, reason: count === 0 ? `the maze has no ${mark}` : `the maze has ${count} ${mark}s` };
  }
  const start = q.indexOf('S');
  const goal = q.indexOf('G');
  for (let i = 0; i < q.length; i++) {
    const was = q[i]!;
    const now = a[i]!;
    if (was === now || (!FIXED.includes(was) && !FIXED.includes(now))) continue;
    let reason: string;
    if (was === '#') reason = `the wall at ${at(i, width)} was changed to ${cellName(now)}`;
    else if (was === 'S' || was === 'G') reason = `${was} at ${at(i, width)} was changed to ${cellName(now)}`;
    else if (now === '#') reason = `${at(i, width)} (${cellName(was)} in the maze) became a wall`;
    else {
      const which = now === 'S' ? 'an S' : 'a G';
      reason = `${which} appeared at ${at(i, width)} (the maze has it at ${at(now === 'S' ? start : goal, width)})`;
    }
    return { valid: false, reason };
  }
  // Walls, S and G are as in the maze, so every 'o' is on a free cell: walk from S along path cells to G.
  const height = question.length;
  const onPath = (i: number) => a[i] === 'o' || i === goal;
  const neighbours = (i: number) => {
    const r = Math.floor(i / width);
    const c = i % width;
    const out: number[] = [];
    if (r > 0) out.push(i - width);
    if (r < height - 1) out.push(i + width);
    if (c > 0) out.push(i - 1);
    if (c < width - 1) out.push(i + 1);
    return out;
  };
  const seen = new Uint8Array(a.length);
  const queue = [start];
  seen[start] = 1;
  for (let head = 0; head < queue.length; head++) {
    for (const j of neighbours(queue[head]!)) {
      if (seen[j] || !onPath(j)) continue;
      if (j === goal) return { valid: true };
      seen[j] = 1;
      queue.push(j);
    }
  }
  if (!a.includes('o')) return { valid: false, reason: "the answer marks no path ('o' cells) from S to G" };
  if (queue.length === 1) return { valid: false, reason: `no path cell ('o') is next to S at ${at(start, width)}` };
  if (!neighbours(goal).some((j) => a[j] === 'o'))
    return { valid: false, reason: `no path cell ('o') is next to G at ${at(goal, width)}` };
  return { valid: false, reason: "the path cells ('o') from S do not reach G" };
}
