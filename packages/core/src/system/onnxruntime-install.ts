// What an installation of onnxruntime-node holds, from the files alone: where its native libraries lie and whether
// ONNX Runtime's CUDA provider (installed next to them by the server's `cuda:install`) and the CUDA and cuDNN
// libraries it links are there. Used by every package that chooses a provider (the server's engine, the trainer),
// before asking ONNX Runtime, which prints an error line of its own when a library is missing. Callers pass the
// onnxruntime-node folder as they resolve it, since core does not depend on onnxruntime-node.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { missingSharedLibraries } from './shared-library.js';

/** The two libraries of the CUDA execution provider, found next to libonnxruntime.so.1. */
export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

export const CUDA_INSTALL_HINT = 'install it with `pnpm --filter @trm/server cuda:install`';

/** Where onnxruntime-node (the package folder given) loads its native libraries from on this platform. */
export function onnxruntimeBinDir(packageDir: string): string {
  return join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
}

export interface CudaProviderStatus {
  installed: boolean;
  dir: string;
  /** provider libraries missing in `dir` */
  missing: string[];
  /** libraries the installed provider links (CUDA, cuDNN) that the dynamic loader would not find */
  missingLibraries: string[];
}

/** The libraries the CUDA provider links that the loader would not find (none when it cannot tell). */
function cudaLibrariesMissing(binDir: string): string[] {
  try {
    return missingSharedLibraries(join(binDir, CUDA_PROVIDER_LIBRARIES[0]!));
  } catch {
    return []; // not a readable ELF file: let ONNX Runtime say what is wrong with it
  }
}

export function cudaProviderStatus(binDir: string): CudaProviderStatus {
  const missing = CUDA_PROVIDER_LIBRARIES.filter((f) => !existsSync(join(binDir, f)));
  const missingLibraries = missing.length === 0 ? cudaLibrariesMissing(binDir) : [];
  return { installed: missing.length === 0, dir: binDir, missing, missingLibraries };
}

/** Why the CUDA provider cannot load here, from the files alone, or null when nothing is missing. */
export function cudaUnavailable(status: CudaProviderStatus): string | null {
  if (!status.installed)
    return `the CUDA provider is not installed (${status.missing.join(', ')} missing in ${status.dir}); ${CUDA_INSTALL_HINT}`;
  if (status.missingLibraries.length > 0)
    return `the CUDA provider is installed but the dynamic loader finds no ${status.missingLibraries.join(', ')} (it needs the CUDA 13 and cuDNN 9 libraries: add their folder to LD_LIBRARY_PATH or register it with ldconfig)`;
  return null;
}
