// `pnpm --filter @trm/trainer adapt`: see commands/adapt.ts and --help.
import { adaptCommand, adaptSpec } from '../commands/adapt.js';
import { main } from '../commands/main.js';

await main(adaptSpec, adaptCommand);
