// Posts the sudoku puzzles of a CSV (source,question,answer[,rating], as `generate` writes) to a running server's
// POST /solve and prints how many came back solved: the served accuracy, with the server's own step rules.
//   pnpm exec tsx scripts/solve-csv.ts --csv data/sudoku-newspaper/test.csv [--url http://127.0.0.1:8080]
//     [--limit 1000] [--clients 16] [--max-steps N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    csv: { type: 'string' },
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    limit: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    'max-steps': { type: 'string' },
  },
});
const fail = (m: string): never => {
  process.stderr.write(`solve-csv: ${m}\n`);
  process.exit(2);
};
if (!a.csv) fail('--csv <file> is required');
const limit = Number(a.limit);
const clients = Number(a.clients);
const maxSteps = a['max-steps'] === undefined ? undefined : Number(a['max-steps']);
if (!(Number.isInteger(limit) && limit >= 1)) fail(`--limit must be an integer >= 1 (got ${a.limit})`);
if (!(Number.isInteger(clients) && clients >= 1)) fail(`--clients must be an integer >= 1 (got ${a.clients})`);
if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 1))
  fail(`--max-steps must be an integer >= 1 (got ${a['max-steps']})`);

const rows = readFileSync(a.csv!, 'utf8').trim().split('\n');
const header = rows[0]!.split(',');
const qi = header.indexOf('question');
const ai = header.indexOf('answer');
if (qi < 0 || ai < 0) fail(`${a.csv}: the header must name the columns question and answer`);
const puzzles = rows.slice(1, 1 + limit).map((line, i) => {
  const cols = line.split(',');
  const q = cols[qi]!;
  const answer = cols[ai]!;
  if (q.length !== 81 || answer.length !== 81) fail(`${a.csv} row ${i + 2}: question and answer need 81 cells`);
  const grid = Array.from({ length: 9 }, (_, r) =>
    Array.from(q.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' || ch === '0' ? 0 : Number(ch))),
  );
  return { grid, answer };
});

let solved = 0;
let valid = 0;
let halted = 0;
let steps = 0;
let next = 0;
const t0 = performance.now();
async function client(): Promise<void> {
  while (next < puzzles.length) {
    const p = puzzles[next++]!;
    const body = { task: 'sudoku', grid: p.grid, ...(maxSteps === undefined ? {} : { maxSteps }) };
    const r = await fetch(`${a.url}/solve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const j = (await r.json()) as { answer?: number[][]; check?: { valid: boolean }; steps?: number; halted?: boolean };
    if (r.status !== 200 || !j.answer) fail(`POST /solve answered ${r.status}: ${JSON.stringify(j).slice(0, 200)}`);
    if (j.answer!.flat().join('') === p.answer) solved++;
    if (j.check?.valid) valid++;
    if (j.halted) halted++;
    steps += j.steps ?? 0;
  }
}
await Promise.all(Array.from({ length: clients }, client));
const n = puzzles.length;
const pct = (x: number) => `${((100 * x) / n).toFixed(1)} %`;
process.stdout.write(
  `| puzzles | maxSteps | solved | valid | halted | mean steps | seconds |\n|---|---|---|---|---|---|---|\n` +
    `| ${n} | ${maxSteps ?? 'default'} | ${pct(solved)} | ${pct(valid)} | ${halted} | ${(steps / n).toFixed(2)} | ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} |\n`,
);
