// A comma-separated flag of the benches (e.g. --forms loop,unrolled): each item checked against the allowed values.

/** The items of `value`, each one of `allowed`; an error naming the flag otherwise. */
export function listFlag<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',') as T[];
  for (const item of items)
    if (!allowed.includes(item)) throw new Error(`--${flag}: ${item} is not one of ${allowed.join(', ')}`);
  return items;
}
