import { decryptSubject } from '../../src/audit/subjectProtection.js';
import type { StoredEntry } from '../../src/audit/entry.js';
import type { Stack } from './stack.js';

export interface ReadableEntry extends StoredEntry {
  /** Decrypted personnummer. */
  readonly subject: string | null;
}

/** Every committed access-log entry of a case, subjects decrypted, in log order. */
export async function entriesOfCase(stack: Stack, caseId: string): Promise<ReadableEntry[]> {
  const { store, subjectKeys } = stack.deps.openedAccessLog;
  const entries: ReadableEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.query({ caseId }, cursor, 500);
    for (const entry of page.entries) {
      entries.push({
        ...entry,
        subject: entry.subjectEnc && entry.subjectHmac ? decryptSubject(subjectKeys, entry.subjectEnc, entry.subjectHmac) : null,
      });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

/** Counts entries by `subject|field|outcome|code`, the shape the tests compare. */
export function tally(entries: readonly ReadableEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const key = `${e.subject}|${e.field}|${e.outcome}|${e.outcomeCode ?? ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
