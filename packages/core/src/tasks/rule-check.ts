// What a task's rule check says about an answer: whether it satisfies the puzzle's constraints, and if not, the
// first constraint it breaks in words. `valid: null` means the task has no rules to check an answer against
// without its solution (ARC). Kept apart from the checks so that every task's check returns the same thing.

export interface RuleCheck {
  /** true: every constraint holds; false: one does not (`reason` names it); null: the task has no rule check */
  valid: boolean | null;
  /** why the answer is not valid, or why there is no verdict; absent for a valid answer */
  reason?: string;
}

/** ARC answers follow from the task's demonstrations, not from rules that the answer alone can be held to. */
export const ARC_RULE_CHECK: RuleCheck = Object.freeze({ valid: null, reason: 'no rule check for ARC' });

/** Small counts in words, for reasons such as "row 3 has two 7s". */
export function countWord(n: number): string {
  return ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'][n] ?? String(n);
}
