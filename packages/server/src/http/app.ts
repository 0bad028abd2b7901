// The Express application of the TRM server, built by a function with no `listen` in it: tests call it with a
// fake engine, server.ts adds the port, logging and shutdown. Routes: POST /solve, POST /solve/stream,
// GET /models, /healthz, /readyz, /metrics, /openapi.json, and the playground at /. Every answer that is not a
// success is `{"error": {"status", "message", "field"?}}`; nothing a client sends can produce a 500.
import { existsSync } from 'node:fs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { SolveEngine } from '../engine/types.js';
import { PLAYGROUND_DIR } from '../playground/index.js';
import type { AppContext, Lifecycle } from './context.js';
import { DATA_CSP, PLAYGROUND_CSP, recordExchanges, routeLabel, UNMATCHED } from './exchange.js';
import { DEFAULT_ALLOWED_HOSTS, hostProblem } from './host-check.js';
import { HttpError, middlewareErrorToHttp } from './http-error.js';
import { parseJson, requireJson } from './json-body.js';
import { DEFAULT_VIEWS } from './schemas/solve-request.js';
import { createServerMetrics } from './metrics/server-metrics.js';
import { sendError, solveRoutes } from './solve/routes.js';
import { statusRoutes } from './status/routes.js';

export { PLAYGROUND_CSP } from './exchange.js';

export const DEFAULT_BODY_LIMIT = '1mb';
/** The playground's static files (src/playground/public), as the playground defines them. */
export const DEFAULT_PLAYGROUND_DIR = PLAYGROUND_DIR;

export interface AppOptions {
  /** largest request body, as bytes or a string like '1mb' (default 1 MB); larger bodies get 413 */
  bodyLimit?: string | number;
  /** folder served at / (default: the package's playground); null serves nothing there */
  playgroundDir?: string | null;
  /** shared with the server: set `draining` to refuse new work with 503 */
  lifecycle?: Lifecycle;
  /** one line per answered request (method, path, status, milliseconds); off when absent */
  log?: (line: string) => void;
  /** server faults (500s and their causes); default stderr */
  logError?: (line: string) => void;
  /**
   * names accepted in the Host header besides localhost and IP addresses; others get 403 (default:
   * DEFAULT_ALLOWED_HOSTS; see host-check.ts, `allowedHosts` builds the list, `*` accepts any)
   */
  allowedHosts?: readonly string[];
  /** copies of a sudoku or maze puzzle when the request has no `views` (default DEFAULT_VIEWS) */
  views?: number;
}

/** Methods per known path, for 405 answers and their Allow header. */
const ROUTES: Record<string, string[]> = {
  '/solve': ['POST'],
  '/solve/stream': ['POST'],
  '/models': ['GET', 'HEAD'],
  '/healthz': ['GET', 'HEAD'],
  '/readyz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
  '/openapi.json': ['GET', 'HEAD'],
  '/': ['GET', 'HEAD'],
};

function appContext(engines: ReadonlyMap<string, SolveEngine> | SolveEngine, options: AppOptions): AppContext {
  const byName: ReadonlyMap<string, SolveEngine> =
    engines instanceof Map ? engines : new Map([[(engines as SolveEngine).info.name, engines as SolveEngine]]);
  return {
    engines: byName,
    lifecycle: options.lifecycle ?? { draining: false },
    metrics: createServerMetrics(byName),
    logError: options.logError ?? ((line) => process.stderr.write(`${line}\n`)),
    defaultViews: options.views ?? DEFAULT_VIEWS,
  };
}

/** 403 for a Host header that names none of `hosts` (see host-check.ts). */
function hostGuard(hosts: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const problem = hostProblem(req.headers.host, hosts);
    if (problem) throw new HttpError(403, problem);
    next();
  };
}

/** The playground's files at /, under their own Content-Security-Policy; what it does not have falls through. */
function playgroundFiles(dir: string) {
  const serveStatic = express.static(dir, { index: 'index.html', redirect: false });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') res.locals.route = 'static';
    res.setHeader('Content-Security-Policy', PLAYGROUND_CSP);
    serveStatic(req, res, (err?: unknown) => {
      res.locals.route = UNMATCHED;
      res.setHeader('Content-Security-Policy', DATA_CSP);
      next(err);
    });
  };
}

/** Known paths with another method: 405 with the allowed ones (OPTIONS gets them with 204). */
function methodNotAllowed(path: string, methods: readonly string[]) {
  return (req: Request, res: Response) => {
    res.locals.route = path;
    res.setHeader('Allow', methods.join(', '));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    if (path === '/' && methods.includes(req.method)) throw new HttpError(404, 'no playground is installed');
    throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${methods.join(' or ')}`);
  };
}

function noRoute(req: Request): never {
  throw new HttpError(
    404,
    `no route ${req.method} ${req.path.length > 100 ? `${req.path.slice(0, 100)}...` : req.path}; see GET /openapi.json`,
  );
}

export function createApp(engines: ReadonlyMap<string, SolveEngine> | SolveEngine, options: AppOptions = {}): Express {
  const ctx = appContext(engines, options);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const status = statusRoutes(ctx);
  const { solve, stream } = solveRoutes(ctx);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false);
  app.use(recordExchanges(ctx, options.log));
  app.use(hostGuard(options.allowedHosts ?? DEFAULT_ALLOWED_HOSTS));

  const json = [requireJson, parseJson(bodyLimit)];
  app.post('/solve', routeLabel('/solve'), ...json, solve);
  app.post('/solve/stream', routeLabel('/solve/stream'), ...json, stream);
  app.get('/models', routeLabel('/models'), status.models);
  app.get('/healthz', routeLabel('/healthz'), status.healthz);
  app.get('/readyz', routeLabel('/readyz'), status.readyz);
  app.get('/metrics', routeLabel('/metrics'), status.metrics);
  app.get('/openapi.json', routeLabel('/openapi.json'), status.openapi);

  const playgroundDir = options.playgroundDir === undefined ? DEFAULT_PLAYGROUND_DIR : options.playgroundDir;
  if (playgroundDir !== null && existsSync(playgroundDir)) app.use(playgroundFiles(playgroundDir));

  for (const [path, methods] of Object.entries(ROUTES)) app.all(path, methodNotAllowed(path, methods));
  app.use(noRoute);
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const httpError = middlewareErrorToHttp(err, String(bodyLimit));
    sendError(ctx, res, httpError, httpError.status >= 500 ? err : undefined);
  });
  return app;
}
