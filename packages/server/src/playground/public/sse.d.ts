// Types of sse.js for the Node tests (the browser loads the .js as it is).
export interface ServerSentEvent {
  event: string;
  data: string;
}

export interface EventStreamParser {
  push(text: string): void;
  end(): void;
}

export declare function createEventStreamParser(onEvent: (event: ServerSentEvent) => void): EventStreamParser;
export declare function readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent>;
