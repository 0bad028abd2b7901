// The work folder of a batch run, which makes long runs resumable: settings.json records what the results depend
// on, results.jsonl gets one line per finished task, appended and synced as each task finishes. A rerun with the
// same settings skips every task already solved (same task content, by fingerprint) and repeats nothing; failed
// tasks are tried again. A line cut short by a kill is dropped on open (and the file rewritten without it), so
// at most the task being written is solved again. Scratch space for adaptation lives here too, one folder per
// chunk, removed when the chunk is done (leftovers of a killed run are removed on open).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArcTask, UsageError, writeFileAtomic } from '@trm/core';
import type { RowSourceKind } from './variants.js';
import type { Candidate } from './vote.js';

export const SETTINGS_FILE = 'settings.json';
export const RESULTS_FILE = 'results.jsonl';
const SCRATCH_PREFIX = 'chunk-';

/** What the votes of one test input came to. */
export interface TestResult {
  /** predictions made (one per variant) */
  predictions: number;
  /** predictions whose canvas held no grid */
  empty: number;
  /** the best distinct grids, best first (the first two are the submission's attempts) */
  candidates: Candidate[];
}

/** One line of results.jsonl. */
export interface TaskRecord {
  taskId: string;
  /** taskFingerprint of the task as it was solved */
  fingerprint: string;
  status: 'solved' | 'failed';
  /** why the task failed */
  error?: string;
  rows: RowSourceKind;
  variants: number;
  /** one per test input, in order (empty when the task failed) */
  tests: TestResult[];
  seconds: number;
  finished: string;
}

/** Settings the results depend on; a rerun must match them. Values are compared as JSON. */
export type RunSettings = Record<string, string | number | boolean | null>;

/** A task's identity: SHA-256 of its demonstration pairs and test inputs. */
export function taskFingerprint(task: ArcTask): string {
  const content = { train: task.train, test: task.test.map((p) => p.input) };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
}

function isRecord(v: unknown): v is TaskRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<TaskRecord>;
  return (
    typeof r.taskId === 'string' &&
    typeof r.fingerprint === 'string' &&
    (r.status === 'solved' || r.status === 'failed') &&
    Array.isArray(r.tests)
  );
}

function describe(v: unknown): string {
  return v === undefined ? 'unset' : JSON.stringify(v);
}

export class WorkFolder {
  private readonly latest = new Map<string, TaskRecord>();
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly file: FileHandle,
    /** lines of a previous run that could not be read (a write cut short) and were dropped */
    readonly dropped: number,
    records: TaskRecord[],
  ) {
    for (const r of records) this.latest.set(r.taskId, r);
  }

  /**
   * Opens (or creates) the work folder for a run with `settings`. Results of a run with other settings are an
   * error unless `fresh`, which discards them.
   */
  static async open(dir: string, settings: RunSettings, o: { fresh?: boolean } = {}): Promise<WorkFolder> {
    await mkdir(dir, { recursive: true });
    const settingsPath = join(dir, SETTINGS_FILE);
    const resultsPath = join(dir, RESULTS_FILE);
    if (o.fresh) await rm(resultsPath, { force: true });
    if (existsSync(resultsPath) && existsSync(settingsPath)) {
      const before = JSON.parse(await readFile(settingsPath, 'utf8')) as RunSettings;
      const keys = [...new Set([...Object.keys(before), ...Object.keys(settings)])];
      const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(settings[k]));
      if (changed.length > 0)
        throw new UsageError(
          `--work ${dir} holds results of a run with other settings (${changed
            .map((k) => `${k}: ${describe(before[k])} then, ${describe(settings[k])} now`)
            .join('; ')}): pass --fresh to discard them, or choose another --work folder`,
        );
    }
    for (const entry of await readdir(dir))
      if (entry.startsWith(SCRATCH_PREFIX)) await rm(join(dir, entry), { recursive: true, force: true });
    await writeFileAtomic(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);

    const records: TaskRecord[] = [];
    let dropped = 0;
    if (existsSync(resultsPath)) {
      const text = await readFile(resultsPath, 'utf8');
      const lines = text.split('\n');
      // Everything after the last newline is a line whose write did not complete.
      const last = lines.pop()!;
      if (last !== '') dropped++;
      for (const line of lines) {
        if (line === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = undefined;
        }
        if (isRecord(parsed)) records.push(parsed);
        else dropped++;
      }
      if (dropped > 0) await writeFileAtomic(resultsPath, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
    return new WorkFolder(dir, await open(resultsPath, 'a'), dropped, records);
  }

  /** The latest record of a task, if any. */
  record(taskId: string): TaskRecord | undefined {
    return this.latest.get(taskId);
  }

  /** True when the task was solved before with the same content. */
  solved(taskId: string, fingerprint: string): boolean {
    const r = this.latest.get(taskId);
    return r !== undefined && r.status === 'solved' && r.fingerprint === fingerprint;
  }

  /** Appends a task's record and syncs it to disk; appends are written in call order. */
  append(record: TaskRecord): Promise<void> {
    this.latest.set(record.taskId, record);
    const line = `${JSON.stringify(record)}\n`;
    this.tail = this.tail.then(async () => {
      await this.file.write(line);
      await this.file.datasync();
    });
    return this.tail;
  }

  /** A scratch folder for chunk `index` (created by the caller, removed with removeScratch). */
  scratch(index: number): string {
    return join(this.dir, `${SCRATCH_PREFIX}${index}`);
  }

  removeScratch(index: number): Promise<void> {
    return rm(this.scratch(index), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.file.close();
  }
}
