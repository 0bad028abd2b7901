// The puzzle CSV files of the sudoku and maze sources (header `source,question,answer,rating`), read line by line
// so that even the 3.8M-row Sudoku-Extreme file never sits in memory as one string. Columns are found by name;
// fields may be quoted (RFC 4180, without line breaks inside fields).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface PuzzleCsvRow {
  source: string;
  question: string;
  answer: string;
  /** 1-based line number in the file, for error messages. */
  line: number;
}

/** Splits one CSV line into fields. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/**
 * Calls `onRow` for every data row of a puzzle CSV, in file order; returns the number of rows. Empty lines are
 * skipped. Errors name the file and line.
 */
export async function readPuzzleCsv(path: string, onRow: (row: PuzzleCsvRow, index: number) => void): Promise<number> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let columns: { source: number; question: number; answer: number } | undefined;
  let count = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) continue;
    const fields = splitCsvLine(line);
    if (!columns) {
      const names = fields.map((f) => f.trim().toLowerCase());
      const at = (name: string) => names.indexOf(name);
      columns = { source: at('source'), question: at('question'), answer: at('answer') };
      if (columns.question < 0 || columns.answer < 0)
        throw new Error(`${path}:1: header ${JSON.stringify(line)} has no "question" and "answer" columns`);
      continue;
    }
    if (fields.length <= Math.max(columns.question, columns.answer))
      throw new Error(
        `${path}:${lineNo}: has ${fields.length} fields, expected at least ${Math.max(columns.question, columns.answer) + 1}`,
      );
    onRow(
      {
        source: columns.source >= 0 ? (fields[columns.source] ?? '') : '',
        question: fields[columns.question]!,
        answer: fields[columns.answer]!,
        line: lineNo,
      },
      count++,
    );
  }
  if (!columns) throw new Error(`${path} is empty, expected a header line and puzzle rows`);
  return count;
}

export interface CsvSources {
  train: string;
  test: string;
}

/**
 * Finds the train and test CSV files from `--input`: a folder holding train.csv and test.csv, or the train CSV
 * itself, in which case the test split comes from test.csv in the same folder.
 */
export function findTrainTestCsv(input: string): CsvSources {
  if (!existsSync(input)) throw new Error(`--input ${input} does not exist (expected a train CSV or its folder)`);
  const isDir = statSync(input).isDirectory();
  const train = isDir ? join(input, 'train.csv') : input;
  const test = join(isDir ? input : dirname(input), 'test.csv');
  if (!isDir && basename(input) === 'test.csv')
    throw new Error(
      `--input ${input} is the test file; give the train CSV or the folder holding train.csv and test.csv`,
    );
  if (!existsSync(train)) throw new Error(`--input ${input} has no train.csv (looked for ${train})`);
  if (!existsSync(test))
    throw new Error(
      `--input ${input}: the test split is read from test.csv beside the train file, but ${test} does not exist`,
    );
  return { train, test };
}
