// Turns a training run's folder into a shipped model folder under models/: config.json, weights.safetensors in
// float16 (H_init/L_init in bfloat16, which holds their values exactly) and identifiers.json when present. The
// model card (README.md) is written by hand from the run's facts and the evaluations of the shipped folder.
//   pnpm exec tsx scripts/ship-model.ts <run dir> <models/name>
import { existsSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILE, IDENTIFIERS_FILE, readModelFolder, WEIGHTS_FILE, writeWeights } from '@trm/core';

const [runDir, outDir] = process.argv.slice(2);
if (!runDir || !outDir) {
  process.stderr.write('usage: tsx scripts/ship-model.ts <run dir> <models/name>\n');
  process.exit(2);
}
const run = await readModelFolder(runDir);
await mkdir(outDir, { recursive: true });
await copyFile(join(runDir, CONFIG_FILE), join(outDir, CONFIG_FILE));
if (existsSync(join(runDir, IDENTIFIERS_FILE)))
  await copyFile(join(runDir, IDENTIFIERS_FILE), join(outDir, IDENTIFIERS_FILE));
const { format: _format, 'trm.format_version': _version, ...metadata } = run.metadata;
await writeWeights(
  join(outDir, WEIGHTS_FILE),
  run.config,
  run.weights,
  { ...metadata, 'trm.shipped_dtype': 'float16' },
  'float16',
);
const bytes = (await stat(join(outDir, WEIGHTS_FILE))).size;
process.stdout.write(`shipped ${runDir} -> ${outDir} (${WEIGHTS_FILE} ${(bytes / 1024).toFixed(0)} KiB, float16)\n`);
