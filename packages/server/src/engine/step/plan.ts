// One supervision step of a batch, as the batcher asks for it and the step runner answers it. The batcher decides
// which puzzle sits in which row; the runner (in a worker) owns the recurrent state and moves its rows to match.
// Only what decides stopping comes back: the argmax answer per row and the halt logit.

/** What one row of the next step's batch holds. */
export type RowPlan =
  /** the puzzle that was in row `from` of the previous step continues (its state row moves to this row) */
  | { kind: 'keep'; from: number }
  /** a new puzzle: its state starts from H_init/L_init (reset = true) */
  | { kind: 'start'; tokens: Uint8Array; puzzleEmb?: Float32Array }
  /** an unused row of a fixed-size batch: PAD tokens and reset = true, its output is ignored */
  | { kind: 'idle' };

export interface StepPlan {
  rows: RowPlan[];
  /**
   * What lets a run of several steps end early (per row, in plan order): the halt logit above which the row halts
   * (+Infinity: never) and the steps it may still take (0 for an idle row). A run ends after the first step at
   * which no row goes on; without limits it takes all its steps. Halting itself is still decided from q_halt.
   */
  limits?: { haltLogit: Float32Array; stepsLeft: Int32Array };
}

export interface StepResult {
  /** supervision steps the plan ran (k, or fewer when the run ended early): each row advanced by all of them */
  steps: number;
  /** the argmax answer of each row after each step: [rows, steps, seq_len] */
  tokens: Uint8Array;
  /** the halt logit of each row after each step: [rows, steps] */
  qHalt: Float32Array;
}

/**
 * How a runner can place state rows. `compact`: rows may move, grow and shrink between steps (state on the host).
 * `fixed`: a row keeps its place and the batch keeps its size until every row is idle or started afresh (state in
 * device memory that JavaScript cannot read or rearrange).
 */
export type RowLayout = 'compact' | 'fixed';

/** Checks that a plan only asks what a runner of `layout` can do, given the previous step's batch size. */
export function checkPlan(plan: StepPlan, layout: RowLayout, previousRows: number): void {
  const rows = plan.rows;
  if (rows.length === 0) throw new Error('a step plan needs at least one row');
  const kept = rows.filter((r) => r.kind === 'keep').length;
  const seen = new Set<number>();
  rows.forEach((r, i) => {
    if (r.kind !== 'keep') return;
    if (!Number.isInteger(r.from) || r.from < 0 || r.from >= previousRows)
      throw new Error(`row ${i} keeps row ${r.from} but the previous step had ${previousRows} rows`);
    if (seen.has(r.from)) throw new Error(`row ${r.from} of the previous step is kept twice`);
    seen.add(r.from);
    if (layout === 'fixed' && r.from !== i)
      throw new Error(`row ${i} keeps row ${r.from}: with device-resident state a row cannot move`);
  });
  if (layout === 'fixed' && kept > 0 && rows.length !== previousRows)
    throw new Error(
      `the batch changes from ${previousRows} to ${rows.length} rows while rows are kept: device-resident state cannot be resized`,
    );
  if (plan.limits && (plan.limits.haltLogit.length !== rows.length || plan.limits.stepsLeft.length !== rows.length))
    throw new Error(`the plan's limits have ${plan.limits.haltLogit.length} rows, the plan ${rows.length}`);
  if (layout === 'compact' && rows.some((r) => r.kind === 'idle'))
    throw new Error('idle rows only exist in fixed layouts; a compact plan leaves them out');
}
