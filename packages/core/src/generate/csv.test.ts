import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatCsvField, formatPuzzleCsvLine, PUZZLE_CSV_HEADER, writePuzzleCsv } from './csv.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('puzzle CSV', () => {
  it('formats rows as the shared data does and quotes only when needed', () => {
    expect(formatPuzzleCsvLine({ source: 'gen', question: ' # S', answer: 'o# S', rating: 3 })).toBe('gen, # S,o# S,3');
    expect(formatCsvField('a,b')).toBe('"a,b"');
    expect(formatCsvField('say "hi"')).toBe('"say ""hi"""');
  });

  it('streams rows from a generator into the file atomically and counts them', async () => {
    const path = join(dir, 'out.csv');
    function* rows() {
      for (let i = 0; i < 3; i++) yield { source: `s${i}`, question: `q${i}`, answer: `a${i}`, rating: i };
    }
    expect(await writePuzzleCsv(path, rows())).toBe(3);
    expect(readFileSync(path, 'utf8')).toBe(`${PUZZLE_CSV_HEADER}\ns0,q0,a0,0\ns1,q1,a1,1\ns2,q2,a2,2\n`);

    writeFileSync(path, 'previous');
    function* failing() {
      yield { source: 's', question: 'q', answer: 'a', rating: 0 };
      throw new Error('generator failed');
    }
    await expect(writePuzzleCsv(path, failing())).rejects.toThrow('generator failed');
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });
});
