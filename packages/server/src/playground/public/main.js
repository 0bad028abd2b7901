// The playground page's wiring: asks the server which models it runs, offers the tasks they solve (the others
// stay disabled, with the reason), keeps one editor per task, and on Solve streams POST /solve/stream into the
// answer view, the step slider and the halt chart. Every run keeps all its steps, so after it ends a person can
// step back through how the answer formed. Errors reach the page as sentences (server-api.js says which).
import { EXAMPLES } from './examples.js';
import { GridEditor } from './grid-editor.js';
import { renderGrid } from './grid-view.js';
import { renderHaltChart } from './halt-chart.js';
import { fetchModels, solveStream } from './server-api.js';
import {
  ARC_COLOUR_NAMES,
  ARC_COLOURS,
  changedCells,
  checkGrid,
  formatGridText,
  MAZE_CELL,
  parseGridText,
  TASKS,
} from './tasks.js';
import { verdict } from './verdict.js';

/** @typedef {import('./tasks.js').TaskName} TaskName */
/** @typedef {import('./tasks.js').Grid} Grid */
/** @typedef {import('./server-api.js').ServedModel} ServedModel */
/** @typedef {import('./server-api.js').StepEvent} StepEvent */
/** @typedef {import('./server-api.js').DoneEvent} DoneEvent */
/** @typedef {import('./server-api.js').ViewOutcome} ViewOutcome */
/** A step of the puzzle, or (with `view`) the answer of a symmetric copy of it that followed the rules. @typedef {StepEvent & { view?: ViewOutcome }} HistoryEntry */
/**
 * maxSteps: the limit the chart spans (the model's own under the automatic limit); auto: no limit was typed, so the
 * server's default applies (the model's halt_max_steps, and for sudoku and maze up to 4 times as many while the answer breaks
 * the rules).
 * @typedef {{ task: TaskName, puzzle: Grid, model: ServedModel, maxSteps: number, auto: boolean, threshold: number,
 *   history: HistoryEntry[], done: DoneEvent | null, running: boolean, controller: AbortController,
 *   startedAt: number, finishedAt: number, viewStep: number }} Run
 */

/** @type {TaskName[]} */
const TASK_ORDER = ['sudoku', 'maze', 'arc'];

/** How each kind of verdict looks. */
const VERDICT_CLASS = { solved: 'verdict ok', invalid: 'verdict bad', unchecked: 'verdict' };

const HINTS = {
  sudoku:
    'Click a cell or Tab into the grid. Arrow keys move; type 1-9 (0, . or space for a blank) and the cursor moves on; ' +
    'Backspace steps back and clears. Enter solves. Pasting 81 digits onto the grid fills it.',
  maze:
    'Paint with the pointer using the tool above, or move with the arrow keys and type # (wall), space (open), ' +
    's (start) or g (goal). Enter solves. Pasting a maze onto the grid fills it.',
  arc:
    'Pick a colour and paint with the pointer, or move with the arrow keys and type a colour 0-9. Rows and columns ' +
    'set the size. Enter solves.',
};

const TEXT_HELP = {
  sudoku: '81 digits, row by row, with 0 or . for blanks (spaces, line breaks and | + - are ignored), or JSON [[...]].',
  maze: "30 lines of 30 characters: '#' wall, ' ' open, 'S' start, 'G' goal (or the 900-character form), or JSON [[...]] of 1-4.",
  arc: 'One line per row, colours 0-9 with or without spaces or commas between them, or JSON [[...]].',
};

/** @param {string} id */
function $(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}

const form = /** @type {HTMLFormElement} */ ($('solve-form'));
const taskPicker = $('task-picker');
const modelRow = $('model-row');
const modelSelect = /** @type {HTMLSelectElement} */ ($('model'));
const examplesEl = $('examples');
const toolsEl = $('tools');
const editorHost = $('editor-host');
const gridText = /** @type {HTMLTextAreaElement} */ ($('grid-text'));
const maxStepsInput = /** @type {HTMLInputElement} */ ($('max-steps'));
const thresholdInput = /** @type {HTMLInputElement} */ ($('halt-threshold'));
const puzzleIdRow = $('puzzle-id-row');
const puzzleIdInput = /** @type {HTMLInputElement} */ ($('puzzle-id'));
const solveButton = /** @type {HTMLButtonElement} */ ($('solve'));
const stopButton = /** @type {HTMLButtonElement} */ ($('stop'));
const output = $('output');
const stepView = /** @type {HTMLInputElement} */ ($('step-view'));
const chart = /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('halt-chart')));

