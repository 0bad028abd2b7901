// A small Prometheus registry: counters, histograms and gauges with labels, written in the text exposition
// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). Enough for one process's
// metrics without a dependency.

export type Labels = Record<string, string>;

/** Escapes a label value: backslash, double quote and line feed, as the format requires. */
export function escapeLabelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** Prometheus writes +Inf, -Inf and NaN by name. */
function numberText(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(x);
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels));
}

interface Metric {
  readonly name: string;
  expose(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}\n# TYPE ${name} ${type}\n`;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }

  expose(): string {
    let out = header(this.name, this.help, 'counter');
    for (const { labels, value } of this.values.values())
      out += `${this.name}${labelText(labels)} ${numberText(value)}\n`;
    return out;
  }
}

interface HistogramSeries {
  labels: Labels;
  /** per bucket (same order as the bounds), not cumulative; the +Inf bucket is `count` */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly bounds: number[];

  constructor(
    readonly name: string,
    private readonly help: string,
    bounds: readonly number[],
  ) {
    this.bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Array(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  /** observations so far for these labels */
  count(labels: Labels = {}): number {
    return this.series.get(keyOf(labels))?.count ?? 0;
  }

  expose(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((b, i) => {
        cumulative += s.counts[i]!;
        out += `${this.name}_bucket${labelText(s.labels, ['le', numberText(b)])} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${numberText(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** A gauge read at scrape time (queue depth, busy slots): the callback returns one value per label set. */
export class CallbackGauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly read: () => { labels: Labels; value: number }[],
  ) {}

  expose(): string {
    let out = header(this.name, this.help, 'gauge');
    for (const { labels, value } of this.read()) out += `${this.name}${labelText(labels)} ${numberText(value)}\n`;
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  /** The whole exposition, one block per metric. */
  expose(): string {
    return this.metrics.map((m) => m.expose()).join('');
  }
}

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
