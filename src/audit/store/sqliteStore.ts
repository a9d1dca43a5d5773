import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredEntry } from '../entry.js';
import { genesisHead, type ChainHead } from '../hashChain.js';
import { recordSubjects, type StoredRecord } from '../record.js';
import type { LegacyEntry, LegacyReader } from '../legacyFormat.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import { nodeKey, type NodeAddress, type TreeNode } from '../../transparency/merkle.js';
import {
  COUNT_DIMENSIONS,
  ChainStateError,
  type StoredTreeHead,
  type TreeAppend,
  type AccessLogFilter,
  type AccessLogStore,
  type CountDimension,
  type CountRow,
  type LegalHold,
  type NewLegalHold,
  type PurgeOptions,
  type QueryPage,
} from './AccessLogStore.js';
import { removeInSlices, type PurgeSlice } from './purgeSlices.js';
import { SqliteWriterThread, WAL_LIMIT_PAGES } from './sqliteWriter.js';
import {
  buildRecordWhere,
  entriesFrom,
  filtersEntries,
  LEGACY_ENTRY_COLUMN_LIST,
  LEGACY_ENTRY_COLUMNS,
  RECORD_COLUMN_LIST,
  RECORD_DIMENSION_COLUMNS,
  toCheckpoint,
  toHold,
  toPurge,
  toRecord,
  toTreeHead,
} from './sql.js';
import { countRecordEntries, queryRecords, type FetchRecords } from './recordQuery.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created if missing. */
  readonly file: string;
  /**
   * How long a write waits for another connection's lock. better-sqlite3 waits synchronously,
   * so keep this at or below the access log's commit timeout.
   */
  readonly busyTimeoutMs?: number;
  /** When the checkpoint thread runs and how large the WAL may grow (sqliteWriter.ts); the defaults suit the gateway, tests make them small. */
  readonly walCheckpointPages?: number;
  readonly walLimitPages?: number;
}

/**
 * One row per record (record.ts), not per entry: a request's entries inside its body, the columns
 * audit queries narrow by beside it, and a narrow subject index (keyed hash → record). The tables
 * of the row-per-entry format (access_log_entries, access_log_chains, ...) are left alone: the
 * migration (migrateFormat.ts) reads them.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_records (
  chain_id TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  kind TEXT NOT NULL,
  time TEXT NOT NULL,
  client_agency_id TEXT NOT NULL,
  official TEXT NOT NULL,
  purpose TEXT NOT NULL,
  case_id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (chain_id, last_seq)
);
-- Three indexes per request instead of six per entry. Official, purpose and kind queries walk
-- the time order and filter; owner, field and outcome are inside the body (recordQuery.ts).
CREATE INDEX IF NOT EXISTS log_records_order ON log_records (time, chain_id, last_seq);
CREATE INDEX IF NOT EXISTS log_records_client ON log_records (client_agency_id, time);
CREATE INDEX IF NOT EXISTS log_records_case ON log_records (case_id, time);
-- The narrow subject index: one row per distinct subject per record, in the order a person's
-- history is read. The key is the whole row: no table behind it.
CREATE TABLE IF NOT EXISTS log_subjects (
  subject_hmac TEXT NOT NULL,
  time TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (subject_hmac, time, chain_id, last_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_chains (
  chain_id TEXT PRIMARY KEY,
  head_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  head_records INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log_checkpoints (
  chain_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  count INTEGER NOT NULL,
  time TEXT NOT NULL,
  jws TEXT NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE TABLE IF NOT EXISTS log_purges (
  chain_id TEXT NOT NULL,
  upto_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  purged_count INTEGER NOT NULL,
  time TEXT NOT NULL,
  jws TEXT NOT NULL,
  note TEXT,
  PRIMARY KEY (chain_id, upto_seq)
);
-- The Merkle tree over each chain's records (leaf index = record idx): every complete subtree's
-- hash, so an inclusion or consistency proof is O(log n) primary-key reads. Purges leave it
-- alone: the tree keeps the hashes of records that are gone.
CREATE TABLE IF NOT EXISTS log_tree_nodes (
  chain_id TEXT NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (chain_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_tree_heads (
  chain_id TEXT NOT NULL,
  tree_size INTEGER NOT NULL,
  root_hash TEXT NOT NULL,
  time TEXT NOT NULL,
  note TEXT NOT NULL,
  PRIMARY KEY (chain_id, tree_size)
);
CREATE TABLE IF NOT EXISTS access_log_legal_holds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id TEXT,
  subject_hmac TEXT,
  reason TEXT,
  created_at TEXT NOT NULL,
  CHECK ((case_id IS NULL) <> (subject_hmac IS NULL))
);
`;

type Row = Record<string, unknown>;

/**
 * The single-gateway store: one SQLite file in WAL mode with synchronous=FULL, so a commit has
 * reached the disk (WAL fsynced) before append() resolves. Appends run on a writer thread
 * (sqliteWriter.ts): better-sqlite3 is synchronous, and a commit on the event loop stalled every
 * request in flight for its B-tree work and fsync. Reads, audit queries, purges and legal holds
 * use this connection; WAL lets them run beside the writer.
 */
