// Posts the sudoku puzzles of a CSV (source,question,answer[,rating], as `generate` writes) to a running server's
// POST /solve and prints how many came back solved: the served accuracy, with the server's own step rules.
//   pnpm exec tsx scripts/solve-csv.ts --csv data/sudoku-newspaper/test.csv [--url http://127.0.0.1:8080]
//     [--limit 1000] [--clients 16] [--max-steps N] [--views N]
// With views (the server's default or --views), it also counts the puzzles answered through a view and prints the
// median and the slowest time of one puzzle.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    csv: { type: 'string' },
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    limit: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    'max-steps': { type: 'string' },
    views: { type: 'string' },
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
const views = a.views === undefined ? undefined : Number(a.views);
if (!(Number.isInteger(limit) && limit >= 1)) fail(`--limit must be an integer >= 1 (got ${a.limit})`);
if (!(Number.isInteger(clients) && clients >= 1)) fail(`--clients must be an integer >= 1 (got ${a.clients})`);
if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 1))
  fail(`--max-steps must be an integer >= 1 (got ${a['max-steps']})`);
if (views !== undefined && !(Number.isInteger(views) && views >= 1))
  fail(`--views must be an integer >= 1 (got ${a.views})`);

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

/** POST /solve with no client-side time limit (a hard puzzle through views can take minutes on a CPU). */
function post(body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      `${a.url}/solve`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

let solved = 0;
let valid = 0;
let halted = 0;
let steps = 0;
let throughView = 0;
const seconds: number[] = [];
let next = 0;
const t0 = performance.now();
async function client(): Promise<void> {
  while (next < puzzles.length) {
    const p = puzzles[next++]!;
    const body = {
      task: 'sudoku',
      grid: p.grid,
      ...(maxSteps === undefined ? {} : { maxSteps }),
      ...(views === undefined ? {} : { views }),
    };
    const started = performance.now();
    const r = await post(body);
    const j = r.json as {
      answer?: number[][];
      check?: { valid: boolean };
      steps?: number;
      halted?: boolean;
      view?: { index: number };
    };
    seconds.push((performance.now() - started) / 1000);
    if (r.status !== 200 || !j.answer) fail(`POST /solve answered ${r.status}: ${JSON.stringify(j).slice(0, 200)}`);
    if (j.answer!.flat().join('') === p.answer) solved++;
    if (j.check?.valid) valid++;
    if (j.halted) halted++;
    steps += j.steps ?? 0;
    if ((j.view?.index ?? 0) > 0) throughView++;
  }
}
await Promise.all(Array.from({ length: clients }, client));
const n = puzzles.length;
const pct = (x: number) => `${((100 * x) / n).toFixed(1)} %`;
seconds.sort((x, y) => x - y);
process.stdout.write(
  '| puzzles | maxSteps | views | solved | valid | through a view | halted | mean steps | median s | slowest s | seconds |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|\n' +
    `| ${n} | ${maxSteps ?? 'default'} | ${views ?? 'default'} | ${pct(solved)} | ${pct(valid)} | ${throughView} | ${halted} | ` +
    `${(steps / n).toFixed(2)} | ${seconds[Math.floor(n / 2)]!.toFixed(1)} | ${seconds[n - 1]!.toFixed(1)} | ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} |\n`,
);
