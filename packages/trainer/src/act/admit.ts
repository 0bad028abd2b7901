// The data side of the persistent carry: a slot that resets takes the new batch's row at its index; a slot that
// continues keeps its old sample, and the new batch's row at that index is discarded, as in the reference.
import { cloneBatch, copyRow, type HostBatch } from '../data/batch.js';

/** The batch the next step runs on: `incoming` where `reset` is 1, `current` elsewhere. Inputs are untouched. */
export function admitRows(current: HostBatch | null, incoming: HostBatch, reset: Uint8Array): HostBatch {
  if (reset.length !== incoming.size)
    throw new Error(`reset must have one entry per batch row (${incoming.size}), got ${reset.length}`);
  if (!current) {
    if (!reset.every((r) => r === 1)) throw new Error('the first step must reset every slot (no current data yet)');
    return cloneBatch(incoming);
  }
  if (current.size !== incoming.size)
    throw new Error(`the batch size changed from ${current.size} to ${incoming.size} between steps`);
  const next = cloneBatch(current);
  for (let i = 0; i < reset.length; i++) if (reset[i]) copyRow(next, i, incoming, i);
  return next;
}
