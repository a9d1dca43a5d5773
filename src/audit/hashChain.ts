import { hash } from 'node:crypto';
import { parseRecordBody, recordColumns, RecordFormatError, type RecordColumns, type RecordDraft, type StoredRecord } from './record.js';

/**
 * Each stored record (one request's entries, see record.ts) carries the hash of the one before
 * it, so changing, deleting, inserting or reordering a record breaks the chain from there on. The hash is unkeyed: anyone can check it,
 * and anyone with write access could recompute a whole forged chain; that is why signed
 * checkpoints (checkpoint.ts) pin the head hash every N entries.
 *
 * There is one chain per gateway replica (chainId = replica id); see docs/access-log.md.
 */

/** prevHash of a chain's first record. */
export const GENESIS_HASH = '0'.repeat(64);

const HASH_DOMAIN = 'access-log-record-chain-v2';

export interface ChainHead {
  readonly chainId: string;
  /** Seq of the last entry; 0 for an empty chain. */
  readonly seq: number;
  /** Hash of the last record. */
  readonly hash: string;
  /** Records in the chain: the next record's index, and the size of the chain's Merkle tree. */
  readonly records: number;
}

export function genesisHead(chainId: string): ChainHead {
  return { chainId, seq: 0, hash: GENESIS_HASH, records: 0 };
}

/**
 * The hash of a record at its place: its place (chain, index, first seq, the previous record's
 * hash) as a JSON array, a line break, then the body. JSON.stringify never writes a raw line
 * break, so the place ends unambiguously where the body starts; the body is hashed as stored,
 * not serialised twice. Changing this means a new HASH_DOMAIN, never a silent change.
 */
export function recordHash(record: Pick<StoredRecord, 'chainId' | 'index' | 'firstSeq' | 'prevHash' | 'body'>): string {
  // The one-shot form: a Hash object per record costs more than the hash of a short body.
  return hash('sha256', `${JSON.stringify([HASH_DOMAIN, record.chainId, record.index, record.firstSeq, record.prevHash])}\n${record.body}`, 'hex');
}

/** Places records after `head`, in order. Pure: the writer owns the head and commits the result. */
export function chainRecords(head: ChainHead, drafts: readonly RecordDraft[]): { records: StoredRecord[]; head: ChainHead } {
  const records: StoredRecord[] = [];
  const chainId = head.chainId;
  // recordHash's place with its constant start spelled once per batch: the same bytes, as index
  // and seq are integers, which JSON spells as template literals do (test/audit/recordDrafts.test.ts).
  const placeStart = JSON.stringify([HASH_DOMAIN, chainId]).slice(0, -1);
  let seq = head.seq;
  let index = head.records;
  let prevHash = head.hash;
  for (const draft of drafts) {
    const firstSeq = seq + 1;
    const hashed = hash('sha256', `${placeStart},${index},${firstSeq},${JSON.stringify(prevHash)}]\n${draft.body}`, 'hex');
    seq += draft.items.length;
    records.push({ chainId, index, firstSeq, prevHash, body: draft.body, lastSeq: seq, hash: hashed, header: draft.header, items: draft.items, itemTexts: draft.itemTexts });
    prevHash = hashed;
    index += 1;
  }
  return { records, head: { chainId, seq, hash: prevHash, records: index } };
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
 *   its own columns, or (by its count) with the checkpoint before it, which was deleted;
 * - `index-mismatch`: a record's row in the subject index is gone (deleted, or its key edited),
 *   so the person's report and a search by subject would miss the record.
 */
export type ChainBreakKind = 'seq-gap' | 'prev-hash-mismatch' | 'hash-mismatch' | 'missing-anchor' | 'truncated' | 'checkpoint-forged' | 'checkpoint-mismatch' | 'index-mismatch';

export interface ChainBreak {
  readonly chainId: string;
  /** The first seq at which the chain is wrong (for a gap: the first missing seq). */
  readonly seq: number;
  readonly kind: ChainBreakKind;
  readonly detail: string;
}

/** Where the walk stands: the last record's end, or an anchor (a purge record does not say how many records it removed). */
export interface WalkPosition {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
  /** The index the next record must have; null after a purge anchor. */
  readonly records: number | null;
}

/**
 * Checks one stored record against the one before it (or the anchor). Order matters for naming:
 * continuity first (a deleted record), then the link (a moved record keeps a valid hash of its
 * own but points at the wrong predecessor), then the content, then the query columns beside it.
 */
export function checkLink(previous: WalkPosition, record: StoredRecord): ChainBreak | null {
  const expected = previous.seq + 1;
  if (record.chainId !== previous.chainId) {
    return { chainId: previous.chainId, seq: record.firstSeq, kind: 'hash-mismatch', detail: `record belongs to chain ${record.chainId}` };
  }
  if (record.firstSeq !== expected) {
    return record.firstSeq > expected
      ? { chainId: record.chainId, seq: expected, kind: 'seq-gap', detail: `expected seq ${expected}, found ${record.firstSeq}: entries ${expected}..${record.firstSeq - 1} are missing` }
      : { chainId: record.chainId, seq: record.firstSeq, kind: 'prev-hash-mismatch', detail: `seq ${record.firstSeq} appears again after ${previous.seq}` };
  }
  if (record.prevHash !== previous.hash || (previous.records !== null && record.index !== previous.records)) {
    return { chainId: record.chainId, seq: record.firstSeq, kind: 'prev-hash-mismatch', detail: `the record does not follow the one ending at seq ${previous.seq}` };
  }
  let parsed: ReturnType<typeof parseRecordBody>;
  try {
    parsed = parseRecordBody(record.body);
  } catch (error) {
    if (error instanceof RecordFormatError) return { chainId: record.chainId, seq: record.firstSeq, kind: 'hash-mismatch', detail: `the record body is malformed: ${error.message}` };
    throw error;
  }
  if (recordHash(record) !== record.hash || record.lastSeq !== record.firstSeq + parsed.items.length - 1) {
    return { chainId: record.chainId, seq: record.firstSeq, kind: 'hash-mismatch', detail: 'content does not match the stored hash' };
  }
  const columns = record.columns;
  if (columns) {
    const expectedColumns = recordColumns(parsed.header);
    const edited = (Object.keys(expectedColumns) as Array<keyof RecordColumns>).find((key) => columns[key] !== expectedColumns[key]);
    if (edited) return { chainId: record.chainId, seq: record.firstSeq, kind: 'hash-mismatch', detail: `the query column ${edited} differs from the hashed record` };
  }
  return null;
}
