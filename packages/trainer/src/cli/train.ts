// `pnpm --filter @trm/trainer train`: see commands/train.ts and --help.
import { trainCommand, trainSpec } from '../commands/train.js';
import { main } from '../commands/main.js';

await main(trainSpec, trainCommand);
