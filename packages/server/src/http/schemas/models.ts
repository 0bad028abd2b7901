// JSON schema of GET /models: what the playground and clients learn about each loaded model.
import { EXECUTION_PROVIDERS, modelConfigSchema } from '@trm/core';
import type { EngineInfo } from '../../engine/types.js';

// The config schema keeps its rules but not its $id, which would change the base URI inside the OpenAPI document.
const { $id: _configId, ...configSchema } = modelConfigSchema;

export const modelSummarySchema = {
  title: 'ModelSummary',
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'task',
    'ready',
    'executionProvider',
    'providerNotes',
    'dtype',
    'maxBatch',
    'workers',
    'stepsPerRun',
    'config',
  ],
  properties: {
    name: { description: 'the value of `model` in a solve request', type: 'string' },
    task: { enum: ['sudoku', 'maze', 'arc'] },
    ready: { description: 'false while loading or draining', type: 'boolean' },
    executionProvider: {
      description: 'the ONNX Runtime provider that runs the model',
      enum: EXECUTION_PROVIDERS,
    },
    providerNotes: {
      description: 'why providers tried before this one were not used, and what `--workers auto` found',
      type: 'array',
      items: { type: 'string' },
    },
    dtype: { description: 'graph variant: fp32, fp16-weights or fp16', type: 'string' },
    maxBatch: { description: 'batch slots per worker', type: 'integer', minimum: 1 },
    workers: { type: 'integer', minimum: 1 },
    stepsPerRun: {
      description: 'supervision steps per run of the graph (--steps-per-run)',
      type: 'integer',
      minimum: 1,
    },
    stepsWhenQueued: {
      description:
        'the most steps of a run while puzzles wait for a batch slot (--steps-when-queued), where below stepsPerRun',
      type: 'integer',
      minimum: 1,
    },
    config: configSchema,
  },
} as const;

export const modelsResponseSchema = {
  title: 'ModelsResponse',
  type: 'object',
  additionalProperties: false,
  required: ['models'],
  properties: { models: { type: 'array', items: modelSummarySchema } },
} as const;

/** One entry of GET /models. */
export interface ModelSummary extends EngineInfo {
  ready: boolean;
}
