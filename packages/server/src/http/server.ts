// The listening server around createApp: the port, a startup line, the request log, and the graceful shutdown.
// On SIGINT/SIGTERM (or `shutdown()`): /readyz turns 503 and new solves get 503 (optionally for a while, so a
// load balancer notices), the listener closes, requests in flight finish, the engines drain, then it resolves.
// `hurry()` (a second stop signal) shortens the drain: puzzles still queued get 503 at once, those in a batch
// finish. Nothing here ever exits the process: a worker thread may be inside session.run.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DUPLICATE_SIGNAL_MS } from '@trm/core';
import type { Express } from 'express';
import type { SolveEngine } from '../engine/types.js';
import { type AppOptions, createApp } from './app.js';
import type { Lifecycle } from './context.js';
import { allowedHosts } from './host-check.js';

export interface ServeOptions extends Omit<AppOptions, 'lifecycle'> {
  /** default 8080; 0 picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** process signals that start the graceful shutdown (default SIGINT and SIGTERM; [] for none) */
  signals?: NodeJS.Signals[];
  /** also start the shutdown when this fires (the CLI's Ctrl-C) */
  signal?: AbortSignal;
  /** hurry the shutdown when this fires (the CLI's second Ctrl-C or SIGTERM); see `RunningServer.hurry` */
  hurry?: AbortSignal;
  /** keep accepting connections this long after the shutdown starts, answering 503 (default 0) */
  drainDelayMs?: number;
  /** close the connections still open this long after the listener closed (default 30 s) */
  drainTimeoutMs?: number;
  /** lifecycle lines: listening, draining, stopped (default stderr) */
  info?: (line: string) => void;
  /** connection timeouts (default SERVER_TIMEOUTS) */
  timeouts?: Partial<ServerTimeouts>;
}

/**
 * How long a client may take, in milliseconds. `headers`: from the connection (or the end of the previous request
 * on it) to the end of the request headers; `request`: to the end of the whole request, body included (not the
 * answer: a long stream is not cut); past either the server answers 408 and closes the connection. `keepAlive`: how
 * long an idle kept-alive connection stays open for the next request.
 */
export interface ServerTimeouts {
  headers: number;
  request: number;
  keepAlive: number;
}

/** Node's defaults, set explicitly so that the README states what the server does. */
export const SERVER_TIMEOUTS: ServerTimeouts = { headers: 60_000, request: 300_000, keepAlive: 5_000 };

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  server: Server;
  lifecycle: Lifecycle;
  /** starts the graceful shutdown (once); resolves when the listener is closed and the engines are drained */
  shutdown(reason?: string): Promise<void>;
  /**
   * Shortens a shutdown (starting it if needed): the puzzles still waiting for a batch slot get 503 with
   * Retry-After at once; puzzles in a batch run to their end, so no step is cut short.
   */
  hurry(reason?: string): Promise<void>;
  /** resolves when a shutdown, however started, has finished */
  closed: Promise<void>;
}

const IDLE_SWEEP_MS = 100;

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A server of `app` listening on host:port with the given timeouts; resolves once the port is bound. */
function listen(app: Express, host: string, port: number, timeouts: ServerTimeouts): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = createServer(
      {
        headersTimeout: timeouts.headers,
        requestTimeout: timeouts.request,
        keepAliveTimeout: timeouts.keepAlive,
        // Node checks the two timeouts on this interval (30 s by default): a fraction of the shorter one keeps them
        // close to what they say.
        connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(timeouts.headers / 4))),
      },
      app,
    );
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}

/**
 * Closes the listener and waits for the requests in flight; connections still open after `timeoutMs` are closed.
 * Connections kept alive after their last answer would hold close() open until their timeout: each is closed as
 * soon as it has no request in flight.
 */
async function closeListener(server: Server, timeoutMs: number, info: (line: string) => void): Promise<void> {
  const listenerClosed = new Promise<void>((r) => server.close(() => r()));
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(true), timeoutMs);
  });
  const forced = await Promise.race([listenerClosed.then(() => false), timedOut]);
  if (forced) {
    info(`requests still in flight after ${timeoutMs} ms: closing their connections`);
    server.closeAllConnections();
    await listenerClosed;
  }
  clearTimeout(timer);
  clearInterval(sweep);
}

/** Starts listening; resolves once the port is bound. */
export async function serve(
  engines: ReadonlyMap<string, SolveEngine> | SolveEngine,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const byName: ReadonlyMap<string, SolveEngine> =
    engines instanceof Map ? engines : new Map([[(engines as SolveEngine).info.name, engines as SolveEngine]]);
  const info = options.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const lifecycle: Lifecycle = { draining: false };
  const host = options.host ?? '127.0.0.1';
  // The name the server is bound to is one it answers to.
  const hosts = allowedHosts(host, options.allowedHosts ?? []);
  const app = createApp(byName, { ...options, lifecycle, allowedHosts: hosts });

  const server = await listen(app, host, options.port ?? 8080, { ...SERVER_TIMEOUTS, ...options.timeouts });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(host)}:${port}`;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let shuttingDown: Promise<void> | null = null;

  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  // A second signal hurries the shutdown, unless it is the first one delivered twice (see runCommand).
  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (shuttingDown === null) firstSignalAt = performance.now();
    else if (performance.now() - firstSignalAt >= DUPLICATE_SIGNAL_MS) void hurry(`${sig} again`);
    void shutdown(sig);
  };
  for (const sig of signals) process.on(sig, onSignal);
  const onAbort = () => void shutdown('interrupted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const onHurry = () => void hurry('asked again');
  options.hurry?.addEventListener('abort', onHurry, { once: true });

  async function stop(reason: string): Promise<void> {
    lifecycle.draining = true;
    info(`draining (${reason}): /readyz answers 503, finishing the requests in flight`);
    if (options.drainDelayMs) await new Promise((r) => setTimeout(r, options.drainDelayMs));
    await closeListener(server, options.drainTimeoutMs ?? 30_000, info);
    await Promise.all([...byName.values()].map((e) => e.drain()));
    for (const sig of signals) process.off(sig, onSignal);
    options.signal?.removeEventListener('abort', onAbort);
    options.hurry?.removeEventListener('abort', onHurry);
    info('stopped');
  }

  function shutdown(reason = 'shutdown requested'): Promise<void> {
    shuttingDown ??= stop(reason).finally(resolveClosed);
    return shuttingDown;
  }

  let hurried = false;
  function hurry(reason = 'hurry requested'): Promise<void> {
    const done = shutdown(reason);
    if (hurried) return done;
    hurried = true;
    let refused = 0;
    let inBatches = 0;
    for (const e of byName.values()) {
      refused += e.refuseQueued('the server is shutting down; retry on another instance');
      inBatches += e.stats().activeSlots;
    }
    info(`stopping sooner (${reason}): ${refused} queued puzzle(s) refused with 503, ${inBatches} in batches finish`);
    return done;
  }

  return { url, port, server, lifecycle, shutdown, hurry, closed };
}
