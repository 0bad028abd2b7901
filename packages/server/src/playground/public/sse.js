// Server-sent events over a fetch() body. EventSource can only GET, and POST /solve/stream needs a JSON body,
// so the page reads the stream itself. The parser follows the HTML standard's event-stream rules: lines end in
// CR, LF or CRLF (a CR at the end of a chunk may be half of a CRLF), `event:` names the event, `data:` lines
// join with newlines, a blank line dispatches, lines starting with ':' are comments, and an event that the
// stream cut off before its blank line is dropped.

/** @typedef {{ event: string, data: string }} ServerSentEvent */

/**
 * A push parser: feed it decoded text in chunks of any size; it calls `onEvent` for every complete event.
 * @param {(event: ServerSentEvent) => void} onEvent
 */
export function createEventStreamParser(onEvent) {
  let buffer = '';
  let eventName = '';
  /** @type {string[]} */
  let dataLines = [];

  /** @param {string} line */
  const takeLine = (line) => {
    if (line === '') {
      if (dataLines.length > 0) onEvent({ event: eventName || 'message', data: dataLines.join('\n') });
      eventName = '';
      dataLines = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventName = value;
    else if (field === 'data') dataLines.push(value);
    // `id` and `retry` only matter for EventSource's reconnection, which a POST stream does not do.
  };

  return {
    /** @param {string} text */
    push(text) {
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const ch = buffer[i];
        if (ch !== '\n' && ch !== '\r') continue;
        if (ch === '\r' && i === buffer.length - 1) break; // wait: the next chunk may start with the LF of a CRLF
        takeLine(buffer.slice(start, i));
        if (ch === '\r' && buffer[i + 1] === '\n') i++;
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    /** The stream ended: whatever has not reached its blank line is dropped, as EventSource does. */
    end() {
      buffer = '';
      eventName = '';
      dataLines = [];
    },
  };
}

/**
 * Yields the events of a response body as they arrive.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<ServerSentEvent>}
 */
export async function* readEventStream(body) {
  /** @type {ServerSentEvent[]} */
  const ready = [];
  const parser = createEventStreamParser((event) => ready.push(event));
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        parser.push(decoder.decode());
        parser.end();
      } else {
        parser.push(decoder.decode(value, { stream: true }));
      }
      while (ready.length > 0) yield/** @type {ServerSentEvent} */ (ready.shift());
      if (done) return;
    }
  } finally {
    // Leaving early (the consumer stopped, or an error event ended the solve) must release the connection.
    reader.cancel().catch(() => {});
  }
}
