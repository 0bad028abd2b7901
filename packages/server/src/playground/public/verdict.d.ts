// Types of verdict.js for the Node tests (the browser loads the .js as it is).
import type { AnswerCheck } from './server-api.js';

export interface Verdict {
  kind: 'solved' | 'invalid' | 'unchecked';
  text: string;
}

export declare function verdict(task: string, answer: { check?: AnswerCheck; givensRestored?: number }): Verdict | null;
