// `pnpm --filter @trm/trainer adapt`: see commands/adapt.ts and --help.
import { adaptCommand, adaptSpec } from '../commands/adapt.js';
import { runCli } from '@trm/core';

await runCli(adaptSpec, adaptCommand);
