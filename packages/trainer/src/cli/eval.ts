// `pnpm --filter @trm/trainer eval`: see commands/eval.ts and --help.
import { evalCommand, evalSpec } from '../commands/eval.js';
import { runCli } from '@trm/core';

await runCli(evalSpec, evalCommand);
