// `bench:solve`: the served accuracy and latency of sudoku from a CSV (source,question,answer[,rating], as
// `generate` writes and ../shared/data/sudoku holds), through POST /solve with the server's own step rules: of a
// running server (--url), or of one started here on a model folder (--model, --ep). For each number of views and
// of clients it prints a row: solved (the answer is the CSV's solution), valid, answered through a view, halted,
// mean steps, latency p50/p99/max per puzzle, wall time; and writes the rows as JSON.
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  FlagError,
  type Grid,
  machineDescription,
  parseFlags,
  parseSudokuString,
  requiredPath,
  runCli,
} from '@trm/core';
import { benchRoot, graphFlag, integerList, quantile, writeBenchRecord } from './bench-support.js';
import { ENGINE_DEFAULTS, Engine, type GraphChoice } from '../engine/engine.js';
import { EXECUTION_PROVIDER_CHOICES } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice } from '../engine/types.js';
import { MAX_VIEWS } from '../http/schemas/solve-request.js';
import { type RunningServer, serve } from '../http/server.js';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/server bench:solve',
  summary:
    'Posts the sudoku of a CSV to POST /solve (a running server, or one started here on --model) and prints, per\n' +
    'number of views and of clients, how many came back solved and valid, how many through a view, the steps and\n' +
    'the latency per puzzle. Writes the results as JSON under bench/results/.',
  flags: [
    { name: 'csv', kind: 'path', value: '<file>', help: 'puzzles: a CSV with the columns question and answer' },
    { name: 'url', kind: 'string', value: '<url>', help: 'a running server (instead of --model)' },
    { name: 'model', kind: 'path', value: '<dir>', help: 'start a server here on this sudoku model folder' },
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDER_CHOICES, default: 'cpu', help: 'with --model: provider' },
    graphFlag('with --model: '),
    { name: 'batch', kind: 'int', min: 1, value: '<n>', help: 'with --model: engine batch size (maxBatch)' },
    { name: 'workers', kind: 'int', min: 1, value: '<n>', help: 'with --model: inference workers' },
    { name: 'steps-per-run', kind: 'int', min: 1, value: '<k>', help: "with --model: the server's --steps-per-run" },
    { name: 'limit', kind: 'int', min: 1, value: '<n>', default: 64, help: 'the first n puzzles of the CSV' },
    {
      name: 'views',
      kind: 'string',
      value: '<n,n,...>',
      default: '1,16',
      help: `views of every request, one row each (1..${MAX_VIEWS})`,
    },
    {
      name: 'clients',
      kind: 'string',
      value: '<n,n,...>',
      default: '1',
      help: 'clients, each with one puzzle in flight',
    },
    {
      name: 'max-steps',
      kind: 'int',
      min: 1,
      max: MAX_STEPS_LIMIT,
      value: '<n>',
      help: "maxSteps of every request (default: the server's, which runs an invalid answer on past the trained steps)",
    },
    { name: 'out', kind: 'path', value: '<file>', help: 'JSON output (default bench/results/solve-...json)' },
  ],
  examples: [
    'pnpm --filter @trm/server bench:solve --model models/sudoku-newspaper-mlp --csv ../shared/data/sudoku/test.csv --limit 16 --views 1,16',
    'pnpm --filter @trm/server bench:solve --url http://127.0.0.1:8080 --csv data/sudoku-newspaper/test.csv --limit 1000 --clients 16 --views 1',
  ],
};

interface Puzzle {
  grid: Grid;
  /** the solution's 81 digits */
  solution: string;
}

/** The puzzles of a question/answer CSV; errors name the row. */
function readSudokuCsv(path: string, limit: number): Puzzle[] {
  const rows = readFileSync(path, 'utf8').trim().split('\n');
  const header = rows[0]!.split(',');
  const qi = header.indexOf('question');
  const ai = header.indexOf('answer');
  if (qi < 0 || ai < 0)
    throw new FlagError(`--csv ${path}: the header must name the columns question and answer`, '--csv');
  return rows.slice(1, 1 + limit).map((line, i) => {
    const cols = line.split(',');
    const solution = cols[ai] ?? '';
    if (!/^[1-9]{81}$/.test(solution))
      throw new FlagError(`--csv ${path} row ${i + 2}: the answer must be 81 digits`, '--csv');
    return { grid: parseSudokuString(cols[qi] ?? '', `--csv row ${i + 2}`), solution };
  });
}

interface Row {
  views: number;
  clients: number;
  puzzles: number;
  solved: number;
  valid: number;
  throughView: number;
  halted: number;
  meanSteps: number;
  latencyS: { p50: number; p99: number; max: number };
  seconds: number;
}

interface SolveBody {
  answer?: Grid;
  check?: { valid: boolean | null };
  steps?: number;
  halted?: boolean;
  view?: { index: number };
}