const state = {
  /** @type {ServedModel[]} */
  models: [],
  /** @type {TaskName | null} */
  task: null,
  /** @type {Partial<Record<TaskName, { editor: GridEditor, host: HTMLElement }>>} */
  editors: {},
  /** @type {Run | null} */
  run: null,
  /** the step view follows the newest step until a person picks another */
  follow: true,
};

/** @param {TaskName} task */
function modelsFor(task) {
  return state.models.filter((m) => m.task === task);
}

/** @param {string} message */
function showInputError(message) {
  $('input-error').textContent = message;
}

/** @param {'idle' | 'running' | 'done' | 'stopped' | 'error'} phase @param {string} text @param {string} [error] */
function setOutput(phase, text, error = '') {
  output.dataset.state = phase;
  $('status').textContent = text;
  $('error').textContent = error;
}

/** @param {number} ms */
function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

// ---- what the server runs ----

function renderServing() {
  const el = $('serving');
  if (state.models.length === 0) {
    el.textContent = 'The server runs no models, so nothing can be solved.';
    return;
  }
  const list = document.createElement('ul');
  list.className = 'model-list';
  for (const m of state.models) {
    const item = document.createElement('li');
    item.dataset.model = m.name;
    const name = document.createElement('strong');
    name.textContent = m.name;
    item.append(
      'Serving ',
      name,
      ` (${TASKS[m.task]?.label ?? m.task}) on the ${m.executionProvider} execution provider, ${m.dtype}, ` +
        `batches of up to ${m.maxBatch}`,
    );
    if (m.providerNotes.length > 0) {
      const notes = document.createElement('span');
      notes.className = 'notes';
      notes.textContent = ` (${m.providerNotes.join('; ')})`;
      item.append(notes);
    }
    list.append(item);
  }
  el.replaceChildren(list);
}

/** @param {string | null} reason null: the server's models could not be listed */
function buildTaskPicker(reason) {
  const legend = taskPicker.querySelector('legend');
  taskPicker.replaceChildren(...(legend ? [legend] : []));
  for (const task of TASK_ORDER) {
    const served = modelsFor(task).length > 0;
    const label = document.createElement('label');
    label.className = served ? 'task-option' : 'task-option disabled';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'task';
    input.value = task;
    input.disabled = !served;
    input.addEventListener('change', () => selectTask(task));
    label.append(input, ` ${TASKS[task].label}`);
    if (!served) {
      const why = document.createElement('span');
      why.className = 'reason';
      why.id = `reason-${task}`;
      why.textContent = reason ?? `no served model solves ${TASKS[task].label} puzzles`;
      input.setAttribute('aria-describedby', why.id);
      label.append(why);
    }
    taskPicker.append(label);
  }
}

// ---- editing ----

/** @param {TaskName} task */
function editorFor(task) {
  let entry = state.editors[task];
  if (entry === undefined) {
    const host = document.createElement('div');
    host.className = 'editor-slot';
    editorHost.append(host);
    const editor = new GridEditor(host, task, {
      label: `${TASKS[task].label} puzzle`,
      onSubmit: () => form.requestSubmit(),
      onError: showInputError,
      onChange: () => {
        if (task === 'arc') syncArcSize();
      },
    });
    const first = EXAMPLES[task][0];
    if (first) editor.setGrid(parseGridText(task, first.text));
    entry = { editor, host };
    state.editors[task] = entry;
  }
  return entry.editor;
}

