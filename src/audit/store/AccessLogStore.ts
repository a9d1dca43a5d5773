import type { AccessLogEntryKind, AccessOutcome, StoredEntry } from '../entry.js';
import type { StoredRecord } from '../record.js';
import type { LegacyReader } from '../legacyFormat.js';
import type { ChainHead } from '../hashChain.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import type { NodeAddress, TreeNode } from '../../transparency/merkle.js';

/** Exact-match filters of an audit query; all given filters must hold. Times are ISO 8601 UTC. */
export interface AccessLogFilter {
  readonly subjectHmac?: string;
  /** Client agency id. */
  readonly clientAgency?: string;
  readonly owningAgency?: string;
  /** Agency id that is the client or the owner of the entry: a privacy officer's scope. */
  readonly involvingAgency?: string;
  readonly official?: string;
  readonly purpose?: string;
  readonly caseId?: string;
  /** Schema coordinate `Type.field`. */
  readonly field?: string;
  readonly outcome?: AccessOutcome;
  readonly kind?: AccessLogEntryKind;
  /** Inclusive. */
  readonly timeFrom?: string;
  /** Exclusive. */
  readonly timeTo?: string;
}

export const COUNT_DIMENSIONS = ['clientAgency', 'owningAgency', 'official', 'purpose', 'caseId', 'field', 'outcome', 'kind', 'day'] as const;
export type CountDimension = (typeof COUNT_DIMENSIONS)[number];

export interface QueryPage {
  /** Ordered by (time, chainId, seq): stable across pages even while entries are appended. */
  readonly entries: readonly StoredEntry[];
  /** Opaque; null on the last page. */
  readonly nextCursor: string | null;
}

export interface CountRow {
  readonly key: string;
  readonly count: number;
}

/** How a purge removes its records: in slices of at most `sliceRecords` records, each its own transaction. */
export interface PurgeOptions {
  /** Records per slice; default 500 (a slice then holds the write lock for milliseconds). */
  readonly sliceRecords?: number;
  /** Called after each slice has committed, with the chain and the entries it removed (progress, and tests). */
  readonly afterSlice?: (chainId: string, entries: number) => void | Promise<void>;
}

export const DEFAULT_PURGE_SLICE_RECORDS = 500;

/** Keeps matching entries out of any purge, whatever their age. Exactly one of caseId and subjectHmac is set. */
export interface LegalHold {
  readonly id: number;
  readonly caseId: string | null;
  readonly subjectHmac: string | null;
  readonly reason: string | null;
  readonly createdAt: string;
}

export type NewLegalHold = { readonly caseId: string; readonly subjectHmac?: never; readonly reason?: string } | { readonly subjectHmac: string; readonly caseId?: never; readonly reason?: string };

/**
 * A signed tree head of one chain's Merkle tree (RFC 9162), as a C2SP checkpoint note. The note
 * grows: witnesses' cosignature lines are added to it as they arrive.
 */
export interface StoredTreeHead {
  readonly chainId: string;
  /** Number of leaves: the number of records in the chain when the tree head was signed. */
  readonly size: number;
  /** Base64, as in the note. */
  readonly rootHash: string;
  readonly time: string;
  readonly note: string;
}

/** What an append adds to the chain's Merkle tree: every node the new leaves complete, and maybe a signed head. */
export interface TreeAppend {
  readonly nodes: readonly TreeNode[];
  readonly head?: StoredTreeHead;
}

/**
 * The chain head in the store is not the one the writer expected: another process appended to
 * the same chain (or a failed commit landed after all). Nothing was written; reload and retry.
 */
export class ChainConflictError extends Error {
  constructor(
    readonly chainId: string,
    readonly expectedSeq: number,
    readonly actualSeq: number,
  ) {
    super(`Access-log chain ${chainId}: expected head seq ${expectedSeq}, the store has ${actualSeq}.`);
    this.name = 'ChainConflictError';
  }
}

/** A purge or checkpoint that does not fit the chain as stored (a bug or a race, never applied). */
export class ChainStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainStateError';
  }
}

/**
 * Where access-log records live. Implementations: SQLite (one gateway, a file) and PostgreSQL
 * (several replicas). Every write is one transaction that checks the chain head under a lock,
 * so two writers on one chainId cannot fork it: the loser gets ChainConflictError.
 * The contract is specified by test/audit/accessLogStoreContract.ts.
 */
export interface AccessLogStore {
  readonly backend: 'sqlite' | 'postgres';