/** POST /solve with no client-side time limit (a hard puzzle through views can take minutes on a CPU). */
function post(agent: Agent, url: URL, body: unknown): Promise<{ status: number; body: SolveBody }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request(
      new URL('/solve', url),
      {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as SolveBody });
          } catch {
            reject(new Error(`POST /solve answered ${res.statusCode} with no JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function measure(
  url: URL,
  puzzles: readonly Puzzle[],
  views: number,
  clients: number,
  maxSteps: number | undefined,
): Promise<Row> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const latency: number[] = [];
  let solved = 0;
  let valid = 0;
  let throughView = 0;
  let halted = 0;
  let steps = 0;
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    while (next < puzzles.length) {
      const p = puzzles[next++]!;
      const started = performance.now();
      const r = await post(agent, url, { task: 'sudoku', grid: p.grid, views, ...(maxSteps ? { maxSteps } : {}) });
      latency.push((performance.now() - started) / 1000);
      if (r.status !== 200 || !r.body.answer)
        throw new Error(`POST /solve answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      if (r.body.answer.flat().join('') === p.solution) solved++;
      if (r.body.check?.valid === true) valid++;
      if ((r.body.view?.index ?? 0) > 0) throughView++;
      if (r.body.halted) halted++;
      steps += r.body.steps ?? 0;
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, client));
  } finally {
    agent.destroy();
  }
  latency.sort((a, b) => a - b);
  return {
    views,
    clients,
    puzzles: puzzles.length,
    solved,
    valid,
    throughView,
    halted,
    meanSteps: steps / puzzles.length,
    latencyS: { p50: quantile(latency, 0.5), p99: quantile(latency, 0.99), max: latency.at(-1)! },
    seconds: (performance.now() - t0) / 1000,
  };
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)} %`;

function tableRow(r: Row): string {
  return (
    `| ${r.views} | ${r.clients} | ${r.puzzles} | ${pct(r.solved, r.puzzles)} | ${pct(r.valid, r.puzzles)} | ` +
    `${r.throughView} | ${r.halted} | ${r.meanSteps.toFixed(2)} | ${r.latencyS.p50.toFixed(2)} | ` +
    `${r.latencyS.p99.toFixed(2)} | ${r.latencyS.max.toFixed(2)} | ${r.seconds.toFixed(1)} |`
  );
}

async function benchSolve(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const csv = requiredPath(f, 'csv', { exists: true });
  if ((f.url === undefined) === (f.model === undefined))
    throw new FlagError('give either --url (a running server) or --model (a server started here)', '--url');
  const views = integerList('views', f.views as string);
  const bad = views.find((v) => v > MAX_VIEWS);
  if (bad !== undefined) throw new FlagError(`--views must be at most ${MAX_VIEWS} (got ${bad})`, '--views');
  const clients = integerList('clients', f.clients as string);
  const puzzles = readSudokuCsv(csv, f.limit as number);
  let server: RunningServer | null = null;
  let url: URL;
  let where: string;
  if (f.model !== undefined) {
    const engine = await Engine.start({
      modelDir: requiredPath(f, 'model', { exists: true }),
      executionProvider: f.ep as ExecutionProviderChoice,
      graph: f.graph as GraphChoice,
      ...(f.batch !== undefined ? { maxBatch: f.batch as number } : {}),
      ...(f.workers !== undefined ? { workers: f.workers as number } : {}),
      ...(f['steps-per-run'] !== undefined ? { stepsPerRun: f['steps-per-run'] as number } : {}),
      maxQueue: Math.max(ENGINE_DEFAULTS.maxQueue, MAX_VIEWS * Math.max(...clients)),
      queueTimeoutMs: 0, // a slow provider must not time the queued copies out
    });
    server = await serve(engine, { port: 0, signals: [], playgroundDir: null, info: () => {} });
    url = new URL(server.url);
    const i = engine.info;
    where = `${f.model as string} on ${i.executionProvider} (${i.providerNotes.join('; ')}), ${i.workers} x batch ${i.maxBatch}`;
  } else {
    try {
      url = new URL(f.url as string);
    } catch {
      throw new FlagError(`--url must be a URL such as http://127.0.0.1:8080 (got "${f.url as string}")`, '--url');
    }
    where = url.href;
  }
  const rows: Row[] = [];
  try {
    io.err(`bench:solve ${puzzles.length} puzzles of ${csv} on ${where}; ${machineDescription()}`);
    // One puzzle first, unmeasured: the session's first runs and the connections.
    await measure(url, puzzles.slice(0, 1), 1, 1, f['max-steps'] as number | undefined);
    for (const v of views)
      for (const c of clients) {
        const row = await measure(url, puzzles, v, c, f['max-steps'] as number | undefined);
        rows.push(row);
        io.err(
          `  views ${v}, ${c} client(s): ${pct(row.solved, row.puzzles)} solved, p50 ${row.latencyS.p50.toFixed(2)} s`,
        );
      }
  } finally {
    await server?.shutdown();
  }
  const head =
    '| views | clients | puzzles | solved | valid | through a view | halted | mean steps | p50 s | p99 s | slowest s | seconds |';
  io.out([head, head.replace(/[^|]+/g, '---'), ...rows.map(tableRow)].join('\n'));
  const out =
    (f.out as string | undefined) ??
    join(benchRoot(), 'results', `solve-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeBenchRecord(
    out,
    { bench: 'solve', argv, csv, server: where, machine: machineDescription(), maxSteps: f['max-steps'] ?? null, rows },
    io,
  );
}

await runCli(spec, benchSolve);