/** @param {TaskName} task */
function selectTask(task) {
  state.task = task;
  const radio = /** @type {HTMLInputElement | null} */ (taskPicker.querySelector(`input[value="${task}"]`));
  if (radio) radio.checked = true;
  const editor = editorFor(task);
  for (const [name, entry] of Object.entries(state.editors)) entry.host.hidden = name !== task;
  $('editor-hint').textContent = HINTS[task];
  $('text-help').textContent = TEXT_HELP[task];
  puzzleIdRow.hidden = task !== 'arc';
  showInputError('');

  const models = modelsFor(task);
  modelSelect.replaceChildren(
    ...models.map((m) => {
      const option = document.createElement('option');
      option.value = m.name;
      option.textContent = `${m.name} (${m.executionProvider}, ${m.dtype})`;
      return option;
    }),
  );
  modelRow.hidden = models.length < 2;
  applyModelDefaults();

  examplesEl.replaceChildren(
    ...EXAMPLES[task].map((example) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = example.name;
      button.addEventListener('click', () => {
        editor.setGrid(parseGridText(task, example.text));
        showInputError('');
      });
      return button;
    }),
  );
  renderTools(task, editor);
}

function selectedModel() {
  if (state.task === null) return undefined;
  return modelsFor(state.task).find((m) => m.name === modelSelect.value) ?? modelsFor(state.task)[0];
}

/** The tasks whose answers the server checks, and so runs past the model's steps while an answer breaks the rules. */
const CHECKED_TASKS = new Set(['sudoku', 'maze']);

/** The API's step limit and how far past its trained steps the server runs an invalid answer (solve-request.ts). */
const MAX_STEPS_LIMIT = 64;
const UNTIL_VALID_FACTOR = 4;

/** The model's own step limit (halt_max_steps), within the API's 1..MAX_STEPS_LIMIT. */
function modelStepLimit() {
  const limit = Number(selectedModel()?.config?.halt_max_steps);
  return Number.isInteger(limit) ? Math.min(MAX_STEPS_LIMIT, Math.max(1, limit)) : MAX_STEPS_LIMIT;
}

/**
 * The step limit starts empty: the server's default, the model's own limit (shown as the placeholder), and for
 * sudoku and maze up to four times as many steps while the answer breaks the rules. A typed number is a hard limit.
 */
function applyModelDefaults() {
  const limit = modelStepLimit();
  const extended = Math.min(MAX_STEPS_LIMIT, UNTIL_VALID_FACTOR * limit);
  maxStepsInput.value = '';
  maxStepsInput.placeholder = `auto: ${limit}`;
  maxStepsInput.title =
    state.task !== null && CHECKED_TASKS.has(state.task) && limit < extended
      ? `Empty: the model's ${limit} steps, and up to ${extended} while the answer breaks the rules. A number is a hard limit.`
      : `Empty: the model's ${limit} steps. A number is a hard limit.`;
  if (state.run === null) renderRun();
}

/** @param {TaskName} task @param {GridEditor} editor */
function renderTools(task, editor) {
  if (task === 'sudoku') {
    toolsEl.replaceChildren();
    return;
  }
  const group = document.createElement('fieldset');
  group.className = 'palette';
  const legend = document.createElement('legend');
  legend.textContent = task === 'maze' ? 'Paint' : 'Colour';
  group.append(legend);
  const choices =
    task === 'maze'
      ? [
          { value: MAZE_CELL.WALL, name: 'Wall (#)', cls: 'wall' },
          { value: MAZE_CELL.OPEN, name: 'Open (space)', cls: 'open' },
          { value: MAZE_CELL.START, name: 'Start (S)', cls: 'start' },
          { value: MAZE_CELL.GOAL, name: 'Goal (G)', cls: 'goal' },
        ]
      : ARC_COLOURS.map((colour, value) => ({ value, name: `${value} ${ARC_COLOUR_NAMES[value]}`, colour }));
  for (const choice of choices) {
    const label = document.createElement('label');
    label.className = 'swatch-option';
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = `${task}-tool`;
    input.value = String(choice.value);
    input.checked = editor.tool === choice.value;
    input.addEventListener('change', () => {
      editor.tool = choice.value;
    });
    const swatch = document.createElement('span');
    swatch.className = `swatch ${'cls' in choice ? choice.cls : ''}`;
    if ('colour' in choice) swatch.style.background = choice.colour;
    const text = document.createElement('span');
    // ARC shows the digit that types the colour; its name is the radio's accessible name.
    text.textContent = task === 'arc' ? String(choice.value) : choice.name;
    if (task === 'arc') input.setAttribute('aria-label', choice.name);
    label.title = choice.name;
    label.append(input, swatch, text);
    group.append(label);
  }
  const parts = [group];
  if (task === 'arc') {
    const size = document.createElement('div');
    size.className = 'size';
    for (const [id, text] of [
      ['arc-rows', 'Rows'],
      ['arc-cols', 'Columns'],
    ]) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'number';
      input.id = id;
      input.min = '1';
      input.max = String(TASKS.arc.maxSide);
      input.addEventListener('change', () => resizeArc(editor));
      // Enter here means "use this size", not "solve".
      input.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter') return;
        e.preventDefault();
        resizeArc(editor);
      });
      label.append(`${text} `, input);
      size.append(label);
    }
    parts.push(size);
  }
  toolsEl.replaceChildren(...parts);
  if (task === 'arc') syncArcSize();
}

