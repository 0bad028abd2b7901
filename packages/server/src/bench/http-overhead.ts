// `bench:http`: what HTTP costs. The same engine is called directly and through POST /solve over loopback
// (keep-alive), for each number of concurrent clients, in rounds that alternate the two paths; prints a table of
// throughput, latency and the difference per request, and writes the results as JSON under bench/results/.
import { Agent } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BLANK_IDENTIFIER,
  type CliSpec,
  type CommandIo,
  decodeSudoku,
  encodeSudoku,
  FlagError,
  type FlagValues,
  type Grid,
  generateSudoku,
  getPreset,
  machineDescription,
  type ModelConfig,
  parseFlags,
  parseSudokuString,
  Rng,
  readModelConfig,
  restoreSudokuGivens,
  runCli,
} from '@trm/core';
import { GRAPH_DTYPES, type GraphDtype, parseOps } from '@trm/exporter';
import { benchRoot, integerList, presetFolder, quantile, writeBenchRecord } from './bench-support.js';
import { ENGINE_DEFAULTS, Engine } from '../engine/engine.js';
import { EXECUTION_PROVIDER_CHOICES } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice, SolveRequest } from '../engine/types.js';
import { DEFAULT_HALT_THRESHOLD } from '../http/schemas/solve-request.js';
import { type RunningServer, serve } from '../http/server.js';
import { sendRequest } from '../testing/client.js';

const DEFAULT_MODEL = 'models/sudoku-small-mlp';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/server bench:http',
  summary:
    'Measures the HTTP overhead of the server: the same engine called directly and through POST /solve over\n' +
    'loopback (keep-alive), for each number of concurrent clients: puzzles/s, latency p50/p99, and the\n' +
    'difference per request. Writes the results as JSON under bench/results/.',
  flags: [
    {
      name: 'model',
      kind: 'path',
      value: '<dir>',
      help: `sudoku model folder (config.json + model.onnx) (default: ${DEFAULT_MODEL} at the repo root)`,
    },
    {
      name: 'preset',
      kind: 'string',
      value: '<name>',
      help: 'instead of --model: a sudoku preset with random weights (e.g. sudoku-mlp, the paper size)',
    },
    { name: 'dtype', kind: 'enum', choices: GRAPH_DTYPES, default: 'fp32', help: 'graph variant of --preset' },
    {
      name: 'ops',
      kind: 'string',
      value: '<k=v,...>',
      help: "op choices of --preset's graph (the exporter's --ops), e.g. silu=op,mlpTPad=align8",
    },
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDER_CHOICES, default: 'cpu', help: 'execution provider' },
    {
      name: 'concurrency',
      kind: 'string',
      value: '<n,n,...>',
      default: '1,8,64',
      help: 'clients, each with one puzzle in flight',
    },
    {
      name: 'requests',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 1024,
      help: 'puzzles per path and number of clients, over all rounds (at least 2 per client and round)',
    },
    {
      name: 'rounds',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 2,
      help: 'rounds that alternate the two paths (results are pooled)',
    },
    {
      name: 'givens',
      kind: 'string',
      value: '<lo..hi>',
      default: '40..60',
      help: 'givens of the generated sudoku',
    },
    {
      name: 'steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: MAX_STEPS_LIMIT,
      help: `maxSteps of every request (1..${MAX_STEPS_LIMIT})`,
    },
    {
      name: 'halt-threshold',
      kind: 'number',
      min: 0,
      value: '<p>',
      default: DEFAULT_HALT_THRESHOLD,
      help: 'haltThreshold of every request; 1 runs all steps',
    },
    {
      name: 'batch',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: ENGINE_DEFAULTS.maxBatch,
      help: 'engine batch size (maxBatch)',
    },
    { name: 'workers', kind: 'int', min: 1, value: '<n>', default: 1, help: 'inference worker threads' },
    {
      name: 'steps-per-run',
      kind: 'int',
      min: 1,
      value: '<k>',
      default: 1,
      help: "supervision steps per run of the graph (the server's --steps-per-run)",
    },
    {
      name: 'threads',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: 'CPU provider threads per worker (default: all cores)',
    },
    { name: 'seed', kind: 'int', min: 0, value: '<n>', default: 1, help: 'seed of the generated sudoku' },
    { name: 'out', kind: 'path', value: '<file>', help: 'JSON output (default bench/results/http-overhead-...json)' },
  ],
  examples: [
    'pnpm --filter @trm/server bench:http --ep cpu --concurrency 1,8,64',
    'pnpm --filter @trm/server bench:http --model models/sudoku-small-mlp --halt-threshold 1 --steps 8 --requests 256',
  ],
};

