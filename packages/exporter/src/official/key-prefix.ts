// The prefix of an official checkpoint's keys: torch.compile wraps the model as `_orig_mod`, the loss head holds it
// as `model`, and the ACT wrapper holds the network as `inner` (TRM-SPEC §8). Our model folders use the names
// without any prefix.

/** Known prefixes, longest first; '' = already bare names. */
export const KEY_PREFIXES = ['_orig_mod.model.inner.', 'model.inner.', ''] as const;
export type KeyPrefix = (typeof KEY_PREFIXES)[number];

/** The tensor every TRM checkpoint has, used to recognise the prefix. */
const ANCHOR = 'embed_tokens.embedding_weight';

/** The prefix under which `names` hold a TRM checkpoint; throws naming what was found instead. */
export function detectKeyPrefix(names: readonly string[], source: string): KeyPrefix {
  const set = new Set(names);
  for (const p of KEY_PREFIXES) if (set.has(`${p}${ANCHOR}`)) return p;
  const near = names.find((n) => n.endsWith(ANCHOR));
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} keys)` : '');
  throw new Error(
    near
      ? `${source}: key ${near} has an unknown prefix; expected one of ${KEY_PREFIXES.map((p) => `"${p}"`).join(', ')} before ${ANCHOR}`
      : `${source}: missing key ${ANCHOR} (under any of the prefixes ${KEY_PREFIXES.filter(Boolean).join(', ')} or none): this is not a TRM checkpoint (keys: ${shown || 'none'})`,
  );
}
