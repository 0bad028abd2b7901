// The model card (README.md of a model folder, ARCHITECTURE.md "Model folder"): task, data, training steps and
// time, hardware, accuracy on each evaluated split and how to reproduce, filled from the facts of a run.
import { countParameters, formatDuration, type ModelConfig, type TrainConfig } from '@trm/core';

export interface SplitAccuracy {
  split: string;
  examples: number;
  exact_accuracy: number;
  exact_accuracy_halted: number;
  steps_halted: number;
}

export interface CardFacts {
  title: string;
  preset: string | null;
  model: ModelConfig;
  train: TrainConfig;
  data: string;
  steps: number;
  totalSteps: number;
  wallSeconds: number;
  backend: string;
  machine: string;
  command: string;
  /** the last training window's metrics over halted rows */
  trainMetrics: { accuracy: number; exact_accuracy: number; steps: number; lm_loss: number } | null;
  evals: SplitAccuracy[];
  /** extra paragraphs (e.g. how the model was adapted) */
  notes?: string[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function modelCard(f: CardFacts): string {
  const m = f.model;
  const t = f.train;
  const arch = m.mlp_t ? 'MLP-mixer over the sequence (mlp_t)' : `attention (${m.num_heads} heads, ${m.pos_encodings})`;
  const lines = [
    `# ${f.title}`,
    '',
    `Tiny Recursive Model for **${m.task}**${f.preset ? `, preset \`${f.preset}\`` : ''}, trained with the TypeScript trainer of this repository (${f.backend.startsWith('ort-') ? 'ONNX Runtime' : 'TensorFlow.js'}).`,
    '',
    '## Model',
    `- ${arch}, hidden size ${m.hidden_size}, ${m.L_layers} layer(s), H_cycles ${m.H_cycles}, L_cycles ${m.L_cycles}, up to ${m.halt_max_steps} supervision steps`,
    `- ${countParameters(m).toLocaleString('en-US')} trained parameters; puzzle table ${m.num_puzzle_identifiers} x ${m.puzzle_emb_ndim}`,
    '- `weights.safetensors`: EMA weights in the reference tensor names, float32; `config.json`: the model config',
    '',
    '## Training',
    `- data: ${f.data}`,
    `- ${f.steps.toLocaleString('en-US')} of ${f.totalSteps.toLocaleString('en-US')} optimiser steps, batch ${t.global_batch_size}, ${t.optimizer} lr ${t.lr} (warm-up ${t.lr_warmup_steps}), weight decay ${t.weight_decay}, puzzle-embedding lr ${t.puzzle_emb_lr}, EMA ${t.ema ? t.ema_rate : 'off'}, seed ${t.seed}`,
    `- wall time ${formatDuration(f.wallSeconds)} on ${f.machine}, backend \`${f.backend}\``,
  ];
  if (f.trainMetrics) {
    const tm = f.trainMetrics;
    lines.push(
      `- last training window (rows that halted): token accuracy ${pct(tm.accuracy)}, exact ${pct(tm.exact_accuracy)}, ${tm.steps.toFixed(1)} supervision steps, lm loss ${tm.lm_loss.toFixed(4)}`,
    );
  }
  lines.push('', '## Accuracy', '');
  if (f.evals.length === 0) lines.push('Not evaluated yet.');
  else {
    lines.push(
      `| split | examples | exact, ${m.halt_max_steps} steps | exact, early halting | steps used (halting) |`,
      '|---|---|---|---|---|',
    );
    for (const e of f.evals)
      lines.push(
        `| ${e.split} | ${e.examples} | ${pct(e.exact_accuracy)} | ${pct(e.exact_accuracy_halted)} | ${e.steps_halted.toFixed(2)} |`,
      );
    lines.push(
      '',
      `"exact, ${m.halt_max_steps} steps" is the reference's metric (every example runs all supervision steps); "early halting" stops each example at its first step with a positive halt logit.`,
    );
  }
  if (f.notes?.length) lines.push('', '## Notes', '', ...f.notes);
  lines.push('', '## Reproduce', '', '```', f.command, '```', '');
  return lines.join('\n');
}
