import { DEFAULT_PURGE_SLICE_RECORDS, type PurgeOptions } from './AccessLogStore.js';

/** What one slice of a purge removed: its records (fewer than the limit: the last slice) and the entries in them. */
export interface PurgeSlice {
  readonly records: number;
  readonly entries: number;
}

/**
 * Removes a chain's purged records slice by slice, each `slice` call one short transaction of the
 * store's own, until one removes fewer records than the limit; returns the entries removed. Both
 * stores' purges run it (AccessLogStore.purge), so the gateway's writer waits for one slice at
 * most, never for the whole purge.
 */
export async function removeInSlices(chainId: string, options: PurgeOptions, slice: (limit: number) => PurgeSlice | Promise<PurgeSlice>): Promise<number> {
  const limit = options.sliceRecords ?? DEFAULT_PURGE_SLICE_RECORDS;
  let removed = 0;
  for (;;) {
    const { records, entries } = await slice(limit);
    removed += entries;
    if (records > 0) await options.afterSlice?.(chainId, entries);
    if (records < limit) return removed;
    // Lets the process's other work in between slices (SQLite's run on the event loop).
    await new Promise((resolve) => setImmediate(resolve));
  }
}
