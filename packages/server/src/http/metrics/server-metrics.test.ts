// The server's metrics in the text exposition: names, help, types and labels of its own metrics, gauges read from
// the engines at scrape time, and prom-client's process metrics (event-loop lag, GC, CPU, memory) beside them.
import { describe, expect, it } from 'vitest';
import type { SolveEngine } from '../../engine/types.js';
import { createServerMetrics, PROMETHEUS_CONTENT_TYPE } from './server-metrics.js';

function engine(stats: { activeSlots: number; totalSlots: number; queueDepth: number }, ready = true): SolveEngine {
  return { stats: () => stats, ready: () => ready } as unknown as SolveEngine;
}

describe('createServerMetrics', () => {
  it("writes the server's metrics with their help, type and labels", async () => {
    const stats = { activeSlots: 2, totalSlots: 8, queueDepth: 3 };
    const m = createServerMetrics(new Map([['m', engine(stats)]]));
    m.requests.inc({ route: '/solve', method: 'POST', status: '200' });
    m.requests.inc({ route: '/solve', method: 'POST', status: '200' }, 2);
    for (const s of [0.05, 0.1, 0.3, 2]) m.latency.observe({ route: '/solve' }, s);
    m.steps.observe({ model: 'm' }, 3);
    stats.queueDepth = 4; // read at scrape time
    const lines = (await m.registry.metrics()).split('\n');
    for (const line of [
      '# HELP trm_http_requests_total HTTP requests answered, by route, method and status code.',
      '# TYPE trm_http_requests_total counter',
      'trm_http_requests_total{route="/solve",method="POST",status="200"} 3',
      '# HELP trm_http_request_duration_seconds Time from request to the end of the answer, by route.',
      '# TYPE trm_http_request_duration_seconds histogram',
      'trm_http_request_duration_seconds_bucket{le="0.1",route="/solve"} 2',
      'trm_http_request_duration_seconds_bucket{le="0.5",route="/solve"} 3',
      'trm_http_request_duration_seconds_bucket{le="30",route="/solve"} 4',
      'trm_http_request_duration_seconds_bucket{le="+Inf",route="/solve"} 4',
      'trm_http_request_duration_seconds_sum{route="/solve"} 2.45',
      'trm_http_request_duration_seconds_count{route="/solve"} 4',
      '# HELP trm_solve_steps Supervision steps run per solved puzzle, by model.',
      '# TYPE trm_solve_steps histogram',
      'trm_solve_steps_bucket{le="2",model="m"} 0',
      'trm_solve_steps_bucket{le="3",model="m"} 1',
      'trm_solve_steps_sum{model="m"} 3',
      '# HELP trm_engine_active_slots Batch slots in use, by model.',
      '# TYPE trm_engine_active_slots gauge',
      'trm_engine_active_slots{model="m"} 2',
      '# HELP trm_engine_total_slots Batch slots over all workers, by model.',
      'trm_engine_total_slots{model="m"} 8',
      '# HELP trm_engine_batch_occupancy Active slots over total slots (0..1), by model.',
      'trm_engine_batch_occupancy{model="m"} 0.25',
      '# HELP trm_engine_queue_depth Puzzles waiting for a batch slot, by model.',
      'trm_engine_queue_depth{model="m"} 4',
      '# HELP trm_engine_ready 1 when the model is loaded and taking work, by model.',
      'trm_engine_ready{model="m"} 1',
    ])
      expect(lines).toContain(line);
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('adds the process metrics, shared by every app of the process', async () => {
    const a = createServerMetrics(new Map([['a', engine({ activeSlots: 0, totalSlots: 4, queueDepth: 0 }, false)]]));
    const b = createServerMetrics(new Map());
    a.requests.inc({ route: '/x', method: 'GET', status: '404' });
    const [textA, textB] = [await a.registry.metrics(), await b.registry.metrics()];
    for (const text of [textA, textB])
      for (const name of [
        'nodejs_eventloop_lag_seconds',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_gc_duration_seconds',
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
      ])
        expect(text).toContain(`# TYPE ${name} `);
    expect(textA).toContain('trm_engine_ready{model="a"} 0');
    // each app counts its own requests
    expect(textA).toContain('trm_http_requests_total{route="/x",method="GET",status="404"} 1');
    expect(textB).not.toContain('trm_http_requests_total{');
    expect(textB).not.toContain('trm_engine_ready{');
  });
});
