import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoredEntry } from '../entry.js';
import { GENESIS_HASH, type ChainHead } from '../hashChain.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import { nodeKey, type NodeAddress, type TreeNode } from '../../transparency/merkle.js';
import {
  ChainStateError,
  type StoredTreeHead,
  type TreeAppend,
  type AccessLogFilter,
  type AccessLogStore,
  type CountDimension,
  type CountRow,
  type LegalHold,
  type NewLegalHold,
  type QueryPage,
} from './AccessLogStore.js';
import { SqliteWriterThread } from './sqliteWriter.js';
import { buildWhere, checkLimit, decodeCursor, DIMENSION_COLUMNS, ENTRY_COLUMNS, ENTRY_COLUMN_LIST, toPage } from './sql.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created if missing. */
  readonly file: string;
  /**
   * How long a write waits for another connection's lock. better-sqlite3 waits synchronously,
   * so keep this at or below the access log's commit timeout.
   */
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS access_log_entries (
  chain_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'access',
  time TEXT NOT NULL,
  request_id TEXT NOT NULL,
  client_agency_org_number TEXT NOT NULL,
  client_agency_id TEXT NOT NULL,
  official TEXT NOT NULL,
  purpose TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  register_record_id TEXT NOT NULL,
  register_version TEXT NOT NULL,
  case_id TEXT NOT NULL,
  subject_enc TEXT,
  subject_hmac TEXT,
  field TEXT NOT NULL,
  owning_agency TEXT NOT NULL,
  outcome TEXT NOT NULL,
  outcome_code TEXT,
  operation_name TEXT,
  document_hash TEXT NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS access_log_entries_order ON access_log_entries (time, chain_id, seq);
CREATE INDEX IF NOT EXISTS access_log_entries_subject ON access_log_entries (subject_hmac, time);
CREATE INDEX IF NOT EXISTS access_log_entries_client ON access_log_entries (client_agency_id, time);
CREATE INDEX IF NOT EXISTS access_log_entries_owner ON access_log_entries (owning_agency, time);
CREATE INDEX IF NOT EXISTS access_log_entries_official ON access_log_entries (official, time);
CREATE INDEX IF NOT EXISTS access_log_entries_case ON access_log_entries (case_id, time);
-- Purpose, field and outcome have a handful of values each: an index on them cost every append
-- more than it saved a query, which walks the time order or a narrower index and filters.
DROP INDEX IF EXISTS access_log_entries_purpose;
DROP INDEX IF EXISTS access_log_entries_field;
DROP INDEX IF EXISTS access_log_entries_outcome;
CREATE TABLE IF NOT EXISTS access_log_chains (
  chain_id TEXT PRIMARY KEY,
  head_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_log_checkpoints (
  chain_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  count INTEGER NOT NULL,
  time TEXT NOT NULL,
  jws TEXT NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE TABLE IF NOT EXISTS access_log_purges (
  chain_id TEXT NOT NULL,
  upto_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  purged_count INTEGER NOT NULL,
  time TEXT NOT NULL,
  jws TEXT NOT NULL,
  PRIMARY KEY (chain_id, upto_seq)
);
-- The Merkle tree over each chain (one leaf per entry, leaf index = seq - 1): every complete
-- subtree's hash, so an inclusion or consistency proof is O(log n) primary-key reads. Purges
-- leave it alone: the tree keeps the hashes of entries that are gone.
CREATE TABLE IF NOT EXISTS access_log_tree_nodes (
  chain_id TEXT NOT NULL,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (chain_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS access_log_tree_heads (
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

function toEntry(row: Row): StoredEntry {
  const entry: Record<string, unknown> = {};
  for (const [column, property] of ENTRY_COLUMNS) entry[property] = row[column];
  return entry as unknown as StoredEntry;
}

function toCheckpoint(row: Row): StoredCheckpoint {
  return {
    chainId: row['chain_id'] as string,
    seq: row['seq'] as number,
    headHash: row['head_hash'] as string,
    count: row['count'] as number,
    time: row['time'] as string,
    jws: row['jws'] as string,
  };
}

function toTreeHead(row: Row): StoredTreeHead {
  return {
    chainId: row['chain_id'] as string,
    size: row['tree_size'] as number,
    rootHash: row['root_hash'] as string,
    time: row['time'] as string,
    note: row['note'] as string,
  };
}

function toHold(row: Row): LegalHold {
  return {
    id: row['id'] as number,
    caseId: (row['case_id'] as string | null) ?? null,
    subjectHmac: (row['subject_hmac'] as string | null) ?? null,
    reason: (row['reason'] as string | null) ?? null,
    createdAt: row['created_at'] as string,
  };
}

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
    this.db.exec(SCHEMA);
    this.statements = {
      head: this.db.prepare('SELECT head_seq, head_hash FROM access_log_chains WHERE chain_id = ?'),
      lastCheckpoint: this.db.prepare('SELECT * FROM access_log_checkpoints WHERE chain_id = ? ORDER BY seq DESC LIMIT 1'),
      readChain: this.db.prepare(`SELECT ${ENTRY_COLUMN_LIST} FROM access_log_entries WHERE chain_id = ? AND seq >= ? ORDER BY seq LIMIT ?`),
      checkpoints: this.db.prepare('SELECT * FROM access_log_checkpoints WHERE chain_id = ? ORDER BY seq'),
      purges: this.db.prepare('SELECT * FROM access_log_purges WHERE chain_id = ? ORDER BY upto_seq'),
      treeNode: this.db.prepare('SELECT hash FROM access_log_tree_nodes WHERE chain_id = ? AND level = ? AND idx = ?').pluck(),
      treeHeads: this.db.prepare('SELECT * FROM access_log_tree_heads WHERE chain_id = ? ORDER BY tree_size DESC LIMIT ?'),
      treeHead: this.db.prepare('SELECT * FROM access_log_tree_heads WHERE chain_id = ? AND tree_size = ?'),
      writeTreeNode: this.db.prepare('INSERT INTO access_log_tree_nodes (chain_id, level, idx, hash) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      // Only signature lines may be added: the note's text and the log's signature stay as signed.
      updateTreeHeadNote: this.db.prepare('UPDATE access_log_tree_heads SET note = @note WHERE chain_id = @chainId AND tree_size = @size AND substr(@note, 1, length(note)) = note'),
    };
    // Its thread starts on the first request (or in open()), after the schema above exists: it only prepares statements.
    this.writer = new SqliteWriterThread({ file: options.file, busyTimeoutMs: options.busyTimeoutMs ?? 1000 });
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
    return row ? { chainId, seq: row['head_seq'] as number, hash: row['head_hash'] as string } : { chainId, seq: 0, hash: GENESIS_HASH };
  }

  append(rows: readonly StoredEntry[], checkpoint?: StoredCheckpoint, tree?: TreeAppend): Promise<void> {
    if (rows.length === 0) return checkpoint ? this.writer.appendCheckpoint(checkpoint) : Promise.resolve();
    return this.writer.append(rows, checkpoint, tree);
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

  async readChain(chainId: string, fromSeq: number, limit: number): Promise<StoredEntry[]> {
    return (this.statements.readChain.all(chainId, fromSeq, limit) as Row[]).map(toEntry);
  }

  async listCheckpoints(chainId: string): Promise<StoredCheckpoint[]> {
    return (this.statements.checkpoints.all(chainId) as Row[]).map(toCheckpoint);
  }

  async listPurges(chainId: string): Promise<StoredPurge[]> {
    return (this.statements.purges.all(chainId) as Row[]).map((row) => ({
      chainId: row['chain_id'] as string,
      uptoSeq: row['upto_seq'] as number,
      headHash: row['head_hash'] as string,
      purgedCount: row['purged_count'] as number,
      time: row['time'] as string,
      jws: row['jws'] as string,
    }));
  }

  async listChains(): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT chain_id FROM access_log_chains UNION SELECT DISTINCT chain_id FROM access_log_entries
         UNION SELECT chain_id FROM access_log_checkpoints UNION SELECT chain_id FROM access_log_purges ORDER BY chain_id`,
      )
      .all() as Row[];
    return rows.map((row) => row['chain_id'] as string);
  }

  async query(filter: AccessLogFilter, cursor: string | null, limit: number): Promise<QueryPage> {
    checkLimit(limit);
    const where = buildWhere(filter, () => '?');
    let sql = `SELECT ${ENTRY_COLUMN_LIST} FROM access_log_entries WHERE ${where.sql}`;
    const params = [...where.params];
    if (cursor !== null) {
      const after = decodeCursor(cursor);
      sql += ' AND (time, chain_id, seq) > (?, ?, ?)';
      params.push(after.time, after.chainId, after.seq);
    }
    sql += ' ORDER BY time, chain_id, seq LIMIT ?';
    params.push(limit + 1);
    return toPage((this.db.prepare(sql).all(...params) as Row[]).map(toEntry), limit);
  }

  async countBy(dimension: CountDimension, filter: AccessLogFilter): Promise<CountRow[]> {
    const key = dimension === 'day' ? 'substr(time, 1, 10)' : DIMENSION_COLUMNS[dimension];
    if (key === undefined) throw new TypeError(`Unknown count dimension ${String(dimension)}.`);
    const where = buildWhere(filter, () => '?');
    const rows = this.db.prepare(`SELECT ${key} AS key, COUNT(*) AS count FROM access_log_entries WHERE ${where.sql} GROUP BY key ORDER BY count DESC, key`).all(...where.params) as Row[];
    return rows.map((row) => ({ key: row['key'] as string, count: row['count'] as number }));
  }

  async purge(purge: StoredPurge): Promise<number> {
    return this.db
      .transaction(() => {
        const checkpoint = this.db.prepare('SELECT head_hash FROM access_log_checkpoints WHERE chain_id = ? AND seq = ?').get(purge.chainId, purge.uptoSeq) as Row | undefined;
        if (checkpoint?.['head_hash'] !== purge.headHash) {
          throw new ChainStateError(`Purge of ${purge.chainId} must end at a stored checkpoint; none matches seq ${purge.uptoSeq}.`);
        }
        const deleted = this.db.prepare('DELETE FROM access_log_entries WHERE chain_id = ? AND seq <= ?').run(purge.chainId, purge.uptoSeq).changes;
        this.db.prepare('DELETE FROM access_log_checkpoints WHERE chain_id = ? AND seq < ?').run(purge.chainId, purge.uptoSeq);
        this.db
          .prepare('INSERT INTO access_log_purges (chain_id, upto_seq, head_hash, purged_count, time, jws) VALUES (?, ?, ?, ?, ?, ?)')
          .run(purge.chainId, purge.uptoSeq, purge.headHash, purge.purgedCount, purge.time, purge.jws);
        return deleted;
      })
      .immediate();
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

  /** Probes through the writer thread: a dead thread or a held write lock both fail it. */
  healthCheck(): Promise<void> {
    return this.writer.probe();
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.open) this.db.close();
  }
}