  /**
   * Appends records (consecutive, starting right after the stored head), their rows in the
   * subject index, and optionally a checkpoint over the new head and the tree's new nodes and
   * signed head, in one durable transaction.
   */
  append(records: readonly StoredRecord[], checkpoint?: StoredCheckpoint, tree?: TreeAppend): Promise<void>;
  /** A checkpoint over the current head, written on its own (the timed checkpoint). */
  appendCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** A signed tree head over the current head, on its own (the timed one); refused unless head.size is the head's record count. */
  appendTreeHead(head: StoredTreeHead): Promise<void>;
  /** Stored Merkle tree nodes of the chain, by nodeKey; absent ones are left out. */
  readTreeNodes(chainId: string, nodes: readonly NodeAddress[]): Promise<Map<string, Buffer>>;
  /** Writes nodes already derivable from stored records (rebuilding a chain's tree); idempotent. */
  writeTreeNodes(chainId: string, nodes: readonly TreeNode[]): Promise<void>;
  /** Signed tree heads, newest first. */
  listTreeHeads(chainId: string, limit: number): Promise<StoredTreeHead[]>;
  treeHead(chainId: string, size: number): Promise<StoredTreeHead | null>;
  /** Replaces a tree head's note with the same note carrying more (witness) signatures. */
  updateTreeHeadNote(chainId: string, size: number, note: string): Promise<void>;
  /** The recorded head; seq 0 and the genesis hash for an unknown chain. */
  lastHead(chainId: string): Promise<ChainHead>;
  lastCheckpoint(chainId: string): Promise<StoredCheckpoint | null>;

  /**
   * The first of `records` (one chain, in order) whose rows in the subject index are not all
   * there, or null: the verifier's check that no person's record was hidden from their report.
   */
  firstUnindexedRecord(records: readonly StoredRecord[]): Promise<StoredRecord | null>;
  /** Entries with seq >= fromSeq in seq order, at most `limit`, read out of their records. */
  readChain(chainId: string, fromSeq: number, limit: number): Promise<StoredEntry[]>;
  /** Records whose last seq is >= fromSeq, in order, at most `limit`: page through a chain for verification and proofs. */
  readRecords(chainId: string, fromSeq: number, limit: number): Promise<StoredRecord[]>;
  listCheckpoints(chainId: string): Promise<StoredCheckpoint[]>;
  listPurges(chainId: string): Promise<StoredPurge[]>;
  /** Every chain id found in any table, sorted. */
  listChains(): Promise<string[]>;

  query(filter: AccessLogFilter, cursor: string | null, limit: number): Promise<QueryPage>;
  /** Number of matching entries per value of `dimension` (`day`: UTC date), most frequent first. */
  countBy(dimension: CountDimension, filter: AccessLogFilter): Promise<CountRow[]>;

  /**
   * For each purge record (several chains, several per chain): stores the signed purge record as
   * the chain's new anchor and removes the checkpoints before uptoSeq, keeping the checkpoint at
   * uptoSeq, all in one short transaction (PostgreSQL also drops, in it, a month that every chain's
   * purge empties). Then removes the records holding entries 1..uptoSeq of every purged chain
   * (uptoSeq ends a record: a checkpoint is only ever at a record's end) with their subject index
   * rows, in slices of their own short transactions: appends go on between them, so a purge of
   * millions of rows never holds the gateway's writer for longer than one slice. Records left
   * behind by an interrupted purge lie before a stored anchor (verification starts after it) and
   * go in the next purge, which may have no purge records of its own. The tree keeps every hash.
   * Returns the number of entries removed per chain.
   */
  purge(purges: readonly StoredPurge[], options?: PurgeOptions): Promise<Map<string, number>>;
  addLegalHold(hold: NewLegalHold): Promise<LegalHold>;
  listLegalHolds(): Promise<LegalHold[]>;

  /** The row-per-entry format's tables this store may still hold, for the migration (migrateFormat.ts). */
  legacyReader(): LegacyReader;
  /**
   * Starts a chain in the record format after a prefix that was purged before it moved here: the
   * chain head, the signed purge record as its anchor and the checkpoint at the anchor (which a
   * purge keeps, and the next checkpoint's count reaches back to), in one transaction. Refused
   * (ChainStateError) if the chain exists.
   */
  startChainAt(purge: StoredPurge, checkpoint: StoredCheckpoint): Promise<void>;

  /** Resolves if the store can take a write now. */
  healthCheck(): Promise<void>;
  close(): Promise<void>;
}
