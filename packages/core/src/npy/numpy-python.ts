// Finds a Python interpreter with numpy, so that tests can check our .npy files with an independent reader.
// Tests fail (rather than skip) when none is found, unless TRM_SKIP_NUMPY=1, so that CI cannot pass silently
// without the check.
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['/usr/bin/python3', 'python3'];

let cached: string | null | undefined;

/** The first candidate interpreter that can import numpy, or null. */
export function findNumpyPython(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const exe of CANDIDATES) {
    const r = spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' });
    if (r.status === 0) {
      cached = exe;
      break;
    }
  }
  return cached;
}

/** True when the numpy cross-checks should be skipped by request. */
export function numpySkipped(): boolean {
  return process.env.TRM_SKIP_NUMPY === '1';
}

/** Runs a Python script with numpy; throws with its stderr when it fails or when no interpreter has numpy. */
export function runNumpyScript(script: string, args: readonly string[] = []): string {
  const exe = findNumpyPython();
  if (!exe)
    throw new Error(
      `no Python with numpy found (tried ${CANDIDATES.join(', ')}): install Debian's python3-numpy ` +
        '(apt-get install python3-numpy), or set TRM_SKIP_NUMPY=1 to skip the numpy cross-checks',
    );
  const r = spawnSync(exe, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python (${exe}) failed with status ${r.status}:\n${r.stderr}`);
  return r.stdout;
}
