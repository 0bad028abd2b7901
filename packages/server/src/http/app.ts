// The Express application of the TRM server, built by a function with no `listen` in it: tests call it with a
// fake engine, server.ts adds the port, logging and shutdown. Routes: POST /solve, POST /solve/stream,
// GET /models, /healthz, /readyz, /metrics, /openapi.json, and the playground at /. Every answer that is not a
// success is `{"error": {"status", "message", "field"?}}`; nothing a client sends can produce a 500.
import { existsSync } from 'node:fs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { SolveEngine } from '../engine/types.js';
import { PLAYGROUND_DIR } from '../playground/index.js';
import type { AppContext, Lifecycle } from './context.js';
import { DEFAULT_ALLOWED_HOSTS, hostProblem } from './host-check.js';
import { HttpError, middlewareErrorToHttp } from './http-error.js';
import { createServerMetrics, PROMETHEUS_CONTENT_TYPE } from './metrics/server-metrics.js';
import { openApiDocument } from './openapi.js';
import { redactLocalPaths } from './redact-paths.js';
import { verifyUtf8Body } from './utf8-body.js';
import type { ModelSummary } from './schemas/models.js';
import { sendError, solveRoutes } from './solve/routes.js';

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

/**
 * The playground's Content-Security-Policy: its own scripts, styles and API only (the favicon is a data: URL), no
 * framing. Everything else the server answers is data, which no browser should run or frame.
 */
export const PLAYGROUND_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Route label of requests that matched no route: one label, so random paths cannot grow the metrics. */
const UNMATCHED = 'unmatched';

/** What is wrong with a request's Content-Type for a JSON body, or null when it is fine. */
function contentTypeProblem(header: string | undefined): string | null {
  const shown = header ? JSON.stringify(header.slice(0, 100)) : 'none';
  const [type = '', ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json')))
    return `Content-Type must be application/json (got ${shown})`;
  // JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1); other charsets are refused, not guessed at.
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replaceAll('"', '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return `Content-Type charset must be utf-8 (got ${shown}); send the body as utf-8`;
  return null;
}

export function createApp(engines: ReadonlyMap<string, SolveEngine> | SolveEngine, options: AppOptions = {}): Express {
  const byName: ReadonlyMap<string, SolveEngine> =
    engines instanceof Map ? engines : new Map([[(engines as SolveEngine).info.name, engines as SolveEngine]]);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const ctx: AppContext = {
    engines: byName,
    lifecycle: options.lifecycle ?? { draining: false },
    metrics: createServerMetrics(byName),
    logError: options.logError ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  const openapi = JSON.stringify(openApiDocument());
  const { solve, stream } = solveRoutes(ctx);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', false);

  // Timing, metrics and the request log, recorded when the exchange ends however it ends.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const startedAt = performance.now();
    res.locals.startedAt = startedAt;
    res.locals.route = UNMATCHED;
    res.on('close', () => {
      const route = res.locals.route as string;
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const seconds = (performance.now() - startedAt) / 1000;
      ctx.metrics.requests.inc({ route, method: req.method, status });
      ctx.metrics.latency.observe({ route }, seconds);
      options.log?.(`${req.method} ${req.originalUrl.slice(0, 200)} ${status} ${(seconds * 1000).toFixed(1)} ms`);
    });
    // While draining, keep-alive clients are told to reconnect (to another instance).
    if (ctx.lifecycle.draining) res.setHeader('Connection', 'close');
    // No content sniffing of any answer; the playground's files replace the policy with their own.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', DATA_CSP);
    next();
  });

  const hosts = options.allowedHosts ?? DEFAULT_ALLOWED_HOSTS;
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const problem = hostProblem(req.headers.host, hosts);
    if (problem) throw new HttpError(403, problem);
    next();
  });

  const route = (name: string) => (_req: Request, res: Response, next: NextFunction) => {
    res.locals.route = name;
    next();
  };

  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    const problem = contentTypeProblem(req.headers['content-type']);
    if (problem) throw new HttpError(415, problem);
    next();
  };
  const parseJson = express.json({ limit: bodyLimit, strict: true, type: () => true, verify: verifyUtf8Body });

  app.post('/solve', route('/solve'), requireJson, parseJson, solve);
  app.post('/solve/stream', route('/solve/stream'), requireJson, parseJson, stream);

  app.get('/models', route('/models'), (_req, res) => {
    const models: ModelSummary[] = [...byName].map(([name, e]) => ({
      name,
      task: e.info.task,
      ready: e.ready(),
      executionProvider: e.info.executionProvider,
      providerNotes: e.info.providerNotes.map(redactLocalPaths),
      dtype: e.info.dtype,
      maxBatch: e.info.maxBatch,
      workers: e.info.workers,
      config: e.info.config,
    }));
    res.json({ models });
  });

  // Liveness: 503 once an engine cannot repair itself (a worker failed to restart several times in a row), so
  // that an orchestrator restarts the process; a model that is merely loading or restarting a worker is alive.
  app.get('/healthz', route('/healthz'), (_req, res) => {
    const failing: Record<string, string> = {};
    for (const [name, e] of byName) {
      const h = e.health();
      if (!h.live) failing[name] = h.problem ?? 'not live';
    }
    if (Object.keys(failing).length === 0) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'failing', models: failing });
  });

  app.get('/readyz', route('/readyz'), (_req, res) => {
    const models = Object.fromEntries([...byName].map(([name, e]) => [name, e.ready()]));
    const ready = !ctx.lifecycle.draining && byName.size > 0 && Object.values(models).every(Boolean);
    const problems: Record<string, string> = {};
    for (const [name, e] of byName) {
      const problem = e.health().problem;
      if (problem !== null) problems[name] = problem;
    }
    res.status(ready ? 200 : 503).json({ ready, draining: ctx.lifecycle.draining, models, problems });
  });

  app.get('/metrics', route('/metrics'), async (_req, res) => {
    res.type(PROMETHEUS_CONTENT_TYPE).send(await ctx.metrics.registry.metrics());
  });

  app.get('/openapi.json', route('/openapi.json'), (_req, res) => {
    res.type('application/json').send(openapi);
  });

  const playgroundDir = options.playgroundDir === undefined ? DEFAULT_PLAYGROUND_DIR : options.playgroundDir;
  if (playgroundDir !== null && existsSync(playgroundDir)) {
    const serveStatic = express.static(playgroundDir, { index: 'index.html', redirect: false });
    app.use((req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') res.locals.route = 'static';
      res.setHeader('Content-Security-Policy', PLAYGROUND_CSP);
      serveStatic(req, res, (err?: unknown) => {
        res.locals.route = UNMATCHED;
        res.setHeader('Content-Security-Policy', DATA_CSP);
        next(err);
      });
    });
  }

  // Known paths with another method: 405 with the allowed ones (OPTIONS gets them with 204).
  for (const [path, methods] of Object.entries(ROUTES)) {
    app.all(path, (req, res) => {
      res.locals.route = path;
      res.setHeader('Allow', methods.join(', '));
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      if (path === '/' && methods.includes(req.method)) throw new HttpError(404, 'no playground is installed');
      throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${methods.join(' or ')}`);
    });
  }

  app.use((req: Request) => {
    throw new HttpError(
      404,
      `no route ${req.method} ${req.path.length > 100 ? `${req.path.slice(0, 100)}...` : req.path}; see GET /openapi.json`,
    );
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const httpError = middlewareErrorToHttp(err, String(bodyLimit));
    sendError(ctx, res, httpError, httpError.status >= 500 ? err : undefined);
  });

  return app;
}