/** @param {GridEditor} editor */
function resizeArc(editor) {
  const rows = Number(/** @type {HTMLInputElement} */ ($('arc-rows')).value);
  const cols = Number(/** @type {HTMLInputElement} */ ($('arc-cols')).value);
  const max = TASKS.arc.maxSide;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows > max || cols > max) {
    showInputError(`Rows and columns must be whole numbers from 1 to ${max}.`);
    syncArcSize();
    return;
  }
  showInputError('');
  editor.resize(rows, cols);
}

function syncArcSize() {
  const editor = state.editors.arc?.editor;
  const rows = document.getElementById('arc-rows');
  const cols = document.getElementById('arc-cols');
  if (!editor || !(rows instanceof HTMLInputElement) || !(cols instanceof HTMLInputElement)) return;
  rows.value = String(editor.rows);
  cols.value = String(editor.cols);
}

// ---- solving ----

/** The step limit of a run in words: a typed one, or the automatic one (longer for an answer that breaks the rules). @param {Run} run */
function stepLimitText(run) {
  const extended = Math.min(MAX_STEPS_LIMIT, UNTIL_VALID_FACTOR * run.maxSteps);
  return run.auto && CHECKED_TASKS.has(run.task) && run.maxSteps < extended
    ? `${run.maxSteps} (${extended} while the answer breaks the rules)`
    : String(run.maxSteps);
}

/** The options of the form; maxSteps null: the automatic limit (the field is empty). */
function readOptions() {
  const typed = maxStepsInput.value.trim();
  const maxSteps = typed === '' ? null : Number(typed);
  if (maxSteps !== null && (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > MAX_STEPS_LIMIT)) {
    throw new Error(
      `Max steps must be a whole number from 1 to ${MAX_STEPS_LIMIT}, or empty for the automatic limit (got "${typed}").`,
    );
  }
  const threshold = Number(thresholdInput.value);
  if (thresholdInput.value.trim() === '' || !(threshold >= 0 && threshold <= 1)) {
    throw new Error(`The halt threshold must be a number from 0 to 1 (got "${thresholdInput.value}").`);
  }
  return { maxSteps, threshold };
}

