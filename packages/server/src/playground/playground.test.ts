// The playground in a real browser against the real server: Debian's Chromium, driven by playwright-core, opens
// the page from createApp serving models/sudoku-small-mlp on ONNX Runtime's CPU provider, types a sudoku with the
// keyboard, solves it with Enter, waits for the stream to finish, and checks the rendered answer against POST /solve
// for the same grid and options; then the step slider, the changed-cell highlights, the halt chart, the facts,
// the server's check of the answer under it (solved, or the rule a wrong answer breaks), disabled tasks, and the
// words shown for server errors (those answers are faked in the browser, since a real engine cannot be made to
// fail on cue). A screenshot goes to test-results/playground.png, and to
// docs/playground.png when TRM_UPDATE_SCREENSHOT=1. Skipped, with a message, only when /usr/bin/chromium is absent.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSudoku, generateSudoku, Rng } from '@trm/core';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import { untilValidLimit } from '../engine/solve-request.js';
import { createApp } from '../http/app.js';
import { listen } from '../testing/client.js';
import { FakeEngine, fakeEngineAnswer } from '../testing/fake-engine.js';
import { SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';
import { PLAYGROUND_DIR } from './index.js';
import type { AnswerCheck, DoneEvent, ServedModel } from './public/server-api.js';
import { changedCells, type Grid, parseGridText, TASKS, type TaskName } from './public/tasks.js';
import { verdict } from './public/verdict.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../../..');
const RESULTS_DIR = join(REPO_ROOT, 'test-results');
const MODEL_DIR = join(REPO_ROOT, 'models/sudoku-small-mlp');
/** The README's picture of the playground, rewritten only on request (its timings change every run). */
const DOCS_SCREENSHOT = join(REPO_ROOT, 'docs/playground.png');
const UPDATE_SCREENSHOT = process.env.TRM_UPDATE_SCREENSHOT === '1';

if (!HAVE_CHROMIUM) {
  console.warn(`playground browser test skipped: ${CHROMIUM} is absent (Debian: apt-get install -y chromium)`);
}

interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The server under test: the shipped sudoku model on the CPU provider, behind the real HTTP app. */
async function startServer(): Promise<RunningServer> {
  // A small batch keeps the worker's buffers small; the page sends one puzzle at a time.
  const engine = await Engine.start({ modelDir: MODEL_DIR, executionProvider: 'cpu', maxBatch: 8 });
  try {
    const http = await listen(createApp(engine, { playgroundDir: PLAYGROUND_DIR }));
    return {
      url: http.url,
      close: async () => {
        await http.close();
        await engine.drain();
      },
    };
  } catch (err) {
    await engine.drain();
    throw err;
  }
}

/**
 * The grid the page shows in a container, read back from the cells' data-value, and the highlighted cells. (Code
 * that runs in the page is passed as a string: this project type-checks without the DOM library.)
 */
