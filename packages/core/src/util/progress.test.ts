// The progress bar: lines logged while it runs stand on their own (on a terminal the bar is cleared, then drawn
// again below them); after finish it draws nothing more.
import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';

function stream(isTTY: boolean): { stream: NodeJS.WriteStream; chunks: string[] } {
  const chunks: string[] = [];
  const s = { isTTY, write: (c: string) => chunks.push(c) > 0 } as unknown as NodeJS.WriteStream;
  return { stream: s, chunks };
}

const CLEAR = '\r\x1b[2K';

describe('Progress', () => {
  it('on a terminal, clears the bar before a logged line and draws it again below', () => {
    const t = stream(true);
    const p = new Progress('work', 4, { stream: t.stream, redrawMs: 0 });
    p.log('before the bar');
    p.tick(1, { loss: 0.5 });
    p.log('eval: fine');
    p.tick(3);
    p.finish();
    p.log('after the bar');
    p.tick(1);
    p.finish();
    // Each drawing of the bar first clears the line it is on.
    const drawing = (i: number) => {
      expect(t.chunks[i]!.startsWith(CLEAR), `chunk ${i}`).toBe(true);
      return t.chunks[i]!.slice(CLEAR.length);
    };
    expect(t.chunks[0]).toBe('before the bar\n');
    expect(drawing(1)).toMatch(/^work \[.*\] 1\/4 .* {2}loss 0\.500$/);
    expect(t.chunks[2]).toBe(`${CLEAR}eval: fine\n`);
    expect(drawing(3)).toMatch(/^work \[.*\] 1\/4 /);
    expect(drawing(4)).toMatch(/^work \[#+\] 4\/4 /);
    expect(drawing(5)).toMatch(/^work \[#+\] 4\/4 /);
    expect(t.chunks.slice(6)).toEqual(['\n', 'after the bar\n']);
  });

  it('elsewhere, prints logged lines and the bar as plain lines', () => {
    const t = stream(false);
    const p = new Progress('work', 2, { stream: t.stream, logEveryMs: 0 });
    p.tick();
    p.log('note');
    p.finish('done');
    expect(t.chunks[0]).toMatch(/^work \[.*\] 1\/2 .*\n$/);
    expect(t.chunks[1]).toBe('note\n');
    expect(t.chunks[2]).toMatch(/^work \[.*\] 1\/2 .*\n$/);
    expect(t.chunks.slice(3)).toEqual(['done\n']);
  });

  it('prints nothing when silent', () => {
    const t = stream(true);
    const p = new Progress('work', 2, { stream: t.stream, silent: true });
    p.tick();
    p.log('hidden');
    p.finish('hidden');
    expect(t.chunks).toEqual([]);
  });
});