type PathName = 'engine' | 'http';

/** One puzzle answered by either path: what the comparison and the table need. */
interface Answer {
  steps: number;
  /** the answer grid as JSON, to check that both paths answer alike */
  grid: string;
  /** the server's own timing.totalMs (HTTP only) */
  serverMs?: number;
}

/** Samples of one path at one number of clients, pooled over the rounds. */
interface Samples {
  latencies: number[];
  serverMs: number[];
  steps: number;
  seconds: number;
  answers: Map<number, string>;
}

interface PathResult {
  puzzles: number;
  seconds: number;
  puzzlesPerSecond: number;
  meanSteps: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** HTTP only: the server's timing.totalMs (from the request reaching express to the answer being built) */
  serverTotalMs?: { p50: number; mean: number };
}

interface PointResult {
  concurrency: number;
  engine: PathResult;
  http: PathResult;
  /**
   * HTTP minus engine: latency per request (ms, and % of the engine's), throughput (%), and the time per puzzle at
   * full load (1/throughput, ms): what each request costs the server's busy CPU rather than its wait.
   */
  overhead: {
    p50Ms: number;
    p50Pct: number;
    meanMs: number;
    meanPct: number;
    throughputPct: number;
    perPuzzleMs: number;
  };
  /** puzzles answered by both paths, and how many of them got the same answer grid */
  answersCompared: number;
  answersEqual: number;
}

function givensRange(raw: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(raw.trim());
  const lo = m ? Number(m[1]) : Number.NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!(lo >= 17 && hi <= 81 && lo <= hi))
    throw new FlagError(`--givens must be <lo..hi> or <n> with 17 <= lo <= hi <= 81 (got "${raw}")`, '--givens');
  return [lo, hi];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `concurrency` clients send `requests` puzzles (puzzle index = request number) through `solveOne`. */
async function drive(
  solveOne: (puzzle: number) => Promise<Answer>,
  o: { concurrency: number; requests: number; firstPuzzle: number; puzzles: number },
  into: Samples,
): Promise<void> {
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    while (next < o.requests) {
      const puzzle = (o.firstPuzzle + next++) % o.puzzles;
      const s = performance.now();
      const a = await solveOne(puzzle);
      into.latencies.push(performance.now() - s);
      if (a.serverMs !== undefined) into.serverMs.push(a.serverMs);
      into.steps += a.steps;
      into.answers.set(puzzle, a.grid);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  into.seconds += (performance.now() - t0) / 1000;
}

function summarise(s: Samples): PathResult {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  const server = [...s.serverMs].sort((a, b) => a - b);
  return {
    puzzles: sorted.length,
    seconds: s.seconds,
    puzzlesPerSecond: sorted.length / s.seconds,
    meanSteps: s.steps / sorted.length,
    latencyMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), mean: mean(sorted) },
    ...(server.length > 0 ? { serverTotalMs: { p50: quantile(server, 0.5), mean: mean(server) } } : {}),
  };
}

const emptySamples = (): Samples => ({ latencies: [], serverMs: [], steps: 0, seconds: 0, answers: new Map() });
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** The flags of the run, checked, and the sudoku model's config. */
interface BenchSettings {
  concurrencies: number[];
  rounds: number;
  requests: number;
  steps: number;
  haltThreshold: number;
  givens: [number, number];
  modelDir: string;
  config: ModelConfig;
  /** modelDir is a temporary folder of --preset, removed at the end */
  madeFolder: boolean;
}

