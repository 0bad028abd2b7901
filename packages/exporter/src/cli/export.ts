// `pnpm --filter @trm/exporter export`: see commands/export.ts and --help.
import { runCli } from '@trm/core';
import { exportCommand, exportSpec } from '../commands/export.js';

await runCli(exportSpec, exportCommand);
