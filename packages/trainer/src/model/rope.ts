// The RoPE tables live in core (one source of truth for the trainer and the exporter).
export { type RopeTables, ropeTables } from '@trm/core';