async function benchSettings(f: FlagValues): Promise<BenchSettings> {
  const concurrencies = integerList('concurrency', f.concurrency as string);
  const rounds = f.rounds as number;
  const steps = f.steps as number;
  if (steps > MAX_STEPS_LIMIT)
    throw new FlagError(`--steps must be in 1..${MAX_STEPS_LIMIT} (got ${steps})`, '--steps');
  const haltThreshold = f['halt-threshold'] as number;
  if (haltThreshold > 1)
    throw new FlagError(`--halt-threshold must be in 0..1 (got ${haltThreshold})`, '--halt-threshold');
  const givens = givensRange(f.givens as string);
  if (f.model && f.preset) throw new FlagError('--model and --preset: choose one', '--preset');
  if (f.preset && getPreset(f.preset as string).model.task !== 'sudoku')
    throw new FlagError(`--preset must be a sudoku preset (got ${f.preset as string})`, '--preset');
  const modelDir = (f.model as string | undefined) ?? join(benchRoot(), DEFAULT_MODEL);
  const config = f.preset ? null : await readModelConfig(modelDir);
  if (config && config.task !== 'sudoku')
    throw new FlagError(`--model must be a sudoku model (${modelDir} solves ${config.task})`, '--model');
  // the folder of --preset is made last, once nothing else can fail here (benchHttp removes it)
  const made = f.preset
    ? presetFolder(f.preset as string, f.dtype as GraphDtype, f.ops ? parseOps(f.ops as string) : {})
    : null;
  return {
    concurrencies,
    rounds,
    requests: f.requests as number,
    steps,
    haltThreshold,
    givens,
    modelDir: made?.dir ?? modelDir,
    config: made?.config ?? config!,
    madeFolder: made !== null,
  };
}

/**
 * The puzzles the clients send, each ready for both paths: every request body is serialised before the clock
 * starts (a real client builds its body anyway), and the direct path gets the same work already encoded.
 */
interface PuzzlePool {
  grids: Grid[];
  bodies: string[];
  tokens: Uint8Array[];
}

function puzzlePool(b: BenchSettings, seed: number): PuzzlePool {
  const rng = new Rng(seed);
  const poolSize = Math.max(64, Math.min(b.requests, 512));
  const grids: Grid[] = Array.from({ length: poolSize }, () =>
    parseSudokuString(generateSudoku(rng, { givens: b.givens }).question),
  );
  // untilValid off: both paths run the same steps (the HTTP path still checks and settles every answer it sends).
  const bodies = grids.map((grid) =>
    JSON.stringify({ task: 'sudoku', grid, maxSteps: b.steps, haltThreshold: b.haltThreshold, untilValid: false }),
  );
  return { grids, bodies, tokens: grids.map((grid) => encodeSudoku(grid)) };
}

type Solver = (puzzle: number) => Promise<Answer>;

/** The engine called directly, with what POST /solve would pass it, and its answer settled as POST /solve does. */
function directSolver(engine: Engine, pool: PuzzlePool, b: BenchSettings): Solver {
  // What POST /solve passes for a puzzle without an id (prepare.ts): row 0 of the model's puzzle table.
  const puzzleEmb = engine.puzzleRow(BLANK_IDENTIFIER);
  return async (puzzle) => {
    const request: SolveRequest = {
      tokens: pool.tokens[puzzle]!,
      puzzleEmb,
      maxSteps: b.steps,
      haltThreshold: b.haltThreshold,
      trace: false,
    };
    const r = await engine.solve(request);
    // POST /solve answers with the givens written back over the model's answer.
    return {
      steps: r.steps,
      grid: JSON.stringify(restoreSudokuGivens(pool.grids[puzzle]!, decodeSudoku(r.tokens)).grid),
    };
  };
}

/** POST /solve on the server at `port`, through `agent`'s keep-alive connections. */
function httpSolver(agent: Agent, port: number, pool: PuzzlePool): Solver {
  return async (puzzle) => {
    const r = await sendRequest(agent, port, '/solve', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: pool.bodies[puzzle]!,
    });
    if (r.status !== 200) throw new Error(`POST /solve answered ${r.status}: ${r.text.slice(0, 300)}`);
    const body = JSON.parse(r.text) as { answer: Grid; steps: number; timing: { totalMs: number } };
    return { steps: body.steps, grid: JSON.stringify(body.answer), serverMs: body.timing.totalMs };
  };
}

