import { describe, expect, it } from 'vitest';
import type { MetricRecord } from '../metrics/records.js';
import { niceTicks, plotSvg } from './line-plot.js';
import { trainingCurvesSvg } from './training-curves.js';

describe('niceTicks', () => {
  it('gives round steps of 1, 2 or 5 times a power of ten inside the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 97)).toEqual([20, 40, 60, 80]);
    expect(niceTicks(0, 400)).toEqual([0, 100, 200, 300, 400]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});

describe('plotSvg', () => {
  it('draws one path per non-empty series, maps data to the panel and escapes text', () => {
    const svg = plotSvg(
      [
        {
          title: 'a<b',
          series: [
            {
              name: 'up',
              points: [
                [0, 0],
                [10, 1],
              ],
            },
            { name: 'empty', points: [] },
          ],
          yRange: [0, 1],
        },
      ],
      { panelWidth: 200, panelHeight: 100 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"')).toBe(true);
    expect(svg).toContain('a&#60;b');
    // a title for screen readers, the panels' by default, or the one asked for
    expect(svg.split('\n')[1]).toBe('<title>a&#60;b</title>');
    expect(plotSvg([{ title: 'x', series: [] }], { title: 'curves & more' })).toContain(
      '<title>curves &#38; more</title>',
    );
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(1);
    // x 0..10 -> 56..178 (width 200 - margins 56 + 22); y 0..1 -> 62..28 (height 100 - margins 28 + 38)
    expect(paths[0]).toBe('M56.0,62.0L178.0,28.0');
  });

  it('drops non-positive values on a log axis and breaks nothing on NaN', () => {
    const svg = plotSvg([
      {
        title: 'log',
        logY: true,
        series: [
          {
            name: 's',
            points: [
              [0, 0],
              [1, 10],
              [2, Number.NaN],
              [3, 100],
            ],
          },
        ],
      },
    ]);
    const d = svg.match(/<path d="([^"]+)"/)![1]!;
    expect(d.split('L')).toHaveLength(2);
  });
});

describe('trainingCurvesSvg', () => {
  it('plots losses, accuracies with the evaluations, steps and the learning rate', () => {
    const train = (step: number, acc: number): MetricRecord => ({
      kind: 'train',
      step,
      epoch: 1,
      lr: 1e-3,
      time_s: step,
      samples_per_s: 100,
      steps_per_s: 3,
      count: 8,
      accuracy: acc,
      exact_accuracy: acc / 2,
      q_halt_accuracy: 0.9,
      steps: 3,
      lm_loss: 1 / step,
      q_halt_loss: 0.1,
      halt_rate: 0.25,
    });
    const svg = trainingCurvesSvg(
      [
        train(10, 0.5),
        train(20, 0.8),
        {
          kind: 'eval',
          step: 20,
          split: 'test',
          time_s: 20,
          examples: 64,
          exact_accuracy: 0.7,
          accuracy: 0.9,
          exact_accuracy_halted: 0.75,
          steps_halted: 1.5,
          halt_rate: 1,
          q_halt_accuracy: 0.8,
          exact_by_step: [0.7],
        },
      ],
      'run',
      4,
    );
    expect(svg).toContain('run: loss per row');
    expect(svg).toContain('eval exact (4 steps)');
    // 2 losses + 3 train accuracies + 2 evals + 2 steps + lr + halt rate = 11 series, all with points
    expect(svg.match(/<path /g)).toHaveLength(11);
  });
});