async function readGrid(page: Page, selector: string): Promise<{ grid: Grid; changed: number[] }> {
  return (await page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const cols = Number(el.dataset.cols);
    const cells = Array.from(el.querySelectorAll('.cell'));
    const grid = [];
    cells.forEach((cell, i) => {
      if (i % cols === 0) grid.push([]);
      grid[grid.length - 1].push(Number(cell.dataset.value));
    });
    const changed = cells.flatMap((cell, i) => (cell.classList.contains('changed') ? [i] : []));
    return { grid, changed };
  })()`)) as { grid: Grid; changed: number[] };
}

/**
 * Solves what the editor holds with the page's options (`start` presses Solve one way or another), waits for the
 * stream to finish, and checks that the page shows what POST /solve answers for the same grid and options: the
 * answer, one chart point and slider position per step, the step count and the server's time. Returns that answer.
 */
async function solveAndCompare(
  page: Page,
  puzzle: Grid,
  model: ServedModel,
  start: () => Promise<void>,
): Promise<DoneEvent> {
  // An empty step limit is the automatic one: the request then carries no maxSteps, as the page's does not.
  const typed = (await page.inputValue('#max-steps')).trim();
  const maxSteps = typed === '' ? undefined : Number(typed);
  const limit = maxSteps ?? Number((await page.getAttribute('#max-steps', 'placeholder'))!.replace('auto: ', ''));
  const haltThreshold = Number(await page.inputValue('#halt-threshold'));
  // A run of one fast step can be over before a poll for data-state="running" looks, so the page itself marks
  // <body> once the state went through "running" (a mutation record keeps the old value of every change).
  await page.evaluate(`(() => {
    const output = document.getElementById('output');
    delete document.body.dataset.sawRunning;
    const observer = new MutationObserver((records) => {
      if (!records.some((r) => r.oldValue === 'running') && output.dataset.state !== 'running') return;
      document.body.dataset.sawRunning = 'true';
      observer.disconnect();
    });
    observer.observe(output, { attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
  })()`);
  await start();
  await page.waitForSelector('body[data-saw-running] #output:not([data-state="running"])', { timeout: 90_000 });
  expect(await page.getAttribute('#output', 'data-state'), (await page.textContent('#error')) ?? '').toBe('done');

  const url = new URL('/solve', page.url());
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: 'sudoku', grid: puzzle, model: model.name, maxSteps, haltThreshold }),
  });
  expect(response.status).toBe(200);
  const expected = (await response.json()) as DoneEvent;
  expect(expected.model).toBe(model.name);
  const shown = await readGrid(page, '#answer-host .grid');
  expect(shown.grid).toEqual(expected.answer);
  expect(await page.getAttribute('#answer-host .grid', 'data-step')).toBe(String(expected.steps));

  expect(await page.locator('#halt-chart circle.halt-point').count()).toBe(expected.steps);
  expect(await page.getAttribute('#step-view', 'max')).toBe(String(expected.steps));
  const stepsFact = await page.textContent('[data-fact="steps"]');
  const extended = untilValidLimit(limit);
  const limitText =
    maxSteps === undefined && limit < extended
      ? `${limit} \\(${extended} while the answer breaks the rules\\)`
      : `${limit}`;
  expect(stepsFact).toMatch(new RegExp(`^${expected.steps} of at most ${limitText}; `));
  expect(await page.textContent('[data-fact="server-time"]')).toMatch(/^\d+(\.\d+)? m?s \(waiting/);
  return expected;
}

/**
 * Walks through the steps with the keyboard: the highlighted cells are exactly those that differ from the step
 * before (step 1: from the puzzle), the chart marks the step shown, and the last step is the answer.
 */
async function walkSteps(page: Page, puzzle: Grid, expected: DoneEvent): Promise<void> {
  await page.focus('#step-view');
  await page.keyboard.press('Home');
  let previous = puzzle;
  for (let step = 1; step <= expected.steps; step++) {
    if (step > 1) await page.keyboard.press('ArrowRight');
    expect(await page.getAttribute('#answer-host .grid', 'data-step')).toBe(String(step));
    const view = await readGrid(page, '#answer-host .grid');
    expect(view.changed).toEqual(changedCells(previous, view.grid));
    if (step === 1) expect(view.changed.length).toBeGreaterThan(0);
    expect(await page.getAttribute('#halt-chart circle.selected', 'data-step')).toBe(String(step));
    previous = view.grid;
  }
  expect(previous).toEqual(expected.answer);
}

describe.skipIf(!HAVE_CHROMIUM)('playground in Chromium', () => {
  let server: RunningServer;
  let userDataDir: string;
  let context: BrowserContext;
  let models: ServedModel[];

  beforeAll(async () => {
    server = await startServer();
    models = ((await (await fetch(`${server.url}/models`)).json()) as { models: ServedModel[] }).models;
    userDataDir = await mkdtemp(join(tmpdir(), 'trm-playground-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 1000 },
    });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  /** A fresh page on the playground, with page errors collected (the test fails on any). */
  async function openPage(url = server.url): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    const response = await page.goto(url);
    // The page runs under the server's Content-Security-Policy: a violation is a console error, so fails the test.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    await page.waitForSelector('body[data-ready="true"]');
    return { page, errors };
  }

  it('solves a sudoku typed with the keyboard and shows what POST /solve answers', async () => {
    const sudokuModel = models.find((m) => m.task === 'sudoku');
    expect(sudokuModel, 'the server must serve a sudoku model').toBeDefined();
    const { page, errors } = await openPage();

    // What is serving, from GET /models.
    const serving = await page.textContent('#serving');
    expect(serving).toContain(sudokuModel!.name);
    expect(serving).toContain(`on the ${sudokuModel!.executionProvider} execution provider`);
    expect(await page.isChecked('input[name="task"][value="sudoku"]')).toBe(true);

    // Type a puzzle the page has never seen, row by row, into the grid: an easy one (17 blanks), of the kind the
    // shipped model was trained to solve.
    const { question } = generateSudoku(new Rng(2026), { givens: 64 });
    const puzzle = parseGridText('sudoku', question);
    const editor = '#editor-host .editor-slot:not([hidden]) [role="grid"]';
    await page.click(`${editor} [data-index="0"]`);
    await page.keyboard.type(question);
    expect((await readGrid(page, editor)).grid).toEqual(puzzle);

    // Arrow keys move the one focusable cell, and the focus ring shows.
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowLeft');
    const focused = await page.evaluate(`(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { index: el.dataset.index, tabindex: el.tabIndex, outline: style.outlineStyle + ' ' + style.outlineWidth };
    })()`);
    expect(focused).toEqual({ index: String(80 - 18 - 1), tabindex: 0, outline: 'solid 3px' });
    expect(await page.locator(`${editor} [tabindex="0"]`).count()).toBe(1);

    // Enter solves; the same options go to POST /solve below.
    // The step limit starts automatic: empty, the model's own limit shown as the placeholder.
    const maxSteps = Math.min(16, Number(sudokuModel!.config.halt_max_steps ?? 16));
    expect(await page.inputValue('#max-steps')).toBe('');
    expect(await page.getAttribute('#max-steps', 'placeholder')).toBe(`auto: ${maxSteps}`);
    const expected = await solveAndCompare(page, puzzle, sudokuModel!, () => page.keyboard.press('Enter'));
    expect(expected.check, 'models/sudoku-small-mlp solves 99.8 % of sudoku with 10-20 blanks').toEqual({
      valid: true,
    });
    expect(await page.textContent('#verdict')).toBe('Solved: every row, column and box holds 1-9 exactly once.');
    expect(await page.getAttribute('#verdict', 'class')).toBe('verdict ok');
    expect(expected.halted).toBe(true);

    // The README's picture: the solved puzzle at a laptop's window size.
    await page.setViewportSize({ width: 1200, height: 800 });
    await mkdir(RESULTS_DIR, { recursive: true });
    const shot = join(RESULTS_DIR, 'playground.png');
    await page.screenshot({ path: shot });
    if (UPDATE_SCREENSHOT) await copyFile(shot, DOCS_SCREENSHOT);
    await walkSteps(page, puzzle, expected);

    // The model is sure after one step on so easy a puzzle; a threshold of 1 can never be crossed, so the loop
    // runs every allowed step and the slider has something to walk through.
    await page.fill('#halt-threshold', '1');
    const unhalted = await solveAndCompare(page, puzzle, sudokuModel!, () => page.click('#solve'));
    expect({ steps: unhalted.steps, halted: unhalted.halted }).toEqual({ steps: maxSteps, halted: false });
    await walkSteps(page, puzzle, unhalted);
    // A typed step limit is a hard one, sent as maxSteps.
    await page.fill('#max-steps', '3');
    const capped = await solveAndCompare(page, puzzle, sudokuModel!, () => page.click('#solve'));
    expect({ steps: capped.steps, halted: capped.halted }).toEqual({ steps: 3, halted: false });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("says why an answer is not a solution, in the server's words", async () => {
    const sudokuModel = models.find((m) => m.task === 'sudoku')!;
    const { page, errors } = await openPage();
    // A hard puzzle (17 givens, the server README's example): the shipped model is sure of a wrong answer.
    const hard = '43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.';
    const puzzle = parseGridText('sudoku', hard);
    await page.click('summary');
    await page.fill('#grid-text', hard);
    await page.click('#load-text');
    const expected = await solveAndCompare(page, puzzle, sudokuModel, () => page.click('#solve'));
    expect(expected.check?.valid, 'models/sudoku-small-mlp is not a hard-sudoku solver').toBe(false);
    const text = await page.textContent('#verdict');
    expect(text).toBe(verdict('sudoku', expected)!.text);
    expect(text).toMatch(/^Not a valid solution: (row|column|the box of) .+ has (two|three|four) \ds\./);
    expect(await page.getAttribute('#verdict', 'class')).toBe('verdict bad');
    // Overruled halts: the model wanted to stop, the answers broke the rules, so every step ran, past the model's
    // own limit of 8, up to 4 x 8 under the automatic one.
    expect(expected).toMatchObject({ steps: 32, halted: false });
    expect(await page.textContent('[data-fact="steps"]')).toMatch(/but on no answer that is a solution$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows an answer that came from a symmetric copy of the puzzle as such, after its own steps', async () => {
    // A model that never solves the puzzle as typed but solves every other view of it.
    const typed = encodeSudoku(SUDOKU_PUZZLE);
    const engine = new FakeEngine({
      task: 'sudoku',
      name: 'views-only',
      answerAt: (_step, tokens) =>
        tokens.every((t, i) => t === typed[i]) ? tokens.slice() : fakeEngineAnswer('sudoku', tokens),
    });
    const http = await listen(createApp(engine, { playgroundDir: PLAYGROUND_DIR }));
    try {
      const { page, errors } = await openPage(http.url);
      await page.click('summary');
      await page.fill('#grid-text', SUDOKU_PUZZLE.flat().join(''));
      await page.click('#load-text');
      await page.click('#solve');
      await page.waitForSelector('#output[data-state="done"]', { timeout: 60_000 });
      expect((await readGrid(page, '#answer-host .grid')).grid).toEqual(SUDOKU_SOLUTION);
      expect(await page.textContent('#verdict')).toMatch(/^Solved: every row, column and box/);
      expect(await page.textContent('#step-label')).toMatch(
        /^The answer of copy 2 of 16 \(sudoku shuffle\) after its step \d+, mapped back to the puzzle: /,
      );
      expect(await page.textContent('[data-fact="answered-by"]')).toMatch(/^copy 2 of 16 \(sudoku shuffle: /);
      // the chart holds the puzzle's own steps: 16 (the trained ones) and the one in flight when the copy answered
      const own = await page.locator('#halt-chart circle.halt-point').count();
      expect(own).toBeGreaterThanOrEqual(16);
      expect(await page.getAttribute('#step-view', 'max')).toBe(String(own + 1));
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await http.close();
    }
  });

  it('shows tasks that no served model solves as disabled, with the reason', async () => {
    const { page, errors } = await openPage();
    for (const task of Object.keys(TASKS) as TaskName[]) {
      const served = models.some((m) => m.task === task);
      expect(await page.isDisabled(`input[name="task"][value="${task}"]`), task).toBe(!served);
      if (!served) {
        expect(await page.textContent(`#reason-${task}`)).toBe(`no served model solves ${TASKS[task].label} puzzles`);
      }
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('paints a maze and an ARC grid by pointer and keyboard, and sends exactly what was drawn', async () => {
    // Tasks the server under test does not solve get a listed model here, so their editors can be used; the
    // solve requests are answered by the route below and only their bodies are checked.
    const fake = (task: TaskName): ServedModel => ({
      name: `${task}-listed-for-test`,
      task,
      executionProvider: 'cpu',
      providerNotes: [],
      dtype: 'fp32',
      maxBatch: 1,
      config: { halt_max_steps: 4 },
    });
    const listed = [
      ...models,
      ...(['maze', 'arc'] as const).filter((t) => !models.some((m) => m.task === t)).map(fake),
    ];
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.route('**/models', (route) => route.fulfill({ json: { models: listed } }));
    const sent: Record<string, unknown>[] = [];
    let reply: { answer: Grid; task: TaskName; check?: AnswerCheck } = { answer: [[0]], task: 'arc' };
    await page.route('**/solve/stream', (route) => {
      sent.push(route.request().postDataJSON());
      const step = { step: 1, answer: reply.answer, check: reply.check, haltProbability: 0.9 };
      const done = { ...step, model: 'x', task: reply.task, steps: 1, halted: true };
      const timing = { queueMs: 1, computeMs: 2, totalMs: 3 };
      return route.fulfill({
        status: 200,
        contentType: 'text/event-stream',
        body: `event: step\ndata: ${JSON.stringify(step)}\n\nevent: done\ndata: ${JSON.stringify({ ...done, timing })}\n\n`,
      });
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    const editor = '#editor-host .editor-slot:not([hidden]) [role="grid"]';
    const cellCentre = async (index: number) => {
      const box = (await page.locator(`${editor} [data-index="${index}"]`).boundingBox())!;
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    };

    // Maze: a click paints a wall and focuses the cell; 's' puts the start there; a drag paints a wall along
    // row 2; 'g' then a click with the goal tool show that a second goal moves the first.
    await page.check('input[name="task"][value="maze"]');
    await page.click('#clear');
    await page.click(`${editor} [data-index="0"]`);
    await page.keyboard.press('s');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('g');
    const from = await cellCentre(60);
    const to = await cellCentre(64);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
    await page.check('input[name="maze-tool"][value="4"]');
    await page.click(`${editor} [data-index="899"]`);
    const maze = parseGridText('maze', `S${' '.repeat(899)}`);
    for (let c = 0; c <= 4; c++) maze[2]![c] = 1;
    maze[29]![29] = 4;
    const path = maze.map((row) => row.slice());
    path[1]![0] = 5;
    reply = {
      answer: path,
      task: 'maze',
      check: { valid: false, reason: "the path cells ('o') from S do not reach G" },
    };
    await page.click('#solve');
    await page.waitForSelector('#output[data-state="done"]');
    expect(sent.at(-1)).toMatchObject({ task: 'maze', grid: maze, model: listed.find((m) => m.task === 'maze')!.name });
    expect(await page.locator('#answer-host .cell.path').count()).toBe(1);
    expect(await page.locator('#answer-host .cell.changed').count()).toBe(1);
    expect(await page.textContent('#verdict')).toBe(
      "Not a valid solution: the path cells ('o') from S do not reach G.",
    );

    // ARC: the size fields resize (Enter there does not solve), a colour is picked and clicked in, digits type
    // colours, and Enter on the grid solves with the puzzle id.
    await page.check('input[name="task"][value="arc"]');
    await page.click('#clear');
    const before = sent.length;
    await page.fill('#arc-rows', '3');
    await page.press('#arc-rows', 'Enter');
    await page.fill('#arc-cols', '4');
    await page.press('#arc-cols', 'Enter');
    expect(sent.length).toBe(before);
    await page.check('input[name="arc-tool"][value="2"]');
    await page.click(`${editor} [data-index="5"]`);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.type('79');
    await page.fill('#puzzle-id', '007bbfc7');
    await page.focus(`${editor} [tabindex="0"]`);
    reply = {
      answer: [
        [3, 3],
        [3, 3],
      ],
      task: 'arc',
      check: { valid: null, reason: 'no rule check for ARC' },
    };
    await page.keyboard.press('Enter');
    await page.waitForSelector('#output[data-state="done"] #answer-host .grid-arc');
    expect(sent.at(-1)).toMatchObject({
      task: 'arc',
      puzzleId: '007bbfc7',
      grid: [
        [0, 0, 0, 0],
        [0, 2, 7, 9],
        [0, 0, 0, 0],
      ],
    });
    // An answer of another size counts as changed everywhere.
    expect(await page.locator('#answer-host .cell.changed').count()).toBe(4);
    expect(await page.textContent('#verdict')).toBe('Not checked: no rule check for ARC.');

    // The text box reads a grid in and writes it back.
    await page.click('summary');
    await page.fill('#grid-text', '12\n34');
    await page.click('#load-text');
    expect((await readGrid(page, editor)).grid).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await page.inputValue('#arc-rows')).toBe('2');
    await page.fill('#grid-text', '1x');
    await page.click('#load-text');
    expect(await page.textContent('#input-error')).toBe(
      'Could not read the text: Row 1, cell 2 is "x"; expected a colour 0-9.',
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('puts server errors into words: a full queue, a starting server, a bad grid, an error mid-stream', async () => {
    const { page } = await openPage();
    const solveWith = async (body: string, status: number, contentType = 'application/json') => {
      await page.route('**/solve/stream', (route) => route.fulfill({ status, contentType, body }), { times: 1 });
      await page.click('#solve');
      await page.waitForSelector('#output[data-state="error"]');
      return page.textContent('#error');
    };
    const errorBody = (status: number, message: string, field?: string) =>
      JSON.stringify({ error: { status, message, field } });

    expect(await solveWith(errorBody(429, 'the queue is full (64 puzzles waiting); retry later'), 429)).toBe(
      "The server's queue is full, so it did not take this puzzle. Wait a moment and press Solve again. " +
        'The server said: the queue is full (64 puzzles waiting); retry later',
    );
    expect(await solveWith(errorBody(503, 'the engine is starting'), 503)).toMatch(
      /^The server is not taking puzzles right now \(it is starting up or shutting down\)\./,
    );
    expect(await solveWith(errorBody(400, 'grid has 8 rows, expected 9', 'grid'), 400)).toBe(
      'The server rejected the request: grid has 8 rows, expected 9',
    );
    const step = { step: 1, answer: parseGridText('sudoku', '1'.repeat(81)), haltProbability: 0.2 };
    const stream =
      `event: step\ndata: ${JSON.stringify(step)}\n\n` +
      `event: error\ndata: ${errorBody(503, 'the worker holding this puzzle stopped')}\n\n`;
    expect(await solveWith(stream, 200, 'text/event-stream')).toMatch(/The server said: the worker holding/);
    expect(await page.locator('#halt-chart circle.halt-point').count()).toBe(1);

    // The real server's own validation, through the page's client: a grid of the wrong shape.
    // (A string, so that vitest's module transform does not rewrite the browser-side import().)
    const rejected = (await page.evaluate(`import('/server-api.js').then((api) =>
      api.solveStream({ task: 'sudoku', grid: [[1, 2, 3]] }).then(
        () => null,
        (err) => ({ message: err.message, status: err.status }),
      ))`)) as { message: string; status: number } | null;
    expect(rejected?.status).toBe(400);
    expect(rejected?.message).toMatch(/^The server rejected the request: .*grid/);
    await page.close();
  });
});
