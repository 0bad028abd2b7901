// The metrics of the TRM server: requests by route and status, request latency, supervision steps per solved
// puzzle, and per model the engine's batch occupancy and queue depth (read from engine.stats() at scrape time).
import type { SolveEngine } from '../../engine/types.js';
import { CallbackGauge, Counter, Histogram, Registry } from './registry.js';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STEP_BUCKETS = Array.from({ length: 16 }, (_, i) => i + 1);

export interface ServerMetrics {
  registry: Registry;
  requests: Counter;
  latency: Histogram;
  steps: Histogram;
}

export function createServerMetrics(engines: ReadonlyMap<string, SolveEngine>): ServerMetrics {
  const registry = new Registry();
  const perEngine = (read: (e: SolveEngine) => number) => () =>
    [...engines].map(([model, e]) => ({ labels: { model }, value: read(e) }));
  const metrics: ServerMetrics = {
    registry,
    requests: registry.register(
      new Counter('trm_http_requests_total', 'HTTP requests answered, by route, method and status code.'),
    ),
    latency: registry.register(
      new Histogram(
        'trm_http_request_duration_seconds',
        'Time from request to the end of the answer, by route.',
        LATENCY_BUCKETS_S,
      ),
    ),
    steps: registry.register(
      new Histogram('trm_solve_steps', 'Supervision steps run per solved puzzle, by model.', STEP_BUCKETS),
    ),
  };
  registry.register(
    new CallbackGauge(
      'trm_engine_active_slots',
      'Batch slots in use, by model.',
      perEngine((e) => e.stats().activeSlots),
    ),
  );
  registry.register(
    new CallbackGauge(
      'trm_engine_total_slots',
      'Batch slots over all workers, by model.',
      perEngine((e) => e.stats().totalSlots),
    ),
  );
  registry.register(
    new CallbackGauge(
      'trm_engine_batch_occupancy',
      'Active slots over total slots (0..1), by model.',
      perEngine((e) => {
        const s = e.stats();
        return s.totalSlots > 0 ? s.activeSlots / s.totalSlots : 0;
      }),
    ),
  );
  registry.register(
    new CallbackGauge(
      'trm_engine_queue_depth',
      'Puzzles waiting for a batch slot, by model.',
      perEngine((e) => e.stats().queueDepth),
    ),
  );
  registry.register(
    new CallbackGauge(
      'trm_engine_ready',
      '1 when the model is loaded and taking work, by model.',
      perEngine((e) => (e.ready() ? 1 : 0)),
    ),
  );
  return metrics;
}
