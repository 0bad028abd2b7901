// `pnpm --filter @trm/exporter import-official ...`: an official PyTorch checkpoint in, a model folder out (see
// --help). Ctrl-C stops before anything is written.
import { runCommand } from '@trm/core';
import { IMPORT_OFFICIAL_USAGE, parseImportOfficialArgs, runImportOfficial } from '../commands/import-official.js';

process.exitCode = await runCommand({
  name: 'import-official',
  usage: IMPORT_OFFICIAL_USAGE,
  parse: parseImportOfficialArgs,
  run: (cmd, { signal }) => runImportOfficial(cmd, { signal }),
  stopping: 'stopping; nothing is written until every tensor has been read',
});