/** Warm-up of both paths (JIT, the session's first runs, express's first requests); not measured. */
async function warmUp(direct: Solver, port: number, pool: PuzzlePool): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const warm = { concurrency: 8, requests: 64, firstPuzzle: 0, puzzles: pool.grids.length };
  await drive(direct, warm, emptySamples());
  await drive(httpSolver(agent, port, pool), warm, emptySamples());
  agent.destroy();
}

/** Both paths at one number of clients, in rounds that alternate which path goes first; samples pooled. */
async function measurePaths(
  concurrency: number,
  direct: Solver,
  port: number,
  pool: PuzzlePool,
  b: BenchSettings,
): Promise<Record<PathName, Samples>> {
  const puzzles = pool.grids.length;
  const perRound = Math.max(Math.ceil(b.requests / b.rounds), 2 * concurrency);
  const samples: Record<PathName, Samples> = { engine: emptySamples(), http: emptySamples() };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const solvers: Record<PathName, Solver> = { engine: direct, http: httpSolver(agent, port, pool) };
  try {
    for (let round = 0; round < b.rounds; round++) {
      const order: PathName[] = round % 2 === 0 ? ['engine', 'http'] : ['http', 'engine'];
      for (const path of order) {
        // One request per client first: opens the keep-alive connections (or fills the batch) unmeasured.
        await drive(solvers[path], { concurrency, requests: concurrency, firstPuzzle: 0, puzzles }, emptySamples());
        await drive(
          solvers[path],
          { concurrency, requests: perRound, firstPuzzle: round * perRound, puzzles },
          samples[path],
        );
      }
    }
  } finally {
    agent.destroy();
  }
  return samples;
}

/** The two paths' results at one number of clients, the HTTP overhead, and how many answers agree. */
function comparePaths(concurrency: number, samples: Record<PathName, Samples>): PointResult {
  const e = summarise(samples.engine);
  const h = summarise(samples.http);
  let compared = 0;
  let equal = 0;
  for (const [puzzle, grid] of samples.engine.answers) {
    const other = samples.http.answers.get(puzzle);
    if (other === undefined) continue;
    compared++;
    if (other === grid) equal++;
  }
  return {
    concurrency,
    engine: e,
    http: h,
    overhead: {
      p50Ms: h.latencyMs.p50 - e.latencyMs.p50,
      p50Pct: (100 * (h.latencyMs.p50 - e.latencyMs.p50)) / e.latencyMs.p50,
      meanMs: h.latencyMs.mean - e.latencyMs.mean,
      meanPct: (100 * (h.latencyMs.mean - e.latencyMs.mean)) / e.latencyMs.mean,
      throughputPct: (100 * (h.puzzlesPerSecond - e.puzzlesPerSecond)) / e.puzzlesPerSecond,
      perPuzzleMs: 1000 / h.puzzlesPerSecond - 1000 / e.puzzlesPerSecond,
    },
    answersCompared: compared,
    answersEqual: equal,
  };
}

/** The results as a markdown table, one row per number of clients. */
function resultTable(results: readonly PointResult[]): string[] {
  const head =
    '| clients | mean steps | engine puzzles/s | HTTP puzzles/s | throughput change | ms per puzzle added | engine p50 ms | HTTP p50 ms | ' +
    'engine p99 ms | HTTP p99 ms | overhead p50 ms | overhead p50 | overhead mean ms | overhead mean | same answers |';
  return [
    head,
    head.replace(/[^|]+/g, '---'),
    ...results.map(
      (r) =>
        `| ${r.concurrency} | ${fmt(r.engine.meanSteps, 2)} | ${fmt(r.engine.puzzlesPerSecond)} | ${fmt(r.http.puzzlesPerSecond)} | ` +
        `${signed(r.overhead.throughputPct)} % | ${signed(r.overhead.perPuzzleMs, 2)} | ${fmt(r.engine.latencyMs.p50, 2)} | ${fmt(r.http.latencyMs.p50, 2)} | ` +
        `${fmt(r.engine.latencyMs.p99, 2)} | ${fmt(r.http.latencyMs.p99, 2)} | ${signed(r.overhead.p50Ms, 2)} | ` +
        `${signed(r.overhead.p50Pct)} % | ${signed(r.overhead.meanMs, 2)} | ${signed(r.overhead.meanPct)} % | ` +
        `${r.answersEqual}/${r.answersCompared} |`,
    ),
  ];
}

