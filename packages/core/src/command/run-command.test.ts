import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A command whose run waits until it is stopped, then takes 300 ms to "save" and prints that it did: what a
// training run does on Ctrl-C. Spawned through tsx so that real signals reach runCommand.
const dir = mkdtempSync(join(tmpdir(), 'run-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'cmd.mts');
writeFileSync(
  script,
  `import { runCommand } from ${JSON.stringify(join(import.meta.dirname, 'run-command.ts'))};
process.exitCode = await runCommand({
  name: 'demo',
  usage: 'demo',
  parse: () => ({ kind: 'run' as const }),
  run: async (_cmd, { signal }) => {
    const busy = setInterval(() => {}, 50); // work in progress keeps the process alive
    process.stdout.write('ready\\n');
    await new Promise((r) => signal.addEventListener('abort', r));
    await new Promise((r) => setTimeout(r, 300));
    process.stdout.write('saved\\n');
    clearInterval(busy);
  },
  stopping: 'saving...',
});
`,
);

interface Outcome {
  code: number | null;
  out: string;
  err: string;
}

/** Starts the command, waits for "ready", then sends `signals` at the given delays (ms after ready). */
function stopWith(signals: [NodeJS.Signals, number][]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (out === 'ready\n') for (const [s, at] of signals) setTimeout(() => child.kill(s), at);
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('runCommand stops gracefully', () => {
  it('on SIGTERM: the run finishes its save and the exit code is 130', async () => {
    const r = await stopWith([['SIGTERM', 0]]);
    expect(r.out).toBe('ready\nsaved\n');
    expect(r.err).toContain('demo: SIGTERM: saving...');
    expect(r.code).toBe(130);
  }, 30_000);

  it('on a SIGINT delivered twice at once (timeout(1) signals the child and its group): still saves', async () => {
    const r = await stopWith([
      ['SIGINT', 0],
      ['SIGINT', 5],
    ]);
    expect(r.out).toBe('ready\nsaved\n');
    expect(r.err).toContain('demo: SIGINT: saving... (Ctrl-C again to exit at once)');
    expect(r.code).toBe(130);
  }, 30_000);

  it('a deliberate second Ctrl-C (after the duplicate window) exits at once, without the save', async () => {
    // The save takes 300 ms, so stretch it: a second SIGINT 1.2 s later must land while saving is still running.
    const slow = script.replace('cmd.mts', 'slow.mts');
    writeFileSync(
      slow,
      (await import('node:fs')).readFileSync(script, 'utf8').replace('setTimeout(r, 300)', 'setTimeout(r, 5000)'),
    );
    const r = await new Promise<Outcome>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', slow], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c;
        if (out === 'ready\n') {
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGINT'), 1200);
        }
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, err }));
    });
    expect(r.out).toBe('ready\n');
    expect(r.code).toBe(130);
  }, 30_000);
});

// A command like the server: its process must not exit while a worker thread may be inside a native call, so a
// second signal only hurries it (it shortens its 1.5 s "drain" to 100 ms), and SIGTERM is a normal stop (exit 0).
const hurried = join(dir, 'hurried.mts');
writeFileSync(
  hurried,
  `import { runCommand } from ${JSON.stringify(join(import.meta.dirname, 'run-command.ts'))};
process.exitCode = await runCommand({
  name: 'serve',
  usage: 'serve',
  parse: () => ({ kind: 'run' as const }),
  run: async (_cmd, { signal, hurry }) => {
    const busy = setInterval(() => {}, 50);
    process.stdout.write('ready\\n');
    await new Promise((r) => signal.addEventListener('abort', r));
    await new Promise((r) => {
      const t = setTimeout(r, 1500);
      hurry.addEventListener('abort', () => {
        clearTimeout(t);
        process.stdout.write('hurried\\n');
        setTimeout(r, 100);
      });
    });
    process.stdout.write('drained\\n');
    clearInterval(busy);
  },
  stopping: 'draining...',
  again: 'hurry',
  stopCodes: { SIGTERM: 0 },
});
`,
);

function runHurried(signals: [NodeJS.Signals, number][]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', hurried], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (out === 'ready\n') for (const [s, at] of signals) setTimeout(() => child.kill(s), at);
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe("runCommand with again: 'hurry'", () => {
  it('a second SIGTERM hurries the run instead of exiting, and SIGTERM exits 0 once the run returns', async () => {
    const r = await runHurried([
      ['SIGTERM', 0],
      ['SIGTERM', 1200],
    ]);
    expect(r.out).toBe('ready\nhurried\ndrained\n');
    expect(r.err).toContain('serve: SIGTERM again: stopping sooner');
    expect(r.code).toBe(0);
  }, 30_000);

  it('Ctrl-C twice: hurried, never cut short, and exit 130', async () => {
    const r = await runHurried([
      ['SIGINT', 0],
      ['SIGINT', 1200],
    ]);
    expect(r.out).toBe('ready\nhurried\ndrained\n');
    expect(r.err).toContain('serve: SIGINT: draining... (Ctrl-C again to stop sooner)');
    expect(r.code).toBe(130);
  }, 30_000);
});
