// The routes that describe the server rather than solve: GET /models (what it runs), /healthz (liveness), /readyz
// (readiness, and why not), /metrics (Prometheus) and /openapi.json.
import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/server-metrics.js';
import { openApiDocument } from '../openapi.js';
import { redactLocalPaths } from '../redact-paths.js';
import type { ModelSummary } from '../schemas/models.js';

type Handler = (req: Request, res: Response) => void | Promise<void>;

export function statusRoutes(
  ctx: AppContext,
): Record<'models' | 'healthz' | 'readyz' | 'metrics' | 'openapi', Handler> {
  const openapi = JSON.stringify(openApiDocument());
  return {
    models: (_req, res) => {
      const models: ModelSummary[] = [...ctx.engines].map(([name, e]) => ({
        name,
        task: e.info.task,
        ready: e.ready(),
        executionProvider: e.info.executionProvider,
        providerNotes: e.info.providerNotes.map(redactLocalPaths),
        dtype: e.info.dtype,
        maxBatch: e.info.maxBatch,
        workers: e.info.workers,
        stepsPerRun: e.info.stepsPerRun,
        ...(e.info.stepsWhenQueued !== undefined ? { stepsWhenQueued: e.info.stepsWhenQueued } : {}),
        config: e.info.config,
      }));
      res.json({ models });
    },

    // Liveness: 503 once an engine cannot repair itself (a worker failed to restart several times in a row), so
    // that an orchestrator restarts the process; a model that is merely loading or restarting a worker is alive.
    healthz: (_req, res) => {
      const failing: Record<string, string> = {};
      for (const [name, e] of ctx.engines) {
        const h = e.health();
        if (!h.live) failing[name] = h.problem ?? 'not live';
      }
      if (Object.keys(failing).length === 0) res.json({ status: 'ok' });
      else res.status(503).json({ status: 'failing', models: failing });
    },

    readyz: (_req, res) => {
      const models = Object.fromEntries([...ctx.engines].map(([name, e]) => [name, e.ready()]));
      const ready = !ctx.lifecycle.draining && ctx.engines.size > 0 && Object.values(models).every(Boolean);
      const problems: Record<string, string> = {};
      for (const [name, e] of ctx.engines) {
        const problem = e.health().problem;
        if (problem !== null) problems[name] = problem;
      }
      res.status(ready ? 200 : 503).json({ ready, draining: ctx.lifecycle.draining, models, problems });
    },

    metrics: async (_req, res) => {
      res.type(PROMETHEUS_CONTENT_TYPE).send(await ctx.metrics.registry.metrics());
    },

    openapi: (_req, res) => {
      res.type('application/json').send(openapi);
    },
  };
}