async function benchHttp(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const b = await benchSettings(f);
  try {
    await benchWith(b, f, argv, io);
  } finally {
    if (b.madeFolder) rmSync(b.modelDir, { recursive: true, force: true });
  }
}

async function benchWith(b: BenchSettings, f: FlagValues, argv: readonly string[], io: CommandIo): Promise<void> {
  const pool = puzzlePool(b, f.seed as number);
  const engine = await Engine.start({
    modelDir: b.modelDir,
    executionProvider: f.ep as ExecutionProviderChoice,
    workers: f.workers as number,
    threads: f.threads as number | undefined,
    maxBatch: f.batch as number,
    maxQueue: Math.max(ENGINE_DEFAULTS.maxQueue, Math.max(...b.concurrencies)),
    queueTimeoutMs: 0, // a slow provider must not time the queued puzzles out
    stepsPerRun: f['steps-per-run'] as number,
  });
  let server: RunningServer | null = null;
  const results: PointResult[] = [];
  try {
    server = await serve(engine, { port: 0, signals: [], playgroundDir: null, info: () => {} });
    const direct = directSolver(engine, pool, b);
    io.err(
      `bench:http ${b.modelDir} on ${engine.info.executionProvider} (${engine.info.providerNotes.join('; ')}), ` +
        `batch ${engine.info.maxBatch}, ${machineDescription()}`,
    );
    await warmUp(direct, server.port, pool);
    for (const concurrency of b.concurrencies) {
      const point = comparePaths(concurrency, await measurePaths(concurrency, direct, server.port, pool, b));
      results.push(point);
      const { engine: e, http: h } = point;
      io.err(
        `  ${concurrency} clients: engine ${fmt(e.puzzlesPerSecond)} puzzles/s p50 ${fmt(e.latencyMs.p50, 2)} ms, ` +
          `HTTP ${fmt(h.puzzlesPerSecond)} puzzles/s p50 ${fmt(h.latencyMs.p50, 2)} ms ` +
          `(${signed(point.overhead.p50Ms, 2)} ms, ${signed(point.overhead.p50Pct)} %)`,
      );
    }
  } finally {
    // Shutting the server down drains the engine too.
    if (server) await server.shutdown('bench over');
    else await engine.drain();
  }

  const provider = engine.info.executionProvider;
  io.out(
    `\nHTTP overhead: ${b.modelDir}, ${provider}, batch ${engine.info.maxBatch}, ${engine.info.workers} worker(s), ` +
      `sudoku with ${b.givens[0]}..${b.givens[1]} givens, maxSteps ${b.steps}, haltThreshold ${b.haltThreshold}, ` +
      `${b.rounds} round(s), ${machineDescription()}`,
  );
  for (const line of resultTable(results)) io.out(line);
  const out =
    (f.out as string | undefined) ??
    join(
      benchRoot(),
      'bench',
      'results',
      `http-overhead-${provider}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
  writeBenchRecord(
    out,
    {
      bench: 'http-overhead',
      date: new Date().toISOString(),
      machine: machineDescription(),
      model: b.modelDir,
      config: b.config,
      executionProvider: provider,
      providerNotes: engine.info.providerNotes,
      maxBatch: engine.info.maxBatch,
      workers: engine.info.workers,
      stepsPerRun: engine.info.stepsPerRun,
      request: { task: 'sudoku', givens: b.givens, maxSteps: b.steps, haltThreshold: b.haltThreshold },
      rounds: b.rounds,
      command: `bench:http ${argv.join(' ')}`,
      results,
    },
    io,
  );
}

await runCli(spec, benchHttp);
