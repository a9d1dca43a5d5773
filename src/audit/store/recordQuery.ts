import type { StoredEntry } from '../entry.js';
import { recordEntries, type StoredRecord } from '../record.js';
import type { AccessLogFilter, CountDimension, CountRow, QueryPage } from './AccessLogStore.js';
import { checkFilter, checkLimit, decodeCursor, dimensionValue, encodeCursor, entryMatches, type CursorPosition } from './sql.js';

/**
 * Audit queries over records, the same for both stores. The SQL narrows by what a request's
 * entries share (agency, official, purpose, case, kind, time; the subject through its narrow
 * index) and returns records in (time, chainId, lastSeq) order; the entries are decoded here and
 * checked exactly. Every entry of a record has the record's time and chain, so that record order
 * read entry by entry is the (time, chainId, seq) order the cursor is made of.
 */

/** Where the next fetch starts: strictly after this record's sort key. */
export interface RecordPosition {
  readonly time: string;
  readonly chainId: string;
  readonly lastSeq: number;
}

/** Records matching the SQL side of `filter`, in (time, chainId, lastSeq) order, strictly after `after`, at most `limit`. */
export type FetchRecords = (after: RecordPosition | null, limit: number) => Promise<StoredRecord[]>;

const FETCH = 256;

function after(entry: StoredEntry, cursor: CursorPosition | null): boolean {
  if (cursor === null) return true;
  if (entry.time !== cursor.time) return entry.time > cursor.time;
  if (entry.chainId !== cursor.chainId) return entry.chainId > cursor.chainId;
  return entry.seq > cursor.seq;
}

/** One page of entries, decoding records until it has one more entry than the page (which says there is a next page). */
export async function queryRecords(filter: AccessLogFilter, cursor: string | null, limit: number, fetch: FetchRecords): Promise<QueryPage> {
  checkLimit(limit);
  const { timeFrom, timeTo } = checkFilter(filter);
  const position = cursor === null ? null : decodeCursor(cursor);
  const entries: StoredEntry[] = [];
  // The record holding the cursor's entry may hold more after it: start at its key minus one seq.
  let from: RecordPosition | null = position === null ? null : { time: position.time, chainId: position.chainId, lastSeq: position.seq };
  for (;;) {
    const records = await fetch(from, FETCH);
    for (const record of records) {
      for (const entry of recordEntries(record, record)) {
        if (!after(entry, position) || !entryMatches(filter, entry, timeFrom, timeTo)) continue;
        entries.push(entry);
        if (entries.length > limit) {
          const page = entries.slice(0, limit);
          return { entries: page, nextCursor: encodeCursor(page[page.length - 1]!) };
        }
      }
    }
    const last = records[records.length - 1];
    if (!last || records.length < FETCH) return { entries, nextCursor: null };
    from = { time: last.header.time, chainId: last.chainId, lastSeq: last.lastSeq };
  }
}

/** Counts by decoding every matching record: for a dimension or a filter on what differs per entry. */
export async function countRecordEntries(dimension: CountDimension, filter: AccessLogFilter, fetch: FetchRecords): Promise<CountRow[]> {
  const { timeFrom, timeTo } = checkFilter(filter);
  const counts = new Map<string, number>();
  let from: RecordPosition | null = null;
  for (;;) {
    const records = await fetch(from, FETCH * 4);
    for (const record of records) {
      for (const entry of recordEntries(record, record)) {
        if (!entryMatches(filter, entry, timeFrom, timeTo)) continue;
        const key = dimensionValue(entry, dimension);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const last = records[records.length - 1];
    if (!last || records.length < FETCH * 4) break;
    from = { time: last.header.time, chainId: last.chainId, lastSeq: last.lastSeq };
  }
  return sortCounts([...counts].map(([key, count]) => ({ key, count })));
}

/** Most frequent first, then by key in code-point order (as COLLATE "C" and SQLite's BINARY order it). */
export function sortCounts(rows: CountRow[]): CountRow[] {
  return rows.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
