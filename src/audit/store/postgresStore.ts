import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StoredEntry } from '../entry.js';
import { GENESIS_HASH, type ChainHead } from '../hashChain.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import { nodeKey, type NodeAddress, type TreeNode } from '../../transparency/merkle.js';
import {
  ChainConflictError,
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
import { buildWhere, checkLimit, decodeCursor, DIMENSION_COLUMNS, ENTRY_COLUMNS, ENTRY_COLUMN_LIST, toPage } from './sql.js';
import { toCopyText, treeNodesCopyText } from './copyText.js';

export interface PostgresStoreOptions {
  readonly connectionString: string;
  /** Tables live in this schema, created if missing. */
  readonly schema?: string;
  /** Bounds lock waits and statements server-side, so a stuck commit ends rather than holds the chain. */
  readonly statementTimeoutMs?: number;
  readonly poolSize?: number;
  /** Shown in pg_stat_activity; lets operators (and tests) find this store's connections. */
  readonly applicationName?: string;
  /** Connection errors on idle clients; without a listener pg would crash the process. */
  readonly onPoolError?: (error: Error) => void;
}

const STARTUP_CONNECT_TIMEOUT_MS = 10_000;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function schemaSql(s: string): string {
  // COLLATE "C" on the sort keys: the database's default locale collation would order chain ids
  // and keys differently from SQLite, and a cursor must mean the same on both.
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.access_log_entries (
  chain_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  kind text NOT NULL DEFAULT 'access',
  time timestamptz(3) NOT NULL,
  request_id text NOT NULL,
  client_agency_org_number text NOT NULL,
  client_agency_id text COLLATE "C" NOT NULL,
  official text COLLATE "C" NOT NULL,
  purpose text COLLATE "C" NOT NULL,
  legal_basis text NOT NULL,
  register_record_id text NOT NULL,
  register_version text NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  subject_enc text,
  subject_hmac text,
  field text COLLATE "C" NOT NULL,
  owning_agency text COLLATE "C" NOT NULL,
  outcome text COLLATE "C" NOT NULL,
  outcome_code text,
  operation_name text,
  document_hash text NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS access_log_entries_order ON ${s}.access_log_entries (time, chain_id, seq);
CREATE INDEX IF NOT EXISTS access_log_entries_subject ON ${s}.access_log_entries (subject_hmac, time);
CREATE INDEX IF NOT EXISTS access_log_entries_client ON ${s}.access_log_entries (client_agency_id, time);
CREATE INDEX IF NOT EXISTS access_log_entries_owner ON ${s}.access_log_entries (owning_agency, time);
CREATE INDEX IF NOT EXISTS access_log_entries_official ON ${s}.access_log_entries (official, time);
CREATE INDEX IF NOT EXISTS access_log_entries_case ON ${s}.access_log_entries (case_id, time);
-- Purpose, field and outcome have a handful of values each: an index on them cost every append
-- more than it saved a query, which walks the time order or a narrower index and filters.
DROP INDEX IF EXISTS ${s}.access_log_entries_purpose;
DROP INDEX IF EXISTS ${s}.access_log_entries_field;
DROP INDEX IF EXISTS ${s}.access_log_entries_outcome;
CREATE TABLE IF NOT EXISTS ${s}.access_log_chains (
  chain_id text COLLATE "C" PRIMARY KEY,
  head_seq bigint NOT NULL,
  head_hash text NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.access_log_checkpoints (
  chain_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  head_hash text NOT NULL,
  count bigint NOT NULL,
  time text NOT NULL,
  jws text NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE TABLE IF NOT EXISTS ${s}.access_log_purges (
  chain_id text COLLATE "C" NOT NULL,
  upto_seq bigint NOT NULL,
  head_hash text NOT NULL,
  purged_count bigint NOT NULL,
  time text NOT NULL,
  jws text NOT NULL,
  PRIMARY KEY (chain_id, upto_seq)
);
-- The Merkle tree over each chain: see sqliteStore.ts.
CREATE TABLE IF NOT EXISTS ${s}.access_log_tree_nodes (
  chain_id text COLLATE "C" NOT NULL,
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (chain_id, level, idx)
);
CREATE TABLE IF NOT EXISTS ${s}.access_log_tree_heads (
  chain_id text COLLATE "C" NOT NULL,
  tree_size bigint NOT NULL,
  root_hash text NOT NULL,
  time text NOT NULL,
  note text NOT NULL,
  PRIMARY KEY (chain_id, tree_size)
);
CREATE TABLE IF NOT EXISTS ${s}.access_log_legal_holds (
  id bigserial PRIMARY KEY,
  case_id text,
  subject_hmac text,
  reason text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((case_id IS NULL) <> (subject_hmac IS NULL))
);
`;
}

type Row = Record<string, unknown>;

// bigint arrives as a string; seqs and counts stay far below 2^53.
const num = (value: unknown): number => Number(value);
const iso = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));

function toEntry(row: Row): StoredEntry {
  const entry: Record<string, unknown> = {};
  for (const [column, property] of ENTRY_COLUMNS) entry[property] = row[column];
  entry['seq'] = num(row['seq']);
  entry['time'] = iso(row['time']);
  return entry as unknown as StoredEntry;
}

function toCheckpoint(row: Row): StoredCheckpoint {
  return {
    chainId: row['chain_id'] as string,
    seq: num(row['seq']),
    headHash: row['head_hash'] as string,
    count: num(row['count']),
    time: row['time'] as string,
    jws: row['jws'] as string,
  };
}

function toTreeHead(row: Row): StoredTreeHead {
  return {
    chainId: row['chain_id'] as string,
    size: num(row['tree_size']),
    rootHash: row['root_hash'] as string,
    time: row['time'] as string,
    note: row['note'] as string,
  };
}

function toHold(row: Row): LegalHold {
  return {
    id: num(row['id']),
    caseId: (row['case_id'] as string | null) ?? null,
    subjectHmac: (row['subject_hmac'] as string | null) ?? null,
    reason: (row['reason'] as string | null) ?? null,
    createdAt: iso(row['created_at']),
  };
}

/**
 * The store for several gateway replicas on one PostgreSQL. Each replica appends to its own
 * chain; the conditional head update in append() takes the chain row's lock, so a second
 * process with the same chainId waits and then gets ChainConflictError instead of forking.
 */
export class PostgresAccessLogStore implements AccessLogStore {
  readonly backend = 'postgres' as const;
  private readonly t: { entries: string; chains: string; checkpoints: string; purges: string; holds: string; treeNodes: string; treeHeads: string };
  private readonly begin: string;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    statementTimeoutMs: number,
  ) {
    const q = `"${schema}"`;
    this.t = {
      entries: `${q}.access_log_entries`,
      chains: `${q}.access_log_chains`,
      checkpoints: `${q}.access_log_checkpoints`,
      purges: `${q}.access_log_purges`,
      holds: `${q}.access_log_legal_holds`,
      treeNodes: `${q}.access_log_tree_nodes`,
      treeHeads: `${q}.access_log_tree_heads`,
    };
    // synchronous_commit is forced on: a server configured to acknowledge before the WAL flush
    // would let a response out whose entry a crash can still lose.
    this.begin = `BEGIN; SET LOCAL synchronous_commit = on; SET LOCAL lock_timeout = ${statementTimeoutMs}; SET LOCAL statement_timeout = ${statementTimeoutMs}`;
  }

  /** Connects, creates the schema and tables if missing, and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresAccessLogStore> {
    const schema = options.schema ?? 'access_log';
    if (!IDENTIFIER.test(schema)) throw new TypeError(`PostgreSQL schema name must match ${IDENTIFIER.source}; got "${schema}".`);
    const timeout = options.statementTimeoutMs ?? 2000;
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: timeout,
      application_name: options.applicationName ?? 'access-log',
    });
    pool.on('error', (error) => options.onPoolError?.(error));
    const store = new PostgresAccessLogStore(pool, schema, timeout);
    // Start-up has its own client and a patient connect timeout: the pool's is the commit bound,
    // and a server slow to accept one connection (a checkpoint, a busy machine) must not fail start-up.
    const client = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: Math.max(timeout, STARTUP_CONNECT_TIMEOUT_MS),
      application_name: options.applicationName ?? 'access-log',
    });
    const ignore = () => undefined; // the failing query rejects
    client.on('error', ignore);
    try {
      await client.connect();
      try {
        // Concurrent replicas starting together would race on CREATE ... IF NOT EXISTS.
        await client.query('BEGIN');
        await client.query("SELECT pg_advisory_xact_lock(hashtext('access_log_schema'))");
        await client.query(schemaSql(`"${schema}"`));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    } finally {
      await client.end().catch(() => undefined);
      client.removeListener('error', ignore);
    }
    return store;
  }

  /** Runs fn in a transaction; a connection that failed mid-way is discarded rather than returned to the pool. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no pool error listener: a backend terminated mid-transaction would
    // otherwise surface as an uncaught exception. The failing query rejects anyway.
    const onClientError = (error: Error) => {
      broken = error;
    };
    client.on('error', onClientError);
    try {
      await client.query(this.begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = error instanceof Error ? error : new Error(String(error));
      }
      throw error;
    } finally {
      client.removeListener('error', onClientError);
      client.release(broken);
    }
  }

  private async checkAndInsertCheckpoint(client: pg.PoolClient, checkpoint: StoredCheckpoint): Promise<void> {
    const { rows } = await client.query(`SELECT hash FROM ${this.t.entries} WHERE chain_id = $1 AND seq = $2`, [checkpoint.chainId, checkpoint.seq]);
    if ((rows[0] as Row | undefined)?.['hash'] !== checkpoint.headHash) {
      throw new ChainStateError(`Checkpoint for ${checkpoint.chainId} at seq ${checkpoint.seq} does not match the stored entry.`);
    }
    // The signed count must reach back exactly to the previous checkpoint; a writer that missed
    // one (another process on the same chain) reloads and signs again.
    const previous = await client.query(`SELECT max(seq) AS seq FROM ${this.t.checkpoints} WHERE chain_id = $1`, [checkpoint.chainId]);
    const previousSeq = num((previous.rows[0] as Row | undefined)?.['seq'] ?? 0);
    if (checkpoint.count !== checkpoint.seq - previousSeq) throw new ChainConflictError(checkpoint.chainId, checkpoint.seq, checkpoint.seq);
    await client.query(`INSERT INTO ${this.t.checkpoints} (chain_id, seq, head_hash, count, time, jws) VALUES ($1, $2, $3, $4, $5, $6)`, [
      checkpoint.chainId,
      checkpoint.seq,
      checkpoint.headHash,
      checkpoint.count,
      checkpoint.time,
      checkpoint.jws,
    ]);
  }

  private async actualHeadSeq(client: pg.PoolClient, chainId: string): Promise<number> {
    const { rows } = await client.query(`SELECT head_seq FROM ${this.t.chains} WHERE chain_id = $1`, [chainId]);
    return rows[0] ? num((rows[0] as Row)['head_seq']) : 0;
  }

  /** Only for building the tree of an older chain; appends COPY their nodes. */
  private async insertTreeNodes(client: pg.ClientBase | pg.Pool, chainId: string, nodes: readonly TreeNode[], onConflict = ''): Promise<void> {
    if (nodes.length === 0) return;
    await client.query(`INSERT INTO ${this.t.treeNodes} (chain_id, level, idx, hash) SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) ${onConflict}`, [
      chainId,
      nodes.map((node) => node.level),
      nodes.map((node) => node.index),
      nodes.map((node) => node.hash),
    ]);
  }

  private async insertTreeHead(client: pg.PoolClient, head: StoredTreeHead): Promise<void> {
    await client.query(`INSERT INTO ${this.t.treeHeads} (chain_id, tree_size, root_hash, time, note) VALUES ($1, $2, $3, $4, $5)`, [head.chainId, head.size, head.rootHash, head.time, head.note]);
  }

  async append(rows: readonly StoredEntry[], checkpoint?: StoredCheckpoint, tree?: TreeAppend): Promise<void> {
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (!first || !last) {
      if (checkpoint) await this.appendCheckpoint(checkpoint);
      return;
    }
    await this.transaction(async (client) => {
      // Moving the head first takes the chain row's lock for the whole transaction; the WHERE
      // clause is the compare-and-swap that refuses a stale head.
      const moved =
        first.seq === 1
          ? await client.query(`INSERT INTO ${this.t.chains} (chain_id, head_seq, head_hash) VALUES ($1, $2, $3) ON CONFLICT (chain_id) DO NOTHING`, [first.chainId, last.seq, last.hash])
          : await client.query(`UPDATE ${this.t.chains} SET head_seq = $2, head_hash = $3 WHERE chain_id = $1 AND head_seq = $4 AND head_hash = $5`, [
              first.chainId,
              last.seq,
              last.hash,
              first.seq - 1,
              first.prevHash,
            ]);
      if (moved.rowCount !== 1 || (first.seq === 1 && first.prevHash !== GENESIS_HASH)) {
        throw new ChainConflictError(first.chainId, first.seq - 1, await this.actualHeadSeq(client, first.chainId));
      }
      await pipeline(Readable.from([toCopyText(rows)]), client.query(copyFrom(`COPY ${this.t.entries} (${ENTRY_COLUMN_LIST}) FROM STDIN`)));
      if (checkpoint) await this.checkAndInsertCheckpoint(client, checkpoint);
      if (tree) {
        if (tree.head && tree.head.size !== last.seq) throw new ChainStateError(`Tree head for ${first.chainId} at size ${tree.head.size} is not at the chain head.`);
        await pipeline(Readable.from([treeNodesCopyText(first.chainId, tree.nodes)]), client.query(copyFrom(`COPY ${this.t.treeNodes} (chain_id, level, idx, hash) FROM STDIN`)));
        if (tree.head) await this.insertTreeHead(client, tree.head);
      }
    });
  }

  async appendTreeHead(head: StoredTreeHead): Promise<void> {
    await this.transaction(async (client) => {
      const headSeq = await this.lockedHeadSeq(client, head.chainId);
      if (headSeq !== head.size) throw new ChainConflictError(head.chainId, head.size, headSeq);
      await this.insertTreeHead(client, head);
    });
  }

  async readTreeNodes(chainId: string, nodes: readonly NodeAddress[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    if (nodes.length === 0) return found;
    const { rows } = await this.pool.query(
      `SELECT n.level, n.idx, n.hash FROM ${this.t.treeNodes} n JOIN unnest($2::smallint[], $3::bigint[]) AS want(level, idx) ON n.level = want.level AND n.idx = want.idx WHERE n.chain_id = $1`,
      [chainId, nodes.map((node) => node.level), nodes.map((node) => node.index)],
    );
    for (const row of rows as Row[]) found.set(nodeKey({ level: num(row['level']), index: num(row['idx']) }), row['hash'] as Buffer);
    return found;
  }

  async writeTreeNodes(chainId: string, nodes: readonly TreeNode[]): Promise<void> {
    await this.insertTreeNodes(this.pool, chainId, nodes, 'ON CONFLICT DO NOTHING');
  }

  async listTreeHeads(chainId: string, limit: number): Promise<StoredTreeHead[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.treeHeads} WHERE chain_id = $1 ORDER BY tree_size DESC LIMIT $2`, [chainId, limit]);
    return (rows as Row[]).map(toTreeHead);
  }

  async treeHead(chainId: string, size: number): Promise<StoredTreeHead | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.treeHeads} WHERE chain_id = $1 AND tree_size = $2`, [chainId, size]);
    return rows[0] ? toTreeHead(rows[0] as Row) : null;
  }

  async updateTreeHeadNote(chainId: string, size: number, note: string): Promise<void> {
    // Only signature lines may be added: the note's text and the log's signature stay as signed.
    const { rowCount } = await this.pool.query(`UPDATE ${this.t.treeHeads} SET note = $3 WHERE chain_id = $1 AND tree_size = $2 AND starts_with($3, note)`, [chainId, size, note]);
    if (rowCount !== 1) throw new ChainStateError(`Tree head ${chainId} at size ${size} is missing, or the new note does not extend the signed one.`);
  }

  /** The head seq under the chain row's lock, the one every append takes. */
  private async lockedHeadSeq(client: pg.PoolClient, chainId: string): Promise<number> {
    const { rows } = await client.query(`SELECT head_seq FROM ${this.t.chains} WHERE chain_id = $1 FOR UPDATE`, [chainId]);
    return rows[0] ? num((rows[0] as Row)['head_seq']) : 0;
  }

  async appendCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.transaction(async (client) => {
      const headSeq = await this.lockedHeadSeq(client, checkpoint.chainId);
      if (headSeq !== checkpoint.seq) throw new ChainConflictError(checkpoint.chainId, checkpoint.seq, headSeq);
      await this.checkAndInsertCheckpoint(client, checkpoint);
    });
  }

  async lastHead(chainId: string): Promise<ChainHead> {
    const { rows } = await this.pool.query(`SELECT head_seq, head_hash FROM ${this.t.chains} WHERE chain_id = $1`, [chainId]);
    const row = rows[0] as Row | undefined;
    return row ? { chainId, seq: num(row['head_seq']), hash: row['head_hash'] as string } : { chainId, seq: 0, hash: GENESIS_HASH };
  }

  async lastCheckpoint(chainId: string): Promise<StoredCheckpoint | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1`, [chainId]);
    return rows[0] ? toCheckpoint(rows[0] as Row) : null;
  }

  async readChain(chainId: string, fromSeq: number, limit: number): Promise<StoredEntry[]> {
    const { rows } = await this.pool.query(`SELECT ${ENTRY_COLUMN_LIST} FROM ${this.t.entries} WHERE chain_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [chainId, fromSeq, limit]);
    return (rows as Row[]).map(toEntry);
  }

  async listCheckpoints(chainId: string): Promise<StoredCheckpoint[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE chain_id = $1 ORDER BY seq`, [chainId]);
    return (rows as Row[]).map(toCheckpoint);
  }

  async listPurges(chainId: string): Promise<StoredPurge[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.purges} WHERE chain_id = $1 ORDER BY upto_seq`, [chainId]);
    return (rows as Row[]).map((row) => ({
      chainId: row['chain_id'] as string,
      uptoSeq: num(row['upto_seq']),
      headHash: row['head_hash'] as string,
      purgedCount: num(row['purged_count']),
      time: row['time'] as string,
      jws: row['jws'] as string,
    }));
  }

  async listChains(): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT chain_id FROM ${this.t.chains} UNION SELECT DISTINCT chain_id FROM ${this.t.entries}
       UNION SELECT chain_id FROM ${this.t.checkpoints} UNION SELECT chain_id FROM ${this.t.purges} ORDER BY chain_id`,
    );
    return (rows as Row[]).map((row) => row['chain_id'] as string);
  }

  async query(filter: AccessLogFilter, cursor: string | null, limit: number): Promise<QueryPage> {
    checkLimit(limit);
    const where = buildWhere(filter, (i) => `$${i}`);
    const params = [...where.params];
    let sql = `SELECT ${ENTRY_COLUMN_LIST} FROM ${this.t.entries} WHERE ${where.sql}`;
    if (cursor !== null) {
      const after = decodeCursor(cursor);
      const n = params.length;
      sql += ` AND (time, chain_id, seq) > ($${n + 1}::timestamptz, $${n + 2}, $${n + 3}::bigint)`;
      params.push(after.time, after.chainId, after.seq);
    }
    params.push(limit + 1);
    sql += ` ORDER BY time, chain_id, seq LIMIT $${params.length}`;
    const { rows } = await this.pool.query(sql, params);
    return toPage((rows as Row[]).map(toEntry), limit);
  }

  async countBy(dimension: CountDimension, filter: AccessLogFilter): Promise<CountRow[]> {
    const key = dimension === 'day' ? `to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD') COLLATE "C"` : DIMENSION_COLUMNS[dimension];
    if (key === undefined) throw new TypeError(`Unknown count dimension ${String(dimension)}.`);
    const where = buildWhere(filter, (i) => `$${i}`);
    const { rows } = await this.pool.query(`SELECT ${key} AS key, COUNT(*) AS count FROM ${this.t.entries} WHERE ${where.sql} GROUP BY 1 ORDER BY 2 DESC, 1`, where.params);
    return (rows as Row[]).map((row) => ({ key: row['key'] as string, count: num(row['count']) }));
  }

  async purge(purge: StoredPurge): Promise<number> {
    return this.transaction(async (client) => {
      // Same lock as append: a purge never interleaves with a commit on this chain.
      await client.query(`SELECT 1 FROM ${this.t.chains} WHERE chain_id = $1 FOR UPDATE`, [purge.chainId]);
      const { rows } = await client.query(`SELECT head_hash FROM ${this.t.checkpoints} WHERE chain_id = $1 AND seq = $2`, [purge.chainId, purge.uptoSeq]);
      if ((rows[0] as Row | undefined)?.['head_hash'] !== purge.headHash) {
        throw new ChainStateError(`Purge of ${purge.chainId} must end at a stored checkpoint; none matches seq ${purge.uptoSeq}.`);
      }
      const deleted = await client.query(`DELETE FROM ${this.t.entries} WHERE chain_id = $1 AND seq <= $2`, [purge.chainId, purge.uptoSeq]);
      await client.query(`DELETE FROM ${this.t.checkpoints} WHERE chain_id = $1 AND seq < $2`, [purge.chainId, purge.uptoSeq]);
      await client.query(`INSERT INTO ${this.t.purges} (chain_id, upto_seq, head_hash, purged_count, time, jws) VALUES ($1, $2, $3, $4, $5, $6)`, [
        purge.chainId,
        purge.uptoSeq,
        purge.headHash,
        purge.purgedCount,
        purge.time,
        purge.jws,
      ]);
      return deleted.rowCount ?? 0;
    });
  }

  async addLegalHold(hold: NewLegalHold): Promise<LegalHold> {
    const { rows } = await this.pool.query(`INSERT INTO ${this.t.holds} (case_id, subject_hmac, reason) VALUES ($1, $2, $3) RETURNING *`, [
      hold.caseId ?? null,
      hold.subjectHmac ?? null,
      hold.reason ?? null,
    ]);
    return toHold(rows[0] as Row);
  }

  async listLegalHolds(): Promise<LegalHold[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.holds} ORDER BY id`);
    return (rows as Row[]).map(toHold);
  }

  async healthCheck(): Promise<void> {
    // A read-write transaction, not just SELECT 1: a standby that became read-only must report unhealthy.
    // It takes the table locks a commit takes (within lock_timeout): with the entries table locked by
    // someone else (a migration, a VACUUM FULL) the log is not back, and saying so would only make
    // the next request fail again.
    await this.transaction(async (client) => {
      await client.query(`LOCK TABLE ${this.t.entries}, ${this.t.checkpoints}, ${this.t.treeNodes}, ${this.t.treeHeads} IN ROW EXCLUSIVE MODE`);
      await client.query(`SELECT 1 FROM ${this.t.chains} LIMIT 1 FOR UPDATE SKIP LOCKED`);
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
