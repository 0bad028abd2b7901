// What the HTTP tests use to talk to a real listening app: a keep-alive client that sends exact bytes and
// headers (fetch would fix up a bad Content-Type or refuse odd methods), and a parser of server-sent events.
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** abort the request after this many milliseconds (the client going away) */
  abortAfterMs?: number;
}

export interface TestServer {
  url: string;
  port: number;
  send(path: string, options?: SendOptions): Promise<RawResponse>;
  /** POST with a JSON body (a string is sent as is) */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  close(): Promise<void>;
}

/** Sends one request through `agent` and collects the whole answer. */
export function sendRequest(agent: Agent, port: number, path: string, options: SendOptions = {}): Promise<RawResponse> {
  // Node frames a body of GET, DELETE or OPTIONS only when told its length; unframed bytes would be read by the
  // server as the next request on the connection.
  const headers = { ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length'))
    headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.abortAfterMs !== undefined)
      setTimeout(() => req.destroy(new Error('aborted by the test')), options.abortAfterMs);
    req.end(options.body);
  });
}

/** Listens on a free loopback port. */
export async function listen(app: Express): Promise<TestServer> {
  const server = await new Promise<ReturnType<Express['listen']>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const send = (path: string, options?: SendOptions) => sendRequest(agent, port, path, options);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    send,
    post: (path, body, headers = {}) =>
      send(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits an event stream into events; every event must end with a blank line. */
export function parseEventStream(text: string): ServerSentEvent[] {
  if (text !== '' && !text.endsWith('\n\n')) throw new Error('the stream does not end with a complete event');
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
        else throw new Error(`unexpected line in an event: ${JSON.stringify(line)}`);
      }
      return { event, data: data.join('\n') };
    });
}
