// The event-stream parser (public/sse.js): events split anywhere across chunks, any line ending, comments and
// multi-line data, and a stream cut off mid-event.
import { describe, expect, it } from 'vitest';
import { createEventStreamParser, readEventStream, type ServerSentEvent } from './public/sse.js';

function parseChunks(chunks: string[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  const parser = createEventStreamParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

const STREAM =
  ': keep-alive comment\n' +
  'event: step\ndata: {"step":1}\n\n' +
  'event: step\r\ndata:{"step":2}\r\n\r\n' +
  'event: done\rdata: {"a":\rdata: 1}\r\r' +
  'data: no event name\n\n';

const EXPECTED: ServerSentEvent[] = [
  { event: 'step', data: '{"step":1}' },
  { event: 'step', data: '{"step":2}' },
  { event: 'done', data: '{"a":\n1}' },
  { event: 'message', data: 'no event name' },
];

describe('createEventStreamParser', () => {
  it('reads events with LF, CRLF and CR line ends, comments, and multi-line data', () => {
    expect(parseChunks([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events however the text is split, including between CR and LF', () => {
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(parseChunks(chunks)).toEqual(EXPECTED);
    }
    const crlf = STREAM.indexOf('\r\n');
    expect(parseChunks([STREAM.slice(0, crlf + 1), STREAM.slice(crlf + 1)])).toEqual(EXPECTED);
  });

  it('drops an event the stream cut off before its blank line, and events without data', () => {
    expect(parseChunks(['event: step\ndata: {"step":1}\n\nevent: done\ndata: {"steps"'])).toEqual([
      { event: 'step', data: '{"step":1}' },
    ]);
    expect(parseChunks(['event: ping\n\n'])).toEqual([]);
  });
});

describe('readEventStream', () => {
  it('yields events from a byte stream whose chunks split a multi-byte character', async () => {
    const bytes = new TextEncoder().encode('event: step\ndata: "P(halt) ≥ 0.5"\n\nevent: done\ndata: {}\n\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of '≥'
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, cut));
        controller.enqueue(bytes.slice(cut));
        controller.close();
      },
    });
    const events: ServerSentEvent[] = [];
    for await (const event of readEventStream(body)) events.push(event);
    expect(events).toEqual([
      { event: 'step', data: '"P(halt) ≥ 0.5"' },
      { event: 'done', data: '{}' },
    ]);
  });
});
