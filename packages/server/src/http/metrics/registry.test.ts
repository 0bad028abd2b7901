// The Prometheus text exposition: counters, cumulative histogram buckets with +Inf, _sum and _count, gauges read
// at scrape time, and label escaping.
import { describe, expect, it } from 'vitest';
import { CallbackGauge, Counter, escapeLabelValue, Histogram, Registry } from './registry.js';

describe('Registry', () => {
  it('writes counters, histograms and gauges in the text format', () => {
    const r = new Registry();
    const c = r.register(new Counter('req_total', 'Requests.'));
    const h = r.register(new Histogram('lat_seconds', 'Latency.', [0.5, 0.1, 1]));
    let depth = 3;
    r.register(new CallbackGauge('depth', 'Queue depth.', () => [{ labels: { model: 'a' }, value: depth }]));
    c.inc({ route: '/solve', status: '200' });
    c.inc({ route: '/solve', status: '200' }, 2);
    c.inc({ route: '/x', status: '404' });
    for (const v of [0.05, 0.1, 0.3, 2]) h.observe(v, { route: '/solve' });
    depth = 4;
    expect(r.expose()).toBe(
      [
        '# HELP req_total Requests.',
        '# TYPE req_total counter',
        'req_total{route="/solve",status="200"} 3',
        'req_total{route="/x",status="404"} 1',
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{route="/solve",le="0.1"} 2',
        'lat_seconds_bucket{route="/solve",le="0.5"} 3',
        'lat_seconds_bucket{route="/solve",le="1"} 3',
        'lat_seconds_bucket{route="/solve",le="+Inf"} 4',
        'lat_seconds_sum{route="/solve"} 2.45',
        'lat_seconds_count{route="/solve"} 4',
        '# HELP depth Queue depth.',
        '# TYPE depth gauge',
        'depth{model="a"} 4',
        '',
      ].join('\n'),
    );
    expect(c.get({ route: '/solve', status: '200' })).toBe(3);
    expect(h.count({ route: '/solve' })).toBe(4);
  });

  it('escapes label values and refuses a name registered twice', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const r = new Registry();
    const c = r.register(new Counter('x', 'X.'));
    c.inc({ path: 'say "hi"\n' });
    expect(r.expose()).toContain('x{path="say \\"hi\\"\\n"} 1');
    expect(() => r.register(new Counter('x', 'again'))).toThrow('metric x is registered twice');
  });
});
