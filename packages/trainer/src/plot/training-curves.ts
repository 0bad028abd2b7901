// The training curves of a run as one SVG (curves.svg beside the checkpoint): losses, training accuracies over
// halted rows with the evaluation's exact accuracy, supervision steps, and the learning rate.
import type { MetricRecord } from '../metrics/records.js';
import { type Panel, plotSvg } from './line-plot.js';

/** `maxSteps` is the model's halt_max_steps, the steps every evaluated example runs. */
export function trainingCurvesSvg(records: readonly MetricRecord[], title = '', maxSteps = 16): string {
  const train = records.filter((r) => r.kind === 'train');
  const evals = records.filter((r) => r.kind === 'eval');
  const pts = (f: (r: (typeof train)[number]) => number): [number, number][] => train.map((r) => [r.step, f(r)]);
  const prefix = title ? `${title}: ` : '';
  const panels: Panel[] = [
    {
      title: `${prefix}loss per row`,
      xLabel: 'step',
      logY: true,
      series: [
        { name: 'lm_loss', points: pts((r) => r.lm_loss) },
        { name: 'q_halt_loss', points: pts((r) => r.q_halt_loss) },
      ],
    },
    {
      title: 'accuracy',
      xLabel: 'step',
      yRange: [0, 1],
      series: [
        { name: 'train token accuracy', points: pts((r) => (r.count > 0 ? r.accuracy : Number.NaN)) },
        { name: 'train exact', points: pts((r) => (r.count > 0 ? r.exact_accuracy : Number.NaN)) },
        { name: 'train q_halt accuracy', points: pts((r) => (r.count > 0 ? r.q_halt_accuracy : Number.NaN)) },
        { name: `eval exact (${maxSteps} steps)`, points: evals.map((r) => [r.step, r.exact_accuracy]) },
        { name: 'eval exact (halting)', points: evals.map((r) => [r.step, r.exact_accuracy_halted]) },
      ],
    },
    {
      title: 'supervision steps',
      xLabel: 'step',
      series: [
        { name: 'train steps at halt', points: pts((r) => (r.count > 0 ? r.steps : Number.NaN)) },
        { name: 'eval steps (halting)', points: evals.map((r) => [r.step, r.steps_halted]) },
      ],
    },
    {
      title: 'learning rate and halt rate',
      xLabel: 'step',
      logY: true,
      series: [
        { name: 'lr', points: pts((r) => r.lr) },
        { name: 'slots halting per step', points: pts((r) => r.halt_rate) },
      ],
    },
  ];
  return plotSvg(panels, { columns: 2 });
}
