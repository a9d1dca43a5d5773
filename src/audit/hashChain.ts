import { hash } from 'node:crypto';
import type { StoredEntry, UnchainedEntry } from './entry.js';

/**
 * Each stored entry carries the hash of the one before it, so changing, deleting, inserting or
 * reordering a row breaks the chain from that row on. The hash is unkeyed: anyone can check it,
 * and anyone with write access could recompute a whole forged chain; that is why signed
 * checkpoints (checkpoint.ts) pin the head hash every N entries.
 *
 * There is one chain per gateway replica (chainId = replica id); see docs/access-log.md.
 */

/** prevHash of a chain's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

const HASH_DOMAIN = 'access-log-entry-v1';

export interface ChainHead {
  readonly chainId: string;
  /** 0 for an empty chain. */
  readonly seq: number;
  readonly hash: string;
}

export function genesisHead(chainId: string): ChainHead {
  return { chainId, seq: 0, hash: GENESIS_HASH };
}

/**
 * The canonical serialisation: a JSON array in a fixed column order. JSON.stringify of strings,
 * integers and nulls is deterministic, and an array cannot be reordered by key sorting quirks.
 * Adding a column means a new HASH_DOMAIN version, never a silent change.
 */
export function canonicalEntryBytes(row: Omit<StoredEntry, 'hash'>): string {
  return JSON.stringify([
    HASH_DOMAIN,
    row.chainId,
    row.seq,
    row.prevHash,
    row.kind,
    row.time,
    row.requestId,
    row.clientAgencyOrgNumber,
    row.clientAgencyId,
    row.official,
    row.purpose,
    row.legalBasis,
    row.processingRegisterRecordId,
    row.processingRegisterVersion,
    row.caseId,
    row.subjectEnc,
    row.subjectHmac,
    row.field,
    row.owningAgency,
    row.outcome,
    row.outcomeCode,
    row.operationName,
    row.documentHash,
  ]);
}

export function entryHash(row: Omit<StoredEntry, 'hash'>): string {
  // The one-shot form: a Hash object per entry was a tenth of the writer's time.
  return hash('sha256', canonicalEntryBytes(row), 'hex');
}

/** Spelled out rather than spread: object spread of this many properties is the writer's hottest cost. */
function placeEntry(entry: UnchainedEntry, chainId: string, seq: number, prevHash: string): { -readonly [K in keyof StoredEntry]: StoredEntry[K] } {
  return {
    chainId,
    seq,
    prevHash,
    hash: '',
    kind: entry.kind,
    time: entry.time,
    requestId: entry.requestId,
    clientAgencyOrgNumber: entry.clientAgencyOrgNumber,
    clientAgencyId: entry.clientAgencyId,
    official: entry.official,
    purpose: entry.purpose,
    legalBasis: entry.legalBasis,
    processingRegisterRecordId: entry.processingRegisterRecordId,
    processingRegisterVersion: entry.processingRegisterVersion,
    caseId: entry.caseId,
    subjectEnc: entry.subjectEnc,
    subjectHmac: entry.subjectHmac,
    field: entry.field,
    owningAgency: entry.owningAgency,
    outcome: entry.outcome,
    outcomeCode: entry.outcomeCode,
    operationName: entry.operationName,
    documentHash: entry.documentHash,
  };
}

/** Places entries after `head`, in order. Pure: the writer owns the head and commits the result. */
export function chainEntries(head: ChainHead, entries: readonly UnchainedEntry[]): { rows: StoredEntry[]; head: ChainHead } {
  const rows: StoredEntry[] = [];
  let seq = head.seq;
  let prevHash = head.hash;
  for (const entry of entries) {
    seq += 1;
    const row = placeEntry(entry, head.chainId, seq, prevHash);
    row.hash = entryHash(row);
    rows.push(row);
    prevHash = row.hash;
  }
  return { rows, head: { chainId: head.chainId, seq, hash: prevHash } };
}

/**
 * How a chain can break, named by what was most likely done to it:
 * - `seq-gap`: an entry is missing (deleted);
 * - `prev-hash-mismatch`: the entry does not follow the one before it (reordered or inserted);
 * - `hash-mismatch`: the entry's content no longer matches its hash (changed);
 * - `missing-anchor`: the chain starts after seq 1 without a signed purge record (prefix deleted);
 * - `truncated`: entries covered by a checkpoint or the recorded head are gone (tail deleted);
 * - `checkpoint-forged`: a checkpoint or purge record whose signature does not verify;
 * - `checkpoint-mismatch`: a validly signed checkpoint disagrees with the chain at its seq, with
 *   its own columns, or (by its count) with the checkpoint before it, which was deleted.
 */
export type ChainBreakKind = 'seq-gap' | 'prev-hash-mismatch' | 'hash-mismatch' | 'missing-anchor' | 'truncated' | 'checkpoint-forged' | 'checkpoint-mismatch';

export interface ChainBreak {
  readonly chainId: string;
  /** The first seq at which the chain is wrong (for a gap: the first missing seq). */
  readonly seq: number;
  readonly kind: ChainBreakKind;
  readonly detail: string;
}

/**
 * Checks one stored entry against the one before it (or the anchor). Order matters for naming:
 * continuity first (a deleted row), then the link (a moved row keeps a valid hash of its own but
 * points at the wrong predecessor), then the content.
 */
export function checkLink(previous: ChainHead, row: StoredEntry): ChainBreak | null {
  const expected = previous.seq + 1;
  if (row.chainId !== previous.chainId) {
    return { chainId: previous.chainId, seq: row.seq, kind: 'hash-mismatch', detail: `row belongs to chain ${row.chainId}` };
  }
  if (row.seq !== expected) {
    return row.seq > expected
      ? { chainId: row.chainId, seq: expected, kind: 'seq-gap', detail: `expected seq ${expected}, found ${row.seq}: entries ${expected}..${row.seq - 1} are missing` }
      : { chainId: row.chainId, seq: row.seq, kind: 'prev-hash-mismatch', detail: `seq ${row.seq} appears again after ${previous.seq}` };
  }
  if (row.prevHash !== previous.hash) {
    return { chainId: row.chainId, seq: row.seq, kind: 'prev-hash-mismatch', detail: `prevHash does not match the hash of seq ${previous.seq}` };
  }
  const recomputed = entryHash(row);
  if (recomputed !== row.hash) {
    return { chainId: row.chainId, seq: row.seq, kind: 'hash-mismatch', detail: 'content does not match the stored hash' };
  }
  return null;
}
