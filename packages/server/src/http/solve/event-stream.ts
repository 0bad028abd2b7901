// Server-sent events on an Express response (https://html.spec.whatwg.org/multipage/server-sent-events.html).
// The headers go out with the first event, so that an error before any step (a full queue, say) can still be
// answered with a plain JSON status instead of a stream that opens only to report it.
import type { Response } from 'express';

export class EventStream {
  constructor(private readonly res: Response) {}

  get started(): boolean {
    return this.res.headersSent;
  }

  /** Writes one event; the data is one line of JSON, so no `data:` continuation lines are needed. */
  send(event: string, data: unknown): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.headersSent) {
      this.res.status(200);
      this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      this.res.setHeader('Cache-Control', 'no-cache, no-transform');
      // Reverse proxies (nginx) buffer responses unless told otherwise; events must arrive as they happen.
      this.res.setHeader('X-Accel-Buffering', 'no');
      this.res.flushHeaders();
    }
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
