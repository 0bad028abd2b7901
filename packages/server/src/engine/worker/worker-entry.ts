// Starting the inference worker in both ways the server runs. From an esbuild bundle (scripts/build.ts bundles
// every src/cli/*.ts into dist/), this code is inlined into dist/<command>.mjs and the worker is its sibling
// dist/engine-worker.mjs. From the TypeScript sources (tsx, vitest) the worker is src/cli/engine-worker.ts, and
// Node 20 does not apply the parent's loader to a worker's entry file (measured: "Unknown file extension .ts",
// with or without `--import tsx` in execArgv), so a two-line bootstrap registers tsx in the worker and then
// imports the TypeScript entry.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startWorker(workerData: unknown, moduleUrl = import.meta.url): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL('./engine-worker.mjs', moduleUrl), { workerData });
  const tsxApi = tsxEsmApi(moduleUrl);
  const entry = new URL('../../cli/engine-worker.ts', moduleUrl).href;
  const bootstrap = [
    `import(${JSON.stringify(tsxApi)})`,
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
    `.catch((err) => { console.error(err); process.exit(1); });`,
  ].join('');
  return new Worker(bootstrap, { eval: true, workerData });
}

/** URL of tsx's ESM `register` API: the `import` target of its `./esm/api` export (require.resolve gives the CJS one). */
function tsxEsmApi(moduleUrl: string): string {
  const pkgPath = createRequire(moduleUrl).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } } | string>;
  };
  const target = pkg.exports['./esm/api'];
  const file = typeof target === 'object' ? target.import?.default : undefined;
  if (!file) throw new Error(`${pkgPath} has no ESM entry for tsx/esm/api; running from sources needs tsx 4`);
  return pathToFileURL(join(dirname(pkgPath), file)).href;
}
