// Writes a whole dataset atomically: everything goes into a hidden sibling folder `.<name>.partial-<pid>` that is
// renamed to the output path only when complete, so a crash or Ctrl-C never leaves a half-written dataset that
// looks finished. Leftover partial folders of dead processes are removed on the next build.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SplitWriter } from './split-writer.js';

export interface DatasetWriterOptions {
  /** Replace an existing output folder (default: refuse). */
  force?: boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function folderBytes(path: string): number {
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    total += e.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

export class DatasetWriter {
  readonly tempDir: string;
  private readonly splits = new Map<string, SplitWriter>();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  private constructor(
    readonly outDir: string,
    private readonly opts: DatasetWriterOptions,
  ) {
    const parent = dirname(outDir);
    const name = basename(outDir);
    mkdirSync(parent, { recursive: true });
    const prefix = `.${name}.partial-`;
    for (const entry of readdirSync(parent)) {
      const pid = Number(entry.slice(prefix.length));
      if (entry.startsWith(prefix) && Number.isInteger(pid) && !processAlive(pid))
        rmSync(join(parent, entry), { recursive: true, force: true });
    }
    this.tempDir = join(parent, `${prefix}${process.pid}`);
    rmSync(this.tempDir, { recursive: true, force: true });
    mkdirSync(this.tempDir);
  }

  /** Starts a dataset at `outDir`; refuses an existing non-empty folder unless `force`. */
  static create(outDir: string, opts: DatasetWriterOptions = {}): DatasetWriter {
    DatasetWriter.checkTarget(outDir, opts);
    return new DatasetWriter(outDir, opts);
  }

  private static checkTarget(outDir: string, opts: DatasetWriterOptions): void {
    if (!existsSync(outDir) || opts.force) return;
    if (!statSync(outDir).isDirectory()) throw new Error(`--out ${outDir} exists and is not a folder`);
    if (readdirSync(outDir).length > 0)
      throw new Error(`--out ${outDir} already exists and is not empty; pass --force to replace it`);
  }

  /** A writer for split `name` with rows of `seqLen` tokens. */
  split(name: string, seqLen: number): SplitWriter {
    if (this.splits.has(name)) throw new Error(`split ${name} is already being written`);
    const w = new SplitWriter(this.tempDir, name, seqLen);
    this.splits.set(name, w);
    return w;
  }

  /** Writes a JSON file at `relPath` inside the dataset. */
  writeJson(relPath: string, value: unknown, pretty = false): void {
    this.writeText(relPath, `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
  }

  writeText(relPath: string, text: string): void {
    const path = join(this.tempDir, relPath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }

  /** Total size of what has been written so far. */
  bytes(): number {
    return folderBytes(this.state === 'committed' ? this.outDir : this.tempDir);
  }

  /** Moves the finished dataset into place (replacing the old one when `force`). */
  commit(): void {
    if (this.state !== 'open') throw new Error(`dataset ${this.outDir} is already ${this.state}`);
    DatasetWriter.checkTarget(this.outDir, this.opts);
    if (existsSync(this.outDir)) {
      // Move the old folder aside first so that the output path always holds a complete dataset or nothing.
      const old = join(dirname(this.outDir), `.${basename(this.outDir)}.old-${process.pid}`);
      rmSync(old, { recursive: true, force: true });
      renameSync(this.outDir, old);
      renameSync(this.tempDir, this.outDir);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(this.tempDir, this.outDir);
    }
    this.state = 'committed';
  }

  /** Closes open files and removes the partial folder. Safe to call more than once. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    for (const s of this.splits.values()) s.abort();
    rmSync(this.tempDir, { recursive: true, force: true });
  }
}
