// The metrics of the TRM server on prom-client: requests by route and status, request latency, supervision steps
// per solved puzzle, per model the engine's batch occupancy and queue depth (read from engine.stats() at scrape
// time), and prom-client's process metrics (CPU, memory, event-loop lag, GC, handles).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SolveEngine } from '../../engine/types.js';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// every step up to 16 (the trained steps of the paper's models), then coarser up to MAX_STEPS_LIMIT (64)
const STEP_BUCKETS = [...Array.from({ length: 16 }, (_, i) => i + 1), 20, 24, 28, 32, 40, 48, 56, 64];

/** The Content-Type of the text exposition format (0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface ServerMetrics {
  /** what GET /metrics exposes: this app's metrics, then the process's */
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  steps: Histogram<'model'>;
}

let processRegistry: Registry | null = null;

/**
 * The process's metrics, set up once: each setup starts an event-loop delay monitor and a GC observer that live as
 * long as the process, so every app of the process (tests build hundreds) shares them.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createServerMetrics(engines: ReadonlyMap<string, SolveEngine>): ServerMetrics {
  const own = new Registry();
  const registers = [own];
  /** A gauge read at scrape time, one value per model. */
  const perEngine = (name: string, help: string, read: (e: SolveEngine) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, e] of engines) this.set({ model }, read(e));
      },
    });
  const requests = new Counter({
    name: 'trm_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code.',
    labelNames: ['route', 'method', 'status'],
    registers,
  });
  const latency = new Histogram({
    name: 'trm_http_request_duration_seconds',
    help: 'Time from request to the end of the answer, by route.',
    labelNames: ['route'],
    buckets: LATENCY_BUCKETS_S,
    registers,
  });
  const steps = new Histogram({
    name: 'trm_solve_steps',
    help: 'Supervision steps run per solved puzzle, by model.',
    labelNames: ['model'],
    buckets: STEP_BUCKETS,
    registers,
  });
  perEngine('trm_engine_active_slots', 'Batch slots in use, by model.', (e) => e.stats().activeSlots);
  perEngine('trm_engine_total_slots', 'Batch slots over all workers, by model.', (e) => e.stats().totalSlots);
  perEngine('trm_engine_batch_occupancy', 'Active slots over total slots (0..1), by model.', (e) => {
    const s = e.stats();
    return s.totalSlots > 0 ? s.activeSlots / s.totalSlots : 0;
  });
  perEngine('trm_engine_queue_depth', 'Puzzles waiting for a batch slot, by model.', (e) => e.stats().queueDepth);
  perEngine('trm_engine_ready', '1 when the model is loaded and taking work, by model.', (e) => (e.ready() ? 1 : 0));
  return { registry: Registry.merge([own, processMetrics()]), requests, latency, steps };
}
