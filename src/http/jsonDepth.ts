/**
 * How deep a request's JSON (its body, its variables however sent) may nest. No operation's
 * variables come near it (the operation itself is held to LIMIT_DEPTH); far deeper values
 * overflowed the stack of whatever walked them later (the serialisation of a subgraph call),
 * failing there, counted against the agency, instead of here.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `limit`, walked without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<readonly [unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
  }
  return false;
}
