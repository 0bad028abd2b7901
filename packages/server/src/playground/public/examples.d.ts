// Types of examples.js for the Node tests (the browser loads the .js as it is).
import type { TaskName } from './tasks.js';

export interface Example {
  name: string;
  text: string;
}

export declare const EXAMPLES: Record<TaskName, Example[]>;