async function solve() {
  showInputError('');
  const task = state.task;
  const model = selectedModel();
  if (task === null || model === undefined) {
    showInputError('No served model solves this task.');
    return;
  }
  const puzzle = editorFor(task).grid;
  let options;
  try {
    checkGrid(task, puzzle);
    options = readOptions();
  } catch (err) {
    showInputError(/** @type {Error} */ (err).message);
    return;
  }
  state.run?.controller.abort();
  /** @type {Run} */
  const run = {
    task,
    puzzle,
    model,
    maxSteps: options.maxSteps ?? modelStepLimit(),
    auto: options.maxSteps === null,
    threshold: options.threshold,
    history: [],
    done: null,
    running: true,
    controller: new AbortController(),
    startedAt: performance.now(),
    finishedAt: 0,
    viewStep: 1,
  };
  state.run = run;
  state.follow = true;
  solveButton.disabled = true;
  stopButton.disabled = false;
  setOutput('running', `Solving with ${model.name}…`);
  renderRun();
  /** @type {import('./server-api.js').SolveRequest} */
  const body = { task, grid: puzzle, model: model.name, haltThreshold: run.threshold };
  if (!run.auto) body.maxSteps = run.maxSteps;
  const puzzleId = puzzleIdInput.value.trim();
  if (task === 'arc' && puzzleId !== '') body.puzzleId = puzzleId;
  try {
    const done = await solveStream(body, {
      signal: run.controller.signal,
      onStep: (step) => {
        if (state.run !== run) return;
        run.history.push(step);
        $('status').textContent = `Step ${step.step}: P(halt) ${step.haltProbability.toFixed(2)}…`;
        renderRun();
      },
    });
    if (state.run !== run) return;
    run.finishedAt = performance.now();
    run.done = done;
    // The done event is the answer; the stream's last step should be it, and is made so if a step went missing. An
    // answer from a symmetric copy of the puzzle (views) comes after the puzzle's own steps, marked as such.
    const fromCopy = done.view !== undefined && done.view.index > 0;
    if (fromCopy || run.history.at(-1)?.step !== done.steps) {
      run.history.push({
        step: done.steps,
        answer: done.answer,
        givensRestored: done.givensRestored,
        check: done.check,
        haltProbability: done.haltProbability,
        ...(fromCopy ? { view: done.view } : {}),
      });
    }
    run.running = false;
    setOutput(
      'done',
      `Done: ${done.steps} ${done.steps === 1 ? 'step' : 'steps'} in ${formatMs(done.timing.totalMs)} on the server ` +
        `(${done.halted ? 'the model halted' : 'no halt before the step limit'}).`,
    );
  } catch (err) {
    if (state.run !== run) return;
    run.running = false;
    const e = /** @type {Error} */ (err);
    if (e.name === 'AbortError')
      setOutput('stopped', `Stopped after ${run.history.length} of at most ${stepLimitText(run)} steps.`);
    else setOutput('error', 'No answer.', e.message);
  } finally {
    if (state.run === run) {
      solveButton.disabled = false;
      stopButton.disabled = true;
      renderRun();
    }
  }
}

/** Draws the current run at the step being viewed: answer, slider, chart, verdict and facts. */
function renderRun() {
  const run = state.run;
  const answerHost = $('answer-host');
  const count = run?.history.length ?? 0;
  if (run === null || count === 0) {
    answerHost.replaceChildren();
    stepView.disabled = true;
    $('step-label').textContent = '';
    $('verdict').textContent = '';
    $('verdict').className = 'verdict';
    $('facts').replaceChildren();
    renderHaltChart(chart, {
      points: [],
      maxSteps: run?.maxSteps ?? (Number(maxStepsInput.value) || modelStepLimit()),
      threshold: run?.threshold ?? (Number(thresholdInput.value) || 0),
    });
    return;
  }
  const view = state.follow ? count : Math.min(Math.max(1, run.viewStep), count);
  run.viewStep = view;
  const entry = run.history[view - 1];
  const previous = view === 1 ? run.puzzle : run.history[view - 2].answer;
  const changed = changedCells(previous, entry.answer);
  renderGrid(answerHost, run.task, entry.answer, {
    puzzle: run.task === 'sudoku' ? run.puzzle : undefined,
    changed,
    label: entry.view ? `Answer of a symmetric copy after its step ${entry.step}` : `Answer after step ${entry.step}`,
  }).dataset.step = String(entry.step);

  stepView.max = String(count);
  stepView.value = String(view);
  stepView.disabled = count < 2;
  const since = view === 1 ? 'from the puzzle' : 'since the step before';
  $('step-label').textContent = entry.view
    ? `The answer of copy ${entry.view.index + 1} of ${entry.view.tried} (${entry.view.name}) after its step ` +
      `${entry.step}, mapped back to the puzzle: ${changed.length} ${changed.length === 1 ? 'cell differs' : 'cells differ'} ` +
      `from the puzzle's own last answer`
    : `Step ${entry.step} of ${count}${run.running ? ' so far' : ''}: ${changed.length} ` +
      `${changed.length === 1 ? 'cell' : 'cells'} changed ${since}, P(halt) ${entry.haltProbability.toFixed(2)}`;

  renderHaltChart(chart, {
    points: run.history.filter((e) => !e.view),
    maxSteps: run.maxSteps,
    threshold: run.threshold,
    selected: entry.view ? undefined : entry.step,
    onSelect: (step) => showStep(step),
  });

  // The server's check of the answer shown: a solution, or the first rule it breaks.
  const said = verdict(run.task, entry);
  const verdictEl = $('verdict');
  verdictEl.textContent = said ? `${view === count && !run.running ? '' : `At step ${entry.step}: `}${said.text}` : '';
  verdictEl.className = said === null ? 'verdict' : VERDICT_CLASS[said.kind];

  renderFacts(run);
}