export class SqliteAccessLogStore implements AccessLogStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly writer: SqliteWriterThread;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(path.dirname(options.file), { recursive: true });
    this.db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 1000 });
    this.db.pragma('journal_mode = WAL');
    // FULL fsyncs the WAL on every commit: NORMAL could lose the last commits on power loss, and
    // a lost entry whose response was released is exactly what the log must never allow.
    this.db.pragma('synchronous = FULL');
    // Checkpoints belong to the writer thread's policy (sqliteWriterWorker.mjs): one here runs on
    // the event loop. Only past the WAL's limit does this connection checkpoint on commit, which
    // bounds the WAL when it writes and the writer thread does not (a purge while no requests come).
    this.db.pragma(`wal_autocheckpoint = ${options.walLimitPages ?? WAL_LIMIT_PAGES}`);
    this.db.exec(SCHEMA);
    this.statements = {
      head: this.db.prepare('SELECT head_seq, head_hash, head_records FROM log_chains WHERE chain_id = ?'),
      lastCheckpoint: this.db.prepare('SELECT * FROM log_checkpoints WHERE chain_id = ? ORDER BY seq DESC LIMIT 1'),
      readRecords: this.db.prepare(`SELECT ${RECORD_COLUMN_LIST} FROM log_records WHERE chain_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT ?`),
      checkpoints: this.db.prepare('SELECT * FROM log_checkpoints WHERE chain_id = ? ORDER BY seq'),
      subjectRow: this.db.prepare('SELECT 1 FROM log_subjects WHERE subject_hmac = ? AND time = ? AND chain_id = ? AND last_seq = ?'),
      purges: this.db.prepare('SELECT * FROM log_purges WHERE chain_id = ? ORDER BY upto_seq'),
      treeNode: this.db.prepare('SELECT hash FROM log_tree_nodes WHERE chain_id = ? AND level = ? AND idx = ?').pluck(),
      treeHeads: this.db.prepare('SELECT * FROM log_tree_heads WHERE chain_id = ? ORDER BY tree_size DESC LIMIT ?'),
      treeHead: this.db.prepare('SELECT * FROM log_tree_heads WHERE chain_id = ? AND tree_size = ?'),
      writeTreeNode: this.db.prepare('INSERT INTO log_tree_nodes (chain_id, level, idx, hash) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      // Only signature lines may be added: the note's text and the log's signature stay as signed.
      updateTreeHeadNote: this.db.prepare('UPDATE log_tree_heads SET note = @note WHERE chain_id = @chainId AND tree_size = @size AND substr(@note, 1, length(note)) = note'),
    };
    // Its thread starts on the first request (or in open()), after the schema above exists: it only prepares statements.
    this.writer = new SqliteWriterThread({
      file: options.file,
      busyTimeoutMs: options.busyTimeoutMs ?? 1000,
      ...(options.walCheckpointPages === undefined ? {} : { walCheckpointPages: options.walCheckpointPages }),
      ...(options.walLimitPages === undefined ? {} : { walLimitPages: options.walLimitPages }),
    });
  }

  /**
   * Opens the store and waits for its writer thread: started lazily, the thread's start-up (a few
   * tens of milliseconds, far more on a loaded machine) would count against the first commit's timeout.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteAccessLogStore> {
    const store = new SqliteAccessLogStore(options);
    try {
      await store.writer.ready();
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    return store;
  }

  private readHead(chainId: string): ChainHead {
    const row = this.statements.head.get(chainId) as Row | undefined;
    return row ? { chainId, seq: row['head_seq'] as number, hash: row['head_hash'] as string, records: row['head_records'] as number } : genesisHead(chainId);
  }

  append(records: readonly StoredRecord[], checkpoint?: StoredCheckpoint, tree?: TreeAppend): Promise<void> {
    if (records.length === 0) return checkpoint ? this.writer.appendCheckpoint(checkpoint) : Promise.resolve();
    return this.writer.append(records, checkpoint, tree);
  }

  appendCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return this.writer.appendCheckpoint(checkpoint);
  }

  appendTreeHead(head: StoredTreeHead): Promise<void> {
    return this.writer.appendTreeHead(head);
  }

  async readTreeNodes(chainId: string, nodes: readonly NodeAddress[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    for (const node of nodes) {
      const hash = this.statements.treeNode.get(chainId, node.level, node.index) as Buffer | undefined;
      if (hash) found.set(nodeKey(node), hash);
    }
    return found;
  }

  async writeTreeNodes(chainId: string, nodes: readonly TreeNode[]): Promise<void> {
    this.db.transaction(() => {
      for (const node of nodes) this.statements.writeTreeNode.run(chainId, node.level, node.index, node.hash);
    })();
  }

  async listTreeHeads(chainId: string, limit: number): Promise<StoredTreeHead[]> {
    return (this.statements.treeHeads.all(chainId, limit) as Row[]).map(toTreeHead);
  }

  async treeHead(chainId: string, size: number): Promise<StoredTreeHead | null> {
    const row = this.statements.treeHead.get(chainId, size) as Row | undefined;
    return row ? toTreeHead(row) : null;
  }

  async updateTreeHeadNote(chainId: string, size: number, note: string): Promise<void> {
    if (this.statements.updateTreeHeadNote.run({ chainId, size, note }).changes !== 1) {
      throw new ChainStateError(`Tree head ${chainId} at size ${size} is missing, or the new note does not extend the signed one.`);
    }
  }

  async lastHead(chainId: string): Promise<ChainHead> {
    return this.readHead(chainId);
  }

  async lastCheckpoint(chainId: string): Promise<StoredCheckpoint | null> {
    const row = this.statements.lastCheckpoint.get(chainId) as Row | undefined;
    return row ? toCheckpoint(row) : null;
  }

  async readRecords(chainId: string, fromSeq: number, limit: number): Promise<StoredRecord[]> {
    return (this.statements.readRecords.all(chainId, fromSeq, limit) as Row[]).map((row) => toRecord(row));
  }

  async firstUnindexedRecord(records: readonly StoredRecord[]): Promise<StoredRecord | null> {
    for (const record of records) {
      for (const subject of recordSubjects(record.items)) {
        if (this.statements.subjectRow.get(subject, record.header.time, record.chainId, record.lastSeq) === undefined) return record;
      }
    }
    return null;
  }

  async readChain(chainId: string, fromSeq: number, limit: number): Promise<StoredEntry[]> {
    // Each record holds at least one entry: `limit` records always hold enough.
    return entriesFrom(await this.readRecords(chainId, fromSeq, limit), fromSeq, limit);
  }

  async listCheckpoints(chainId: string): Promise<StoredCheckpoint[]> {
    return (this.statements.checkpoints.all(chainId) as Row[]).map(toCheckpoint);
  }

  async listPurges(chainId: string): Promise<StoredPurge[]> {
    return (this.statements.purges.all(chainId) as Row[]).map(toPurge);
  }

  async listChains(): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT chain_id FROM log_chains UNION SELECT DISTINCT chain_id FROM log_records
         UNION SELECT chain_id FROM log_checkpoints UNION SELECT chain_id FROM log_purges ORDER BY chain_id`,
      )
      .all() as Row[];
    return rows.map((row) => row['chain_id'] as string);
  }

  /** Records matching what the filter says of a request, in (time, chain, last seq) order; through the subject index when a subject is given. */
  private fetcher(filter: AccessLogFilter): FetchRecords {
    const bySubject = filter.subjectHmac !== undefined;
    const where = buildRecordWhere(filter, () => '?', { timeColumn: bySubject ? 's.time' : 'r.time' });
    const order = bySubject ? ['s.time', 's.chain_id', 's.last_seq'] : ['r.time', 'r.chain_id', 'r.last_seq'];
    const from = bySubject ? 'log_subjects s JOIN log_records r ON r.chain_id = s.chain_id AND r.last_seq = s.last_seq' : 'log_records r';
    const subject = bySubject ? `s.subject_hmac = ? AND ` : '';
    const columns = RECORD_COLUMN_LIST.split(', ')
      .map((column) => `r.${column}`)
      .join(', ');
    const first = this.db.prepare(`SELECT ${columns} FROM ${from} WHERE ${subject}${where.sql} ORDER BY ${order.join(', ')} LIMIT ?`);
    const next = this.db.prepare(`SELECT ${columns} FROM ${from} WHERE ${subject}${where.sql} AND (${order.join(', ')}) > (?, ?, ?) ORDER BY ${order.join(', ')} LIMIT ?`);
    const params = bySubject ? [filter.subjectHmac, ...where.params] : where.params;
    return async (after, limit) => {
      const rows = (after === null ? first.all(...params, limit) : next.all(...params, after.time, after.chainId, after.lastSeq, limit)) as Row[];
      return rows.map((row) => toRecord(row));
    };
  }

  async query(filter: AccessLogFilter, cursor: string | null, limit: number): Promise<QueryPage> {
    return queryRecords(filter, cursor, limit, this.fetcher(filter));
  }

  async countBy(dimension: CountDimension, filter: AccessLogFilter): Promise<CountRow[]> {
    if (!(COUNT_DIMENSIONS as readonly string[]).includes(dimension)) throw new TypeError(`Unknown count dimension ${String(dimension)}.`);
    const column = dimension === 'day' ? 'substr(r.time, 1, 10)' : RECORD_DIMENSION_COLUMNS[dimension];
    if (column === undefined || filtersEntries(filter)) return countRecordEntries(dimension, filter, this.fetcher(filter));
    // What a request's entries share: counted in SQL, each record weighing its number of entries.
    const where = buildRecordWhere(filter, () => '?');
    const rows = this.db
      .prepare(`SELECT ${column} AS key, SUM(r.last_seq - r.first_seq + 1) AS count FROM log_records r WHERE ${where.sql} GROUP BY key ORDER BY count DESC, key`)
      .all(...where.params) as Row[];
    return rows.map((row) => ({ key: row['key'] as string, count: row['count'] as number }));
  }

  async purge(purges: readonly StoredPurge[], options: PurgeOptions = {}): Promise<Map<string, number>> {
    if (purges.length > 0) {
      this.db
        .transaction(() => {
          for (const purge of purges) this.anchorPurge(purge);
        })
        .immediate();
    }
    const removed = new Map<string, number>();
    const anchors = this.db.prepare('SELECT chain_id, max(upto_seq) AS upto_seq FROM log_purges GROUP BY chain_id ORDER BY chain_id').all() as Row[];
    for (const anchor of anchors) {
      const chainId = anchor['chain_id'] as string;
      const entries = await this.removePurgedRecords(chainId, anchor['upto_seq'] as number, options);
      if (entries > 0) removed.set(chainId, entries);
    }
    return removed;
  }

  /** One purge record, inside purge()'s first transaction: the anchor, and the checkpoints it makes obsolete. */
  private anchorPurge(purge: StoredPurge): void {
    const checkpoint = this.db.prepare('SELECT head_hash FROM log_checkpoints WHERE chain_id = ? AND seq = ?').get(purge.chainId, purge.uptoSeq) as Row | undefined;
    if (checkpoint?.['head_hash'] !== purge.headHash) {
      throw new ChainStateError(`Purge of ${purge.chainId} must end at a stored checkpoint; none matches seq ${purge.uptoSeq}.`);
    }
    this.db.prepare('DELETE FROM log_checkpoints WHERE chain_id = ? AND seq < ?').run(purge.chainId, purge.uptoSeq);
    this.db
      .prepare('INSERT INTO log_purges (chain_id, upto_seq, head_hash, purged_count, time, jws, note) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(purge.chainId, purge.uptoSeq, purge.headHash, purge.purgedCount, purge.time, purge.jws, purge.note ?? null);
  }

  /** The records of a chain up to its anchor with their subject index rows, in slices (removeInSlices), each its own write transaction. */
  private removePurgedRecords(chainId: string, uptoSeq: number, options: PurgeOptions): Promise<number> {
    const select = this.db.prepare(`SELECT ${RECORD_COLUMN_LIST} FROM log_records WHERE chain_id = ? AND last_seq <= ? ORDER BY last_seq LIMIT ?`);
    // The subject index rows go with their records, found through the records' bodies: an index on
    // the subject table by chain would cost every append for the sake of a rare purge.
    const unindex = this.db.prepare('DELETE FROM log_subjects WHERE subject_hmac = ? AND time = ? AND chain_id = ? AND last_seq = ?');
    const remove = this.db.prepare('DELETE FROM log_records WHERE chain_id = ? AND last_seq <= ?');
    const slice = this.db.transaction((limit: number): PurgeSlice => {
      const doomed = (select.all(chainId, uptoSeq, limit) as Row[]).map((row) => toRecord(row));
      let entries = 0;
      for (const record of doomed) {
        for (const subject of recordSubjects(record.items)) unindex.run(subject, record.header.time, record.chainId, record.lastSeq);
        entries += record.lastSeq - record.firstSeq + 1;
      }
      if (doomed.length > 0) remove.run(chainId, doomed[doomed.length - 1]!.lastSeq);
      return { records: doomed.length, entries };
    });
    return removeInSlices(chainId, options, (limit) => slice.immediate(limit));
  }

  async addLegalHold(hold: NewLegalHold): Promise<LegalHold> {
    const row = this.db
      .prepare('INSERT INTO access_log_legal_holds (case_id, subject_hmac, reason, created_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(hold.caseId ?? null, hold.subjectHmac ?? null, hold.reason ?? null, new Date().toISOString()) as Row;
    return toHold(row);
  }

  async listLegalHolds(): Promise<LegalHold[]> {
    return (this.db.prepare('SELECT * FROM access_log_legal_holds ORDER BY id').all() as Row[]).map(toHold);
  }

  /** The tables of the row-per-entry format, for the migration; empty when they do not exist. */
  legacyReader(): LegacyReader {
    const exists = () => this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'access_log_entries'").get() !== undefined;
    return {
      chains: async () => (exists() ? (this.db.prepare('SELECT chain_id FROM access_log_chains ORDER BY chain_id').all() as Row[]).map((row) => row['chain_id'] as string) : []),
      head: async (chainId) => {
        const row = exists() ? (this.db.prepare('SELECT head_seq, head_hash FROM access_log_chains WHERE chain_id = ?').get(chainId) as Row | undefined) : undefined;
        return row ? { seq: row['head_seq'] as number, hash: row['head_hash'] as string } : null;
      },
      rows: async (chainId, fromSeq, limit) =>
        (this.db.prepare(`SELECT ${LEGACY_ENTRY_COLUMN_LIST} FROM access_log_entries WHERE chain_id = ? AND seq >= ? ORDER BY seq LIMIT ?`).all(chainId, fromSeq, limit) as Row[]).map(
          (row) => Object.fromEntries(LEGACY_ENTRY_COLUMNS.map(([column, property]) => [property, row[column]])) as unknown as LegacyEntry,
        ),
      checkpoints: async (chainId) => (this.db.prepare('SELECT * FROM access_log_checkpoints WHERE chain_id = ? ORDER BY seq').all(chainId) as Row[]).map(toCheckpoint),
      purges: async (chainId) => (this.db.prepare('SELECT * FROM access_log_purges WHERE chain_id = ? ORDER BY upto_seq').all(chainId) as Row[]).map(toPurge),
    };
  }

  async startChainAt(purge: StoredPurge, checkpoint: StoredCheckpoint): Promise<void> {
    this.db
      .transaction(() => {
        if (this.statements.head.get(purge.chainId) !== undefined) throw new ChainStateError(`Chain ${purge.chainId} already exists in the record format.`);
        this.db.prepare('INSERT INTO log_chains (chain_id, head_seq, head_hash, head_records) VALUES (?, ?, ?, 0)').run(purge.chainId, purge.uptoSeq, purge.headHash);
        this.db
          .prepare('INSERT INTO log_purges (chain_id, upto_seq, head_hash, purged_count, time, jws) VALUES (?, ?, ?, ?, ?, ?)')
          .run(purge.chainId, purge.uptoSeq, purge.headHash, purge.purgedCount, purge.time, purge.jws);
        this.db
          .prepare('INSERT INTO log_checkpoints (chain_id, seq, head_hash, count, time, jws) VALUES (?, ?, ?, ?, ?, ?)')
          .run(checkpoint.chainId, checkpoint.seq, checkpoint.headHash, checkpoint.count, checkpoint.time, checkpoint.jws);
      })
      .immediate();
  }

  /** Probes through the writer thread: a dead thread or a held write lock both fail it. */
  healthCheck(): Promise<void> {
    return this.writer.probe();
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
