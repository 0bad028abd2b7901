// A stand-in for the real server, used by the playground's tests until createApp (http/app.ts) and the engine
// exist: it serves the page and speaks the real protocol (GET /models, POST /solve, POST /solve/stream, JSON
// errors with status, message and field), but runs no model. Its deterministic fake refines a sudoku the way a
// model's answer forms: every blank holds a digit from step 1, a growing share of them correct, and the halt
// probability rises until it crosses the threshold. Nothing outside the tests uses it.
import type { AddressInfo } from 'node:net';
import { GridError, type Grid, solveSudoku, validateSudokuGrid } from '@trm/core';
import express, { type NextFunction, type Request, type Response } from 'express';

export interface StandInServer {
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** folder served at `/` (the playground) */
  staticDir: string;
  /** pause before each streamed step, so the page sees the answer form (default 50 ms) */
  stepDelayMs?: number;
}

export const STAND_IN_MODEL = {
  name: 'sudoku-stand-in',
  task: 'sudoku',
  executionProvider: 'cpu',
  providerNotes: ['stand-in for tests: reveals solver output, runs no model'],
  dtype: 'fp32',
  maxBatch: 1,
  config: { task: 'sudoku', seq_len: 81, vocab_size: 11, halt_max_steps: 8 },
} as const;

/** Supervision steps after which the fake's answer is the full solution. */
const STEPS_TO_SOLVE = 4;

export interface StandInStep {
  step: number;
  answer: Grid;
  haltProbability: number;
}

/**
 * The fake's steps for a puzzle: step k shows round(k / 4 * blanks) blanks with their solution digit (in a
 * fixed scattered order) and the rest with a wrong digit; P(halt) = sigmoid(2k - 7), which crosses 0.5 at
 * step 4. It stops after the first step above `haltThreshold`, or at `maxSteps`. A puzzle without a solution
 * keeps wrong digits and a low halt probability, as a model that cannot solve it would.
 */
export function standInSteps(puzzle: Grid, maxSteps: number, haltThreshold: number): StandInStep[] {
  const cells = puzzle.flat();
  const solution = solveSudoku(cells, { limit: 1 }).solution;
  const blanks = cells.flatMap((v, i) => (v === 0 ? [i] : [])).sort((a, b) => ((a * 37) % 81) - ((b * 37) % 81));
  const steps: StandInStep[] = [];
  for (let k = 1; k <= maxSteps; k++) {
    const revealed = solution ? Math.round((Math.min(k, STEPS_TO_SOLVE) / STEPS_TO_SOLVE) * blanks.length) : 0;
    const answer = cells.slice();
    blanks.forEach((i, n) => {
      const right = solution?.[i] ?? 1 + ((i * 7) % 9);
      answer[i] = n < revealed ? right : (right % 9) + 1;
    });
    const haltProbability = solution ? 1 / (1 + Math.exp(-(2 * k - 7))) : 0.05;
    steps.push({
      step: k,
      answer: Array.from({ length: 9 }, (_, r) => answer.slice(r * 9, r * 9 + 9)),
      haltProbability,
    });
    if (haltProbability > haltThreshold) break;
  }
  return steps;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface ParsedRequest {
  grid: Grid;
  maxSteps: number;
  haltThreshold: number;
}

function parseSolveRequest(body: unknown): ParsedRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, undefined, 'the request body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  if (b.task !== 'sudoku') {
    throw new RequestError(400, 'task', `task ${JSON.stringify(b.task)} is not served; this server solves "sudoku"`);
  }
  if (b.model !== undefined && b.model !== STAND_IN_MODEL.name) {
    throw new RequestError(404, 'model', `model ${JSON.stringify(b.model)} is not served`);
  }
  let grid: Grid;
  try {
    grid = validateSudokuGrid(b.grid, 'grid');
  } catch (err) {
    if (err instanceof GridError) throw new RequestError(400, err.field, err.message);
    throw err;
  }
  const maxSteps = b.maxSteps ?? STAND_IN_MODEL.config.halt_max_steps;
  if (typeof maxSteps !== 'number' || !Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 16) {
    throw new RequestError(400, 'maxSteps', 'maxSteps must be an integer from 1 to 16');
  }
  const haltThreshold = b.haltThreshold ?? 0.5;
  if (typeof haltThreshold !== 'number' || !(haltThreshold >= 0 && haltThreshold <= 1)) {
    throw new RequestError(400, 'haltThreshold', 'haltThreshold must be a number from 0 to 1');
  }
  return { grid, maxSteps, haltThreshold };
}

function sendError(res: Response, err: RequestError): void {
  res.status(err.status).json({ error: { status: err.status, message: err.message, field: err.field } });
}

function doneBody(steps: StandInStep[], threshold: number, startedAt: number) {
  const last = steps.at(-1)!;
  const totalMs = performance.now() - startedAt;
  return {
    model: STAND_IN_MODEL.name,
    task: 'sudoku',
    answer: last.answer,
    steps: last.step,
    haltProbability: last.haltProbability,
    halted: last.haltProbability > threshold,
    timing: { queueMs: 0, computeMs: totalMs, totalMs },
  };
}

/** Starts the stand-in on 127.0.0.1 with a free port. */
export async function startStandInServer(options: StandInOptions): Promise<StandInServer> {
  const stepDelayMs = options.stepDelayMs ?? 50;
  const app = express();
  app.use(express.json({ limit: '1mb' }));

  app.get('/models', (_req, res) => {
    res.json({ models: [STAND_IN_MODEL] });
  });

  app.post('/solve', (req, res) => {
    const startedAt = performance.now();
    let parsed: ParsedRequest;
    try {
      parsed = parseSolveRequest(req.body);
    } catch (err) {
      if (err instanceof RequestError) return sendError(res, err);
      throw err;
    }
    const steps = standInSteps(parsed.grid, parsed.maxSteps, parsed.haltThreshold);
    res.json(doneBody(steps, parsed.haltThreshold, startedAt));
  });

  app.post('/solve/stream', async (req, res) => {
    const startedAt = performance.now();
    let parsed: ParsedRequest;
    try {
      parsed = parseSolveRequest(req.body);
    } catch (err) {
      if (err instanceof RequestError) return sendError(res, err);
      throw err;
    }
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const steps = standInSteps(parsed.grid, parsed.maxSteps, parsed.haltThreshold);
    for (const step of steps) {
      await new Promise((resolve) => setTimeout(resolve, stepDelayMs));
      if (gone) return;
      res.write(`event: step\ndata: ${JSON.stringify(step)}\n\n`);
    }
    res.end(`event: done\ndata: ${JSON.stringify(doneBody(steps, parsed.haltThreshold, startedAt))}\n\n`);
  });

  app.use(express.static(options.staticDir));

  // Malformed JSON and anything unexpected answer in the protocol's error shape, not express's HTML page.
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status ?? 500;
    res.status(status).json({ error: { status, message: err.message } });
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
