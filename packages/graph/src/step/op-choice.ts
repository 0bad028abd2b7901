// Op choices as text (`norm=op,attention=mha`), for the export command and the benchmarks.
import { FlagError } from '@trm/core';
import type { OpChoice } from './step-graph.js';

export function formatOps(o: Partial<OpChoice>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const OP_VALUES: Record<keyof OpChoice, readonly string[]> = {
  norm: ['decomposed', 'op', 'skip', 'stats'],
  attention: ['decomposed', 'mha'],
  swiglu: ['fused', 'split'],
  mlpT: ['broadcast', 'transpose'],
  rope: ['decomposed', 'op'],
  silu: ['decomposed', 'op'],
  mlpTPad: ['none', 'align8'],
  seqNorm: ['decomposed', 'l2'],
};

/** Parses `norm=op,attention=mha`; errors name the key or value. */
export function parseOps(text: string): Partial<OpChoice> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v] = part.split('=') as [string, string | undefined];
    const allowed = OP_VALUES[k as keyof OpChoice];
    if (!allowed)
      throw new FlagError(`--ops: unknown op "${k}" (known: ${Object.keys(OP_VALUES).join(', ')})`, '--ops');
    if (!v || !allowed.includes(v))
      throw new FlagError(`--ops: ${k} must be one of ${allowed.join(', ')} (got "${v ?? ''}")`, '--ops');
    out[k] = v;
  }
  return out as Partial<OpChoice>;
}
