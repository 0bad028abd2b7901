// Writing generated puzzles in the CSV layout of the sudoku and maze sources (`source,question,answer,rating`,
// one puzzle per line), streamed so that millions of rows never sit in memory, and atomically (temporary file +
// rename) so that an interrupted run never leaves a half-written file under the target name.
import { writeAtomic } from '../util/atomic-file.js';

export interface PuzzleCsvRecord {
  source: string;
  question: string;
  answer: string;
  rating: number | string;
}

export const PUZZLE_CSV_HEADER = 'source,question,answer,rating';

/** One CSV field, quoted (RFC 4180) only when it holds a comma, quote or line break. */
export function formatCsvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One data line, without the line break. */
export function formatPuzzleCsvLine(row: PuzzleCsvRecord): string {
  return [row.source, row.question, row.answer, String(row.rating)].map(formatCsvField).join(',');
}

/** Lines are gathered up to about this many characters per write call. */
const FLUSH_CHARS = 1 << 20;

/** Writes the header and every row to `path` atomically; returns the number of rows written. */
export async function writePuzzleCsv(
  path: string,
  rows: Iterable<PuzzleCsvRecord> | AsyncIterable<PuzzleCsvRecord>,
): Promise<number> {
  return writeAtomic(path, async (file) => {
    let count = 0;
    let pending = `${PUZZLE_CSV_HEADER}\n`;
    for await (const row of rows) {
      pending += `${formatPuzzleCsvLine(row)}\n`;
      count++;
      if (pending.length >= FLUSH_CHARS) {
        await file.appendFile(pending); // writes it all, unlike a single write()
        pending = '';
      }
    }
    await file.appendFile(pending);
    return count;
  });
}
