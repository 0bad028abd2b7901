// `pnpm --filter @trm/trainer eval`: see commands/eval.ts and --help.
import { evalCommand, evalSpec } from '../commands/eval.js';
import { main } from '../commands/main.js';

await main(evalSpec, evalCommand);
