// `pnpm build`: bundles every command-line entry point (`packages/*/src/{cli,bench}/*.ts`) into one ES module per command
// under `packages/<pkg>/dist/`, so a command runs with plain `node` where the workspace is not installed (for
// example on a GPU host that only receives a copy of the tree). Native and optional packages stay external.
// dist/ holds only what is meant to be copied: `--sourcemap` writes source maps (about three times the size of the
// bundles) to `packages/<pkg>/dist-maps/`, linked from the bundles for `node --enable-source-maps`.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type CliSpec, type CommandIo, parseFlags, runCli } from '@trm/core';
import { build } from 'esbuild';

const spec: CliSpec = {
  usage: 'pnpm build',
  summary:
    'Type-checks, then bundles every command-line entry point (packages/*/src/{cli,bench}/*.ts) into one ES module\n' +
    'per command under packages/<pkg>/dist/, to run with plain node where the workspace is not installed.',
  flags: [
    {
      name: 'sourcemap',
      kind: 'bool',
      help: 'also write source maps, to packages/<pkg>/dist-maps/ (linked from the bundles for node --enable-source-maps)',
    },
  ],
  examples: ['pnpm build', 'pnpm build --sourcemap'],
};

const EXTERNAL = [
  'webgpu',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
  'playwright-core',
];

async function buildBundles(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: flags, help } = parseFlags(argv, spec);
  if (help) return;
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
    const dist = join(root, 'packages', pkg, 'dist');
    const maps = join(root, 'packages', pkg, 'dist-maps');
    // Maps of earlier builds, beside the bundles or in dist-maps/, would no longer match them.
    if (existsSync(dist)) for (const f of readdirSync(dist)) if (f.endsWith('.map')) rmSync(join(dist, f));
    rmSync(maps, { recursive: true, force: true });
    for (const entry of entries) {
      if (io.signal?.aborted) return; // Ctrl-C: stop between bundles
      const name = `${basename(entry, '.ts')}.mjs`;
      const outfile = join(dist, name);
      const result = await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        sourcemap: flags.sourcemap ? 'linked' : false,
        // Written here rather than by esbuild, so that the map can go to dist-maps/.
        write: false,
        external: EXTERNAL,
        logLevel: 'warning',
        // ESM bundles of CommonJS dependencies need a `require` in scope.
        banner: {
          js: "import { createRequire as __trmRequire } from 'node:module'; const require = __trmRequire(import.meta.url);",
        },
      });
      mkdirSync(dist, { recursive: true });
      for (const file of result.outputFiles) {
        if (file.path === outfile) {
          // dist-maps/ is a sibling of dist/, so the map's relative source paths stay valid there.
          const text = flags.sourcemap
            ? file.text.replace(`//# sourceMappingURL=${name}.map`, `//# sourceMappingURL=../dist-maps/${name}.map`)
            : file.text;
          writeFileSync(outfile, text);
        } else if (file.path === `${outfile}.map`) {
          mkdirSync(maps, { recursive: true });
          writeFileSync(join(maps, `${name}.map`), file.contents);
        } else throw new Error(`esbuild wrote an unexpected file ${file.path}`);
      }
      io.out(`built packages/${pkg}/dist/${name}${flags.sourcemap ? ` (map in packages/${pkg}/dist-maps/)` : ''}`);
      count++;
    }
    // A bundle whose entry point is gone (renamed or moved) would otherwise linger and travel with dist/.
    const built = new Set(entries.map((e) => `${basename(e, '.ts')}.mjs`));
    if (existsSync(dist))
      for (const f of readdirSync(dist))
        if (f.endsWith('.mjs') && !built.has(f)) {
          rmSync(join(dist, f));
          io.out(`removed packages/${pkg}/dist/${f} (no entry point)`);
        }
  }
  io.out(`${count} command bundles in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await runCli(spec, buildBundles);