/** @param {Run} run */
function renderFacts(run) {
  const facts = $('facts');
  const done = run.done;
  if (done === null) {
    facts.replaceChildren();
    return;
  }
  const rows = [
    ['Model', `${done.model} on ${run.model.executionProvider} (${run.model.dtype})`],
    [
      'Steps',
      `${done.steps} of at most ${stepLimitText(run)}; ` +
        (done.halted
          ? `halted at P(halt) ${done.haltProbability.toFixed(2)} > ${run.threshold}`
          : run.history.some((e) => e.haltProbability > run.threshold)
            ? `P(halt) rose above ${run.threshold}, but on no answer that is a solution`
            : `P(halt) ${done.haltProbability.toFixed(2)} never rose above ${run.threshold}`),
    ],
    ...(done.view && done.view.tried > 1
      ? [
          [
            'Answered by',
            done.view.index === 0
              ? done.check?.valid
                ? `the puzzle itself, ahead of ${done.view.tried - 1} symmetric copies of it that ran beside it`
                : `the puzzle itself: none of ${done.view.tried - 1} symmetric copies of it found an answer that ` +
                  'follows the rules either'
              : `copy ${done.view.index + 1} of ${done.view.tried} (${done.view.name}: the same puzzle moved by a ` +
                'symmetry), whose answer followed the rules, mapped back; the puzzle itself had not solved it by ' +
                "the model's own number of steps",
          ],
        ]
      : []),
    [
      'Server time',
      `${formatMs(done.timing.totalMs)} (waiting ${formatMs(done.timing.queueMs)}, computing ${formatMs(done.timing.computeMs)})`,
    ],
    ['Round trip', `${formatMs(run.finishedAt - run.startedAt)} seen by this page`],
  ];
  facts.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.dataset.fact = term.toLowerCase().replace(' ', '-');
      return [dt, dd];
    }),
  );
}

/** @param {number} step */
function showStep(step) {
  const run = state.run;
  if (run === null) return;
  run.viewStep = step;
  state.follow = step >= run.history.length;
  renderRun();
}

// ---- start ----

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void solve();
});
stopButton.addEventListener('click', () => state.run?.controller.abort());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.run?.running) state.run.controller.abort();
});
stepView.addEventListener('input', () => showStep(Number(stepView.value)));
modelSelect.addEventListener('change', applyModelDefaults);
// Before the first run the empty chart previews the chosen step limit and threshold.
for (const input of [maxStepsInput, thresholdInput]) {
  input.addEventListener('input', () => {
    if (state.run === null) renderRun();
  });
}
$('clear').addEventListener('click', () => {
  if (state.task) editorFor(state.task).clear();
});
$('load-text').addEventListener('click', () => {
  if (state.task === null) return;
  try {
    editorFor(state.task).setGrid(parseGridText(state.task, gridText.value));
    showInputError('');
  } catch (err) {
    showInputError(`Could not read the text: ${/** @type {Error} */ (err).message}`);
  }
});
$('show-text').addEventListener('click', () => {
  if (state.task !== null) gridText.value = formatGridText(state.task, editorFor(state.task).grid);
});

renderRun();
solveButton.disabled = true;
try {
  state.models = await fetchModels();
  renderServing();
  buildTaskPicker(null);
  const first = TASK_ORDER.find((task) => modelsFor(task).length > 0);
  if (first) {
    selectTask(first);
    solveButton.disabled = false;
  } else {
    setOutput('idle', 'Nothing can be solved: the server runs no models.');
  }
} catch (err) {
  $('serving').textContent = 'Could not learn which models the server runs.';
  buildTaskPicker("the server's models could not be listed");
  setOutput('error', 'Nothing can be solved until the server answers.', /** @type {Error} */ (err).message);
}
document.body.dataset.ready = 'true';
