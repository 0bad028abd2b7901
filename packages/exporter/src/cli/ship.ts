// `pnpm --filter @trm/exporter ship`: see ship/ship-command.ts and --help.
import { runCli } from '@trm/core';
import { shipCommand, shipSpec } from '../ship/ship-command.js';

await runCli(shipSpec, shipCommand);
