// `pnpm build`: bundles every command-line entry point (`packages/*/src/{cli,bench}/*.ts`) into one ES module per command
// under `packages/<pkg>/dist/`, so a command runs with plain `node` where the workspace is not installed (for
// example on a GPU host that only receives a copy of the tree). Native and optional packages stay external.
import { readdirSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { build } from 'esbuild';

const EXTERNAL = [
  'webgpu',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
  'playwright-core',
];

const root = join(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages'));
let count = 0;
const started = performance.now();
for (const pkg of packages) {
  const entries = ['cli', 'bench'].flatMap((dir) => {
    const full = join(root, 'packages', pkg, 'src', dir);
    if (!existsSync(full)) return [];
    return readdirSync(full)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => join(full, f));
  });
  for (const entry of entries) {
    const outfile = join(root, 'packages', pkg, 'dist', `${basename(entry, '.ts')}.mjs`);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      external: EXTERNAL,
      logLevel: 'warning',
      // ESM bundles of CommonJS dependencies need a `require` in scope.
      banner: {
        js: "import { createRequire as __trmRequire } from 'node:module'; const require = __trmRequire(import.meta.url);",
      },
    });
    console.log(`built packages/${pkg}/dist/${basename(outfile)}`);
    count++;
  }
}
console.log(`${count} command bundles in ${((performance.now() - started) / 1000).toFixed(1)} s`);
