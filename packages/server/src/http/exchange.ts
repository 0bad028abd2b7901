// What every exchange gets before any route sees it: its timing, metrics and request-log line, recorded when it ends
// however it ends; `Connection: close` while the server drains; and headers that keep browsers from sniffing,
// running or framing the answers. The routes label the exchange for the metrics.
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from './context.js';

/**
 * The playground's Content-Security-Policy: its own scripts, styles and API only (the favicon is a data: URL), no
 * framing. Everything else the server answers is data, which no browser should run or frame.
 */
export const PLAYGROUND_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Route label of requests that matched no route: one label, so random paths cannot grow the metrics. */
export const UNMATCHED = 'unmatched';

/** The middleware that times the exchange and records it in the metrics and `log` when the exchange closes. */
export function recordExchanges(ctx: AppContext, log?: (line: string) => void) {
  return (req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    res.locals.startedAt = startedAt;
    res.locals.route = UNMATCHED;
    res.on('close', () => {
      const route = res.locals.route as string;
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const seconds = (performance.now() - startedAt) / 1000;
      ctx.metrics.requests.inc({ route, method: req.method, status });
      ctx.metrics.latency.observe({ route }, seconds);
      log?.(`${req.method} ${req.originalUrl.slice(0, 200)} ${status} ${(seconds * 1000).toFixed(1)} ms`);
    });
    // While draining, keep-alive clients are told to reconnect (to another instance).
    if (ctx.lifecycle.draining) res.setHeader('Connection', 'close');
    // No content sniffing of any answer; the playground's files replace the policy with their own.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', DATA_CSP);
    next();
  };
}

/** Labels the exchange with its route for the metrics. */
export function routeLabel(name: string) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.locals.route = name;
    next();
  };
}
