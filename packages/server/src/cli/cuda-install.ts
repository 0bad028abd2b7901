// `pnpm --filter @trm/server cuda:install`: places ONNX Runtime's CUDA execution provider next to onnxruntime-node's
// native library, so that `start --ep cuda` (and `auto`) can run on an NVIDIA GPU. See engine/cuda-install/.
import { existsSync } from 'node:fs';
import { type CliSpec, type CommandIo, FlagError, parseFlags, Progress, runCli } from '@trm/core';
import { CUDA_PACKAGE, installCudaProvider } from '../engine/cuda-install/install.js';
import { ONNXRUNTIME_VERSION } from '../engine/providers.js';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/server cuda:install',
  summary:
    `Installs the CUDA execution provider of ONNX Runtime ${ONNXRUNTIME_VERSION} for onnxruntime-node: the libraries\n` +
    `libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so from the npm package\n` +
    `${CUDA_PACKAGE.name}@${CUDA_PACKAGE.version} (built against CUDA 13 and cuDNN 9, which the host must provide),\n` +
    `downloaded from the npm registry (179 MB, checked against its published sha512) or taken from --from.`,
  flags: [
    {
      name: 'from',
      kind: 'path',
      value: '<tgz|dir>',
      help: 'use this copy of the package tarball, or a folder holding the two libraries, instead of downloading',
    },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm --filter @trm/server cuda:install',
    `pnpm --filter @trm/server cuda:install --from ~/Downloads/${CUDA_PACKAGE.name}-${CUDA_PACKAGE.version}.tgz`,
  ],
};

async function cudaInstall(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const from = values.from as string | undefined;
  if (from !== undefined && !existsSync(from)) throw new FlagError(`--from ${from} does not exist`, '--from');
  let bar: Progress | null = null;
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  const result = await installCudaProvider({
    from,
    signal: io.signal,
    onProgress: (bytes, total) => {
      bar ??= new Progress(from ? 'reading' : 'downloading', total ? mb(total) : 0, {
        unit: 'MB',
        silent: values.quiet === true,
      });
      bar.update(mb(bytes));
    },
  });
  (bar as Progress | null)?.finish();
  const files = result.files.map((f) => `${f.name} (${mb(f.bytes)} MB)`).join(', ');
  io.out(`installed ${files} into ${result.dir} from ${result.source}`);
  io.out('start the server with --ep cuda (or auto); it needs the CUDA 13 and cuDNN 9 libraries on the library path');
}

await runCli(spec, cudaInstall);
