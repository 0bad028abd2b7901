// One curves.svg for consecutive runs of one model (a run continued with `train --init` starts its steps at 0):
// each run's metrics.jsonl with the number of steps before it.
//   pnpm exec tsx scripts/join-curves.ts <out.svg> <title> <halt_max_steps> <metrics.jsonl>:<steps before> ...
import { readFileSync, writeFileSync } from 'node:fs';
import { trainingCurvesSvg } from '../packages/trainer/src/plot/training-curves.js';

const [out, title, maxSteps, ...runs] = process.argv.slice(2);
if (!out || title === undefined || !Number(maxSteps) || runs.length === 0) {
  process.stderr.write(
    'usage: tsx scripts/join-curves.ts <out.svg> <title> <halt_max_steps> <metrics.jsonl>:<steps before> ...\n',
  );
  process.exit(2);
}
const records = [];
for (const spec of runs) {
  const [file, offset = '0'] = spec.split(':');
  for (const line of readFileSync(file!, 'utf8').trim().split('\n')) {
    const r = JSON.parse(line);
    if (r.kind !== 'train' && r.kind !== 'eval') continue;
    records.push({ ...r, step: r.step + Number(offset) });
  }
}
writeFileSync(out!, trainingCurvesSvg(records, title, Number(maxSteps)));
console.log(`wrote ${out} (${records.length} records)`);
