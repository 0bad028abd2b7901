// Puzzle-embedding rows by puzzle id, for ARC models: identifiers.json names the rows of `puzzle_emb.weights`
// (in puzzle_emb.safetensors when the folder has one, else in weights.safetensors). Tables reach millions of
// rows (2 GB), so only the header is read at start and each lookup reads its one row from the file.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { bf16ToF32, f16ToF32, IDENTIFIERS_FILE, SafetensorsFile, WEIGHTS_FILE } from '@trm/core';

export const PUZZLE_EMB_FILE = 'puzzle_emb.safetensors';
export const PUZZLE_TABLE_TENSOR = 'puzzle_emb.weights';

export class PuzzleTable {
  private fd: number | null;

  private constructor(
    readonly path: string,
    private readonly rows: Map<string, number>,
    private readonly offset: number,
    private readonly rowCount: number,
    readonly dim: number,
    private readonly dtype: 'F32' | 'F16' | 'BF16',
  ) {
    this.fd = openSync(path, 'r');
  }

  /**
   * The table of a model folder, or null when the folder has none to offer (no identifiers.json, or no
   * `puzzle_emb.weights` tensor). A table whose width is not `dim` is an error.
   */
  static async open(modelDir: string, dim: number): Promise<PuzzleTable | null> {
    const idPath = join(modelDir, IDENTIFIERS_FILE);
    if (dim === 0 || !existsSync(idPath)) return null;
    const ids: unknown = JSON.parse(readFileSync(idPath, 'utf8'));
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string'))
      throw new Error(`${idPath}: expected a JSON array of strings (the names of the puzzle-table rows)`);
    const candidates = [join(modelDir, PUZZLE_EMB_FILE), join(modelDir, WEIGHTS_FILE)].filter((p) => existsSync(p));
    for (const path of candidates) {
      const file = await SafetensorsFile.open(path);
      try {
        if (!file.has(PUZZLE_TABLE_TENSOR)) continue;
        const e = file.info(PUZZLE_TABLE_TENSOR);
        if (e.shape.length !== 2 || e.shape[1] !== dim)
          throw new Error(`${path}: ${PUZZLE_TABLE_TENSOR} has shape [${e.shape}], expected [rows, ${dim}]`);
        if (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16')
          throw new Error(`${path}: ${PUZZLE_TABLE_TENSOR} is ${e.dtype}, expected F32, F16 or BF16`);
        const rows = new Map<string, number>();
        // The first name wins if a name repeats; rows past the table's end are not addressable.
        (ids as string[]).forEach((name, i) => {
          if (i < e.shape[0]! && !rows.has(name)) rows.set(name, i);
        });
        return new PuzzleTable(path, rows, file.header.dataStart + e.begin, e.shape[0]!, dim, e.dtype);
      } finally {
        await file.close();
      }
    }
    return null;
  }

  get size(): number {
    return this.rowCount;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  /** The embedding row of puzzle `id` as float32, or undefined for an unknown id. */
  row(id: string): Float32Array | undefined {
    const index = this.rows.get(id);
    if (index === undefined) return undefined;
    if (this.fd === null) throw new Error(`${this.path}: the puzzle table is closed`);
    const width = this.dtype === 'F32' ? 4 : 2;
    const bytes = Buffer.alloc(this.dim * width);
    const n = readSync(this.fd, bytes, 0, bytes.length, this.offset + index * this.dim * width);
    if (n !== bytes.length) throw new Error(`${this.path}: short read of puzzle-table row ${index}`);
    const copy = new Uint8Array(bytes).buffer;
    if (this.dtype === 'F32') return new Float32Array(copy);
    const bits = new Uint16Array(copy);
    return this.dtype === 'F16' ? f16ToF32(bits) : bf16ToF32(bits);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
