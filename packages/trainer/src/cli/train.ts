// `pnpm --filter @trm/trainer train`: see commands/train.ts and --help.
import { trainCommand, trainSpec } from '../commands/train.js';
import { runCli } from '@trm/core';

await runCli(trainSpec, trainCommand);
