import pg from 'pg';
import type { StoredEntry } from '../entry.js';
import { genesisHead, GENESIS_HASH, type ChainHead } from '../hashChain.js';
import { recordSubjects, type StoredRecord } from '../record.js';
import type { LegacyEntry, LegacyReader } from '../legacyFormat.js';
import type { StoredCheckpoint, StoredPurge } from '../checkpoint.js';
import { nodeKey, type NodeAddress, type TreeNode } from '../../transparency/merkle.js';
import {
  COUNT_DIMENSIONS,
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
  type PurgeOptions,
  type QueryPage,
} from './AccessLogStore.js';
import {
  buildRecordWhere,
  entriesFrom,
  filtersEntries,
  LEGACY_ENTRY_COLUMN_LIST,
  LEGACY_ENTRY_COLUMNS,
  RECORD_COLUMN_LIST,
  RECORD_DIMENSION_COLUMNS,
  iso,
  num,
  toCheckpoint,
  toHold,
  toPurge,
  toRecord,
  toTreeHead,
} from './sql.js';
import { recordsCopyText, subjectsCopyText, treeNodesCopyText } from './copyText.js';
import { runCopyBatch } from './pgBatch.js';
import { removeInSlices, type PurgeSlice } from './purgeSlices.js';
import { countRecordEntries, queryRecords, type FetchRecords } from './recordQuery.js';
import {
  createMonth,
  dropMonth,
  chainSpans,
  listMonthPartitions,
  monthOf,
  monthsBetween,
  monthsInDefault,
  monthStart,
  nextMonth,
  relationKind,
  type ChainSpan,
  type Month,
  type PartitionEvent,
} from './postgresPartitions.js';

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
  /** Month partitions created, dropped, a failed maintenance run, the upgrade of an unpartitioned schema: for the operator's log. */
  readonly onPartitionEvent?: (event: PartitionEvent) => void;
  /** How often the store makes sure next month's partitions exist (and empties the DEFAULT ones); default hourly, 0 for never. */
  readonly partitionCheckIntervalMs?: number;
}

const STARTUP_CONNECT_TIMEOUT_MS = 10_000;
const PARTITION_CHECK_INTERVAL_MS = 3_600_000;
const UNIQUE_VIOLATION = '23505';
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function schemaSql(s: string): string {
  // COLLATE "C" on the sort keys: the database's default locale collation would order chain ids
  // and keys differently from SQLite, and a cursor must mean the same on both.
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
-- One row per record (record.ts) and a narrow subject index: see sqliteStore.ts. Both are
-- partitioned by month of time (postgresPartitions.ts). The tables of the row-per-entry format
-- (access_log_entries, ...) are left alone for the migration to read.
CREATE TABLE IF NOT EXISTS ${s}.log_records (
  chain_id text COLLATE "C" NOT NULL,
  last_seq bigint NOT NULL,
  first_seq bigint NOT NULL,
  idx bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  kind text COLLATE "C" NOT NULL,
  time timestamptz(3) NOT NULL,
  client_agency_id text COLLATE "C" NOT NULL,
  official text COLLATE "C" NOT NULL,
  purpose text COLLATE "C" NOT NULL,
  case_id text COLLATE "C" NOT NULL,
  body text NOT NULL,
  -- A key of a partitioned table must hold the partition key, so (chain_id, last_seq) alone is not
  -- unique here: one chain's seq in two months would be two rows. The head's compare-and-swap in
  -- append() is what keeps a seq from being written twice (the loser's rows roll back with it), and
  -- the verifier refuses a chain whose records do not follow each other (postgresPartitions.ts).
  PRIMARY KEY (chain_id, last_seq, time)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS ${s}.log_records_default PARTITION OF ${s}.log_records DEFAULT;
CREATE INDEX IF NOT EXISTS log_records_order ON ${s}.log_records (time, chain_id, last_seq);
CREATE INDEX IF NOT EXISTS log_records_client ON ${s}.log_records (client_agency_id, time);
CREATE INDEX IF NOT EXISTS log_records_case ON ${s}.log_records (case_id, time);
CREATE TABLE IF NOT EXISTS ${s}.log_subjects (
  subject_hmac text COLLATE "C" NOT NULL,
  time timestamptz(3) NOT NULL,
  chain_id text COLLATE "C" NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (subject_hmac, time, chain_id, last_seq)
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS ${s}.log_subjects_default PARTITION OF ${s}.log_subjects DEFAULT;
CREATE TABLE IF NOT EXISTS ${s}.log_chains (
  chain_id text COLLATE "C" PRIMARY KEY,
  head_seq bigint NOT NULL,
  head_hash text NOT NULL,
  head_records bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.log_checkpoints (
  chain_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  head_hash text NOT NULL,
  count bigint NOT NULL,
  time text NOT NULL,
  jws text NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE TABLE IF NOT EXISTS ${s}.log_purges (
  chain_id text COLLATE "C" NOT NULL,
  upto_seq bigint NOT NULL,
  head_hash text NOT NULL,
  purged_count bigint NOT NULL,
  time text NOT NULL,
  jws text NOT NULL,
  note text,
  PRIMARY KEY (chain_id, upto_seq)
);
-- The Merkle tree over each chain's records: see sqliteStore.ts.
CREATE TABLE IF NOT EXISTS ${s}.log_tree_nodes (
  chain_id text COLLATE "C" NOT NULL,
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (chain_id, level, idx)
);
CREATE TABLE IF NOT EXISTS ${s}.log_tree_heads (
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
${appendFunctionsSql(s)}`;
}

/** SQLSTATEs the append functions raise (class LA, not one PostgreSQL uses). */
const CHAIN_MOVED = 'LA001';
const CHECKPOINT_MISMATCH = 'LA002';
const CHECKPOINT_COUNT = 'LA003';

/**
 * The head's compare-and-swap and the checkpoint's checks as functions, so an append can send
 * them in the same query string as its rows and its COMMIT (see append): a refusal must abort the
 * transaction before COMMIT runs, which a plain UPDATE matching no row would not. CHAIN_MOVED
 * carries the head found in its DETAIL.
 */
function appendFunctionsSql(s: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.log_move_head(p_chain text, p_prev_seq bigint, p_prev_hash text, p_prev_records bigint, p_seq bigint, p_hash text, p_records bigint)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  found_seq bigint;
BEGIN
  IF p_prev_seq = 0 THEN
    INSERT INTO ${s}.log_chains (chain_id, head_seq, head_hash, head_records) VALUES (p_chain, p_seq, p_hash, p_records) ON CONFLICT (chain_id) DO NOTHING;
  ELSE
    UPDATE ${s}.log_chains SET head_seq = p_seq, head_hash = p_hash, head_records = p_records
      WHERE chain_id = p_chain AND head_seq = p_prev_seq AND head_hash = p_prev_hash AND head_records = p_prev_records;
  END IF;
  IF NOT FOUND THEN
    SELECT head_seq INTO found_seq FROM ${s}.log_chains WHERE chain_id = p_chain;
    RAISE EXCEPTION 'chain head moved' USING ERRCODE = '${CHAIN_MOVED}', DETAIL = coalesce(found_seq, 0)::text;
  END IF;
END
$fn$;
-- A checkpoint pins the hash of the record ending at its seq, and its signed count reaches back
-- exactly to the previous checkpoint: a writer that missed one (another process on the same
-- chain) reloads and signs again.
CREATE OR REPLACE FUNCTION ${s}.log_add_checkpoint(p_chain text, p_seq bigint, p_head_hash text, p_count bigint, p_time text, p_jws text)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  previous_seq bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${s}.log_records WHERE chain_id = p_chain AND last_seq = p_seq AND hash = p_head_hash) THEN
    RAISE EXCEPTION 'checkpoint does not match the stored record' USING ERRCODE = '${CHECKPOINT_MISMATCH}';
  END IF;
  SELECT coalesce(max(seq), 0) INTO previous_seq FROM ${s}.log_checkpoints WHERE chain_id = p_chain;
  IF p_count <> p_seq - previous_seq THEN
    RAISE EXCEPTION 'checkpoint count does not reach the previous checkpoint' USING ERRCODE = '${CHECKPOINT_COUNT}';
  END IF;
  INSERT INTO ${s}.log_checkpoints (chain_id, seq, head_hash, count, time, jws) VALUES (p_chain, p_seq, p_head_hash, p_count, p_time, p_jws);
END
$fn$;
`;
}

type Row = Record<string, unknown>;

/** This month and the next: what must exist before a record of them arrives. */
function comingMonths(now: Date): Month[] {
  const month = monthOf(now);
  return [month, nextMonth(month)];
}

/**
 * The first half of the upgrade of a schema made before the tables were partitioned: the old
 * tables are renamed and lose their keys and indexes (whose names the new tables take), in the
 * open's transaction. copyIntoPartitions does the rest once the new tables exist.
 */
async function setUnpartitionedAside(client: pg.PoolClient | pg.Client, schema: string): Promise<void> {
  const q = `"${schema}"`;
  await client.query(`ALTER TABLE ${q}.log_records DROP CONSTRAINT IF EXISTS log_records_pkey`);
  await client.query(`DROP INDEX IF EXISTS ${q}.log_records_order, ${q}.log_records_client, ${q}.log_records_case`);
  await client.query(`ALTER TABLE ${q}.log_records RENAME TO log_records_unpartitioned`);
  await client.query(`ALTER TABLE ${q}.log_subjects DROP CONSTRAINT IF EXISTS log_subjects_pkey`);
  await client.query(`ALTER TABLE ${q}.log_subjects RENAME TO log_subjects_unpartitioned`);
}

/**
 * Moves every row of the set-aside tables into the partitioned ones, each month's partition
 * created first, and drops the old tables. One transaction with the schema's creation: a crash
 * leaves the old schema as it was, and the next open starts again.
 */
async function copyIntoPartitions(client: pg.PoolClient | pg.Client, schema: string): Promise<PartitionEvent> {
  const q = `"${schema}"`;
  const { rows } = await client.query(
    `SELECT min(time) AS first, max(time) AS last FROM (SELECT time FROM ${q}.log_records_unpartitioned UNION ALL SELECT time FROM ${q}.log_subjects_unpartitioned) t`,
  );
  const range = rows[0] as Row;
  const months = range['first'] === null ? [] : monthsBetween(monthOf(range['first'] as Date), monthOf(range['last'] as Date));
  for (const month of months) await createMonth(client, schema, month);
  const copied = await client.query(`INSERT INTO ${q}.log_records (${RECORD_COLUMN_LIST}) SELECT ${RECORD_COLUMN_LIST} FROM ${q}.log_records_unpartitioned`);
  await client.query(`INSERT INTO ${q}.log_subjects (subject_hmac, time, chain_id, last_seq) SELECT subject_hmac, time, chain_id, last_seq FROM ${q}.log_subjects_unpartitioned`);
  await client.query(`DROP TABLE ${q}.log_records_unpartitioned, ${q}.log_subjects_unpartitioned`);
  return { kind: 'partitioned-upgrade', records: copied.rowCount ?? 0, months: months.length };
}

interface HeadMove {
  settled: boolean;
  readonly done: Promise<void>;
}

/** A seq or count as an SQL literal; never anything but a safe integer. */
function int(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`Expected a safe integer, got ${value}.`);
  return String(value);
}

/** What log_add_checkpoint's refusal means to the writer, or null for any other error. */
function checkpointError(error: unknown, checkpoint: StoredCheckpoint): Error | null {
  switch ((error as { code?: unknown }).code) {
    case CHECKPOINT_MISMATCH:
      return new ChainStateError(`Checkpoint for ${checkpoint.chainId} at seq ${checkpoint.seq} does not match the stored record.`);
    case CHECKPOINT_COUNT:
      return new ChainConflictError(checkpoint.chainId, checkpoint.seq, checkpoint.seq);
    default:
      return null;
  }
}

/**
 * The store for several gateway replicas on one PostgreSQL. Each replica appends to its own
 * chain; the conditional head update in append() takes the chain row's lock, so a second
 * process with the same chainId waits and then gets ChainConflictError instead of forking.
 */
export class PostgresAccessLogStore implements AccessLogStore {
  readonly backend = 'postgres' as const;
  private readonly t: {
    records: string;
    subjects: string;
    chains: string;
    checkpoints: string;
    purges: string;
    holds: string;
    treeNodes: string;
    treeHeads: string;
    moveHead: string;
    addCheckpoint: string;
  };
  private readonly begin: string;
  /** Per chain, the latest append, whose settling the next append waits for before moving the head (see append). */
  private readonly headMoves = new Map<string, HeadMove>();
  private partitionTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
    statementTimeoutMs: number,
    private readonly onPartitionEvent: (event: PartitionEvent) => void,
  ) {
    const q = `"${schema}"`;
    this.t = {
      records: `${q}.log_records`,
      subjects: `${q}.log_subjects`,
      chains: `${q}.log_chains`,
      checkpoints: `${q}.log_checkpoints`,
      purges: `${q}.log_purges`,
      holds: `${q}.access_log_legal_holds`,
      treeNodes: `${q}.log_tree_nodes`,
      treeHeads: `${q}.log_tree_heads`,
      moveHead: `${q}.log_move_head`,
      addCheckpoint: `${q}.log_add_checkpoint`,
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
    const onPartitionEvent = options.onPartitionEvent ?? (() => undefined);
    const store = new PostgresAccessLogStore(pool, schema, timeout, onPartitionEvent);
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
        const upgrade = (await relationKind(client, schema, 'log_records')) === 'r';
        if (upgrade) await setUnpartitionedAside(client, schema);
        await client.query(schemaSql(`"${schema}"`));
        if (upgrade) onPartitionEvent(await copyIntoPartitions(client, schema));
        for (const month of comingMonths(new Date())) {
          const moved = await createMonth(client, schema, month);
          if (moved !== null) onPartitionEvent({ kind: 'partition-created', month: monthStart(month).slice(0, 7), movedFromDefault: moved });
        }
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
    const every = options.partitionCheckIntervalMs ?? PARTITION_CHECK_INTERVAL_MS;
    if (every > 0) {
      // Not awaited by anyone: a failed run is reported and the next one tries again; until then
      // the DEFAULT partition takes what has no month (postgresPartitions.ts).
      store.partitionTimer = setInterval(() => {
        store.maintainPartitions().catch((error: unknown) => onPartitionEvent({ kind: 'partition-maintenance-failed', error: error instanceof Error ? error : new Error(String(error)) }));
      }, every);
      store.partitionTimer.unref();
    }
    return store;
  }

  /**
   * Makes sure this month's and next month's partitions exist, and moves any rows the DEFAULT
   * partitions caught into their months' partitions (created for them). Runs at open and on the
   * store's timer; callable by a test or a bench that writes records of months long past.
   */
  async maintainPartitions(now = new Date()): Promise<PartitionEvent[]> {
    const events: PartitionEvent[] = [];
    await this.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('access_log_schema'))");
      const months = [...comingMonths(now), ...(await monthsInDefault(client, this.schema))];
      for (const month of months) {
        const moved = await createMonth(client, this.schema, month);
        if (moved !== null) events.push({ kind: 'partition-created', month: monthStart(month).slice(0, 7), movedFromDefault: moved });
      }
    });
    for (const event of events) this.onPartitionEvent(event);
    return events;
  }

  /** Creates the month partitions from `from`'s month to `to`'s (ISO times), for loading records of those months (bench, migration of old data). */
  async createPartitions(from: string, to: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('access_log_schema'))");
      for (const month of monthsBetween(monthOf(from), monthOf(to))) await createMonth(client, this.schema, month);
    });
  }

  /**
   * Runs fn on a pooled connection; on failure rolls back whatever transaction fn left open. A
   * connection that failed mid-way is discarded rather than returned to the pool.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no pool error listener: a backend terminated mid-transaction would
    // otherwise surface as an uncaught exception. The failing query rejects anyway.
    const onClientError = (error: Error) => {
      broken = error;
    };
    client.on('error', onClientError);
    try {
      return await fn(client);
    } catch (error) {
      try {
        // Outside a transaction this is only a warning.
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

  /** Runs fn in a transaction (see withClient). */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client) => {
      await client.query(this.begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    });
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

  private insertTreeHeadSql(head: StoredTreeHead): string {
    const e = pg.escapeLiteral;
    return `INSERT INTO ${this.t.treeHeads} (chain_id, tree_size, root_hash, time, note) VALUES (${e(head.chainId)}, ${int(head.size)}, ${e(head.rootHash)}, ${e(head.time)}, ${e(head.note)})`;
  }

  /**
   * One append is one transaction of at most two round trips. Its rows go in by COPY in the
   * string that opens the transaction; the head moves (a compare-and-swap under the chain row's
   * lock), the checkpoint and tree head go in, and COMMIT runs, in the string that ends it. With
   * no append of the chain in flight both strings are sent as one.
   *
   * Pipelined appends (the writer's commitsInFlight) must move the head in the order they were
   * made: the second is built on the first's head, and run first it would find the old head and
   * be refused. So the second sends its rows at once, on its own connection, while the first
   * commits, and its head move only once the first has settled: committed, its head is the one
   * the second expects; failed, the second is refused as built on a failed batch and goes round
   * again. The second therefore never becomes visible before the first.
   */
  async append(records: readonly StoredRecord[], checkpoint?: StoredCheckpoint, tree?: TreeAppend): Promise<void> {
    const first = records[0];
    const last = records[records.length - 1];
    if (!first || !last) {
      if (checkpoint) await this.appendCheckpoint(checkpoint);
      return;
    }
    if (tree?.head && tree.head.size !== last.index + 1) throw new ChainStateError(`Tree head for ${first.chainId} at size ${tree.head.size} is not at the chain head.`);
    if (first.firstSeq === 1 && (first.prevHash !== GENESIS_HASH || first.index !== 0)) {
      throw new ChainConflictError(first.chainId, 0, (await this.lastHead(first.chainId)).seq);
    }
    const before = this.headMoves.get(first.chainId);
    let headMoved: () => void = () => undefined;
    const mine: HeadMove = { settled: false, done: new Promise<void>((resolve) => (headMoved = resolve)) };
    this.headMoves.set(first.chainId, mine);
    const { statements, copies } = this.copyRows(records, first, tree);
    const end = [this.moveHeadSql(first, last), ...(checkpoint ? [this.addCheckpointSql(checkpoint)] : []), ...(tree?.head ? [this.insertTreeHeadSql(tree.head)] : []), 'COMMIT'];
    try {
      await this.withClient(async (client) => {
        if (before === undefined || before.settled) {
          await runCopyBatch(client, [this.begin, ...statements, ...end].join('; '), copies);
          return;
        }
        await runCopyBatch(client, [this.begin, ...statements].join('; '), copies);
        await before.done;
        await runCopyBatch(client, end.join('; '), []);
      });
    } catch (error) {
      throw await this.appendError(error, first, checkpoint);
    } finally {
      mine.settled = true;
      headMoved();
      if (this.headMoves.get(first.chainId) === mine) this.headMoves.delete(first.chainId);
    }
  }

  /** The error an append's failure means to the writer: a lost race on the chain is a conflict, a checkpoint that does not fit the stored record a state error. */
  private async appendError(error: unknown, first: StoredRecord, checkpoint: StoredCheckpoint | undefined): Promise<unknown> {
    const { code, detail } = error as { code?: unknown; detail?: unknown };
    if (code === CHAIN_MOVED) return new ChainConflictError(first.chainId, first.firstSeq - 1, Number(detail));
    const refused = checkpoint ? checkpointError(error, checkpoint) : null;
    if (refused) return refused;
    // Another writer on the chain inserted the same records or tree nodes first (its rows
    // waited for, then refused by the key): the same race the head's compare-and-swap loses.
    if (code === UNIQUE_VIOLATION) return new ChainConflictError(first.chainId, first.firstSeq - 1, (await this.lastHead(first.chainId)).seq);
    return error;
  }

  /** The head's compare-and-swap (log_move_head), which takes the chain row's lock for the rest of the transaction. */
  private moveHeadSql(first: StoredRecord, last: StoredRecord): string {
    const e = pg.escapeLiteral;
    return `SELECT ${this.t.moveHead}(${e(first.chainId)}, ${int(first.firstSeq - 1)}, ${e(first.prevHash)}, ${int(first.index)}, ${int(last.lastSeq)}, ${e(last.hash)}, ${int(last.index + 1)})`;
  }

  private addCheckpointSql(checkpoint: StoredCheckpoint): string {
    const e = pg.escapeLiteral;
    return `SELECT ${this.t.addCheckpoint}(${e(checkpoint.chainId)}, ${int(checkpoint.seq)}, ${e(checkpoint.headHash)}, ${int(checkpoint.count)}, ${e(checkpoint.time)}, ${e(checkpoint.jws)})`;
  }

  /** The COPY statements of an append's rows and their data (see runCopyBatch). */
  private copyRows(records: readonly StoredRecord[], first: StoredRecord, tree: TreeAppend | undefined): { statements: string[]; copies: string[] } {
    const statements = [`COPY ${this.t.records} (${RECORD_COLUMN_LIST}) FROM STDIN`];
    const copies = [recordsCopyText(records)];
    const subjects = subjectsCopyText(records);
    if (subjects.length > 0) {
      statements.push(`COPY ${this.t.subjects} (subject_hmac, time, chain_id, last_seq) FROM STDIN`);
      copies.push(subjects);
    }
    if (tree && tree.nodes.length > 0) {
      statements.push(`COPY ${this.t.treeNodes} (chain_id, level, idx, hash) FROM STDIN`);
      copies.push(treeNodesCopyText(first.chainId, tree.nodes));
    }
    return { statements, copies };
  }

  async appendTreeHead(head: StoredTreeHead): Promise<void> {
    await this.transaction(async (client) => {
      const { rows } = await client.query(`SELECT head_records FROM ${this.t.chains} WHERE chain_id = $1 FOR UPDATE`, [head.chainId]);
      const records = rows[0] ? num((rows[0] as Row)['head_records']) : 0;
      if (records !== head.size) throw new ChainConflictError(head.chainId, head.size, records);
      await client.query(this.insertTreeHeadSql(head));
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
      try {
        await client.query(this.addCheckpointSql(checkpoint));
      } catch (error) {
        throw checkpointError(error, checkpoint) ?? error;
      }
    });
  }

  async lastHead(chainId: string): Promise<ChainHead> {
    const { rows } = await this.pool.query(`SELECT head_seq, head_hash, head_records FROM ${this.t.chains} WHERE chain_id = $1`, [chainId]);
    const row = rows[0] as Row | undefined;
    return row ? { chainId, seq: num(row['head_seq']), hash: row['head_hash'] as string, records: num(row['head_records']) } : genesisHead(chainId);
  }

  async lastCheckpoint(chainId: string): Promise<StoredCheckpoint | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1`, [chainId]);
    return rows[0] ? toCheckpoint(rows[0] as Row) : null;
  }

  async readRecords(chainId: string, fromSeq: number, limit: number): Promise<StoredRecord[]> {
    const { rows } = await this.pool.query(`SELECT ${RECORD_COLUMN_LIST} FROM ${this.t.records} WHERE chain_id = $1 AND last_seq >= $2 ORDER BY last_seq LIMIT $3`, [chainId, fromSeq, limit]);
    return (rows as Row[]).map((row) => toRecord(row, iso));
  }

  async firstUnindexedRecord(records: readonly StoredRecord[]): Promise<StoredRecord | null> {
    const keys = records.flatMap((record, i) => recordSubjects(record.items).map((subject) => [subject, record.header.time, record.lastSeq, i] as const));
    const first = records[0];
    if (!first || keys.length === 0) return null;
    // One round trip per page: the first key with no row, by primary key.
    const { rows } = await this.pool.query(
      `SELECT k.i FROM unnest($2::text[], $3::timestamptz[], $4::bigint[], $5::int[]) AS k(subject_hmac, time, last_seq, i)
       WHERE NOT EXISTS (SELECT 1 FROM ${this.t.subjects} s WHERE s.subject_hmac = k.subject_hmac AND s.time = k.time AND s.chain_id = $1 AND s.last_seq = k.last_seq)
       ORDER BY k.i LIMIT 1`,
      [first.chainId, keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), keys.map((k) => k[3])],
    );
    return rows[0] ? records[num((rows[0] as Row)['i'])]! : null;
  }

  async readChain(chainId: string, fromSeq: number, limit: number): Promise<StoredEntry[]> {
    // Each record holds at least one entry: `limit` records always hold enough.
    return entriesFrom(await this.readRecords(chainId, fromSeq, limit), fromSeq, limit);
  }

  async listCheckpoints(chainId: string): Promise<StoredCheckpoint[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.checkpoints} WHERE chain_id = $1 ORDER BY seq`, [chainId]);
    return (rows as Row[]).map(toCheckpoint);
  }

  async listPurges(chainId: string): Promise<StoredPurge[]> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t.purges} WHERE chain_id = $1 ORDER BY upto_seq`, [chainId]);
    return (rows as Row[]).map(toPurge);
  }

  async listChains(): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT chain_id FROM ${this.t.chains} UNION SELECT DISTINCT chain_id FROM ${this.t.records}
       UNION SELECT chain_id FROM ${this.t.checkpoints} UNION SELECT chain_id FROM ${this.t.purges} ORDER BY chain_id`,
    );
    return (rows as Row[]).map((row) => row['chain_id'] as string);
  }

  /** Records matching what the filter says of a request, in (time, chain, last seq) order; through the subject index when a subject is given. */
  private fetcher(filter: AccessLogFilter): FetchRecords {
    const bySubject = filter.subjectHmac !== undefined;
    const where = buildRecordWhere(filter, (i) => `$${i}`, { firstIndex: bySubject ? 2 : 1, timeColumn: bySubject ? 's.time' : 'r.time', timeCast: '::timestamptz' });
    const order = bySubject ? 's.time, s.chain_id, s.last_seq' : 'r.time, r.chain_id, r.last_seq';
    // Through the subject index, each index row's record is one key lookup in its own month's
    // partition (an index row has its record's time; the partition is chosen per row at run time).
    // OFFSET 0 keeps the planner from flattening the lookup into a join, which over month
    // partitions it costs as a probe of every month and makes a hash join over the whole period:
    // 2–10× slower for a year at 10⁶ entries (bench/accessLogScale.ts, docs/access-log.md).
    const from = bySubject
      ? `${this.t.subjects} s CROSS JOIN LATERAL (SELECT * FROM ${this.t.records} r WHERE r.chain_id = s.chain_id AND r.last_seq = s.last_seq AND r.time = s.time OFFSET 0) r`
      : `${this.t.records} r`;
    const params = bySubject ? [filter.subjectHmac, ...where.params] : where.params;
    const subject = bySubject ? 's.subject_hmac = $1 AND ' : '';
    const columns = RECORD_COLUMN_LIST.split(', ')
      .map((column) => `r.${column}`)
      .join(', ');
    const n = params.length;
    return async (after, limit) => {
      const { rows } =
        after === null
          ? await this.pool.query(`SELECT ${columns} FROM ${from} WHERE ${subject}${where.sql} ORDER BY ${order} LIMIT $${n + 1}`, [...params, limit])
          : await this.pool.query(
              `SELECT ${columns} FROM ${from} WHERE ${subject}${where.sql} AND (${order}) > ($${n + 1}::timestamptz, $${n + 2}, $${n + 3}::bigint) ORDER BY ${order} LIMIT $${n + 4}`,
              [...params, after.time, after.chainId, after.lastSeq, limit],
            );
      return (rows as Row[]).map((row) => toRecord(row, iso));
    };
  }

  async query(filter: AccessLogFilter, cursor: string | null, limit: number): Promise<QueryPage> {
    return queryRecords(filter, cursor, limit, this.fetcher(filter));
  }

  async countBy(dimension: CountDimension, filter: AccessLogFilter): Promise<CountRow[]> {
    if (!(COUNT_DIMENSIONS as readonly string[]).includes(dimension)) throw new TypeError(`Unknown count dimension ${String(dimension)}.`);
    const column = dimension === 'day' ? `to_char(r.time AT TIME ZONE 'UTC', 'YYYY-MM-DD') COLLATE "C"` : RECORD_DIMENSION_COLUMNS[dimension];
    if (column === undefined || filtersEntries(filter)) return countRecordEntries(dimension, filter, this.fetcher(filter));
    // What a request's entries share: counted in SQL, each record weighing its number of entries.
    const where = buildRecordWhere(filter, (i) => `$${i}`, { timeCast: '::timestamptz' });
    const { rows } = await this.pool.query(
      `SELECT ${column} AS key, SUM(r.last_seq - r.first_seq + 1) AS count FROM ${this.t.records} r WHERE ${where.sql} GROUP BY 1 ORDER BY 2 DESC, 1`,
      where.params,
    );
    return (rows as Row[]).map((row) => ({ key: row['key'] as string, count: num(row['count']) }));
  }

  async purge(purges: readonly StoredPurge[], options: PurgeOptions = {}): Promise<Map<string, number>> {
    const removed = new Map<string, number>();
    const dropped: Array<{ month: Month; chains: ChainSpan[] }> = [];
    // Every chain's latest anchor once the new purge records are in: what the slices below remove up to.
    let anchors: Map<string, number> | undefined;
    if (purges.length > 0) {
      anchors = await this.transaction(async (client) => {
        // The tables' lock first, then the chain rows': the order an append takes them in (its rows,
        // then its head), so the two cannot deadlock. It also keeps an append from adding a row to
        // a month while the purge decides whether that month can go. Held for this short
        // transaction only: the rows of months that stay go afterwards, slice by slice.
        await client.query(`LOCK TABLE ${this.t.records}, ${this.t.subjects} IN SHARE ROW EXCLUSIVE MODE`);
        const uptoSeq = await this.purgeAnchors(client);
        for (const purge of purges) uptoSeq.set(purge.chainId, Math.max(uptoSeq.get(purge.chainId) ?? 0, purge.uptoSeq));
        await client.query(`SELECT 1 FROM ${this.t.chains} WHERE chain_id = ANY($1) ORDER BY chain_id FOR UPDATE`, [[...uptoSeq.keys()]]);
        for (const purge of purges) {
          const { rows } = await client.query(`SELECT head_hash FROM ${this.t.checkpoints} WHERE chain_id = $1 AND seq = $2`, [purge.chainId, purge.uptoSeq]);
          if ((rows[0] as Row | undefined)?.['head_hash'] !== purge.headHash) {
            throw new ChainStateError(`Purge of ${purge.chainId} must end at a stored checkpoint; none matches seq ${purge.uptoSeq}.`);
          }
        }
        // A month goes whole when every record in it is purged; only months already over, so the
        // writer never finds this month's partition gone.
        const thisMonth = monthStart(monthOf(new Date()));
        for (const partition of await listMonthPartitions(client, this.schema, 'log_records')) {
          const chains = monthStart(partition.month) < thisMonth ? await chainSpans(client, this.schema, partition.name) : [];
          if (chains.length > 0 && chains.every((chain) => chain.toSeq <= (uptoSeq.get(chain.chainId) ?? 0))) dropped.push({ month: partition.month, chains });
        }
        // A dropped month's records are counted by their seqs (no scan of the month); exact for a
        // chain that verifies, which executePurge checks first.
        for (const { chains } of dropped) {
          for (const chain of chains) removed.set(chain.chainId, (removed.get(chain.chainId) ?? 0) + chain.toSeq - chain.fromSeq + 1);
        }
        // Dropping takes the tables' exclusive lock (readers wait), for as short as the commit.
        for (const { month } of dropped) await dropMonth(client, this.schema, month);
        // The purge records in the same transaction as the drop: no state in which the records are
        // gone and the chain has no signed anchor to start from.
        for (const purge of purges) {
          await client.query(`DELETE FROM ${this.t.checkpoints} WHERE chain_id = $1 AND seq < $2`, [purge.chainId, purge.uptoSeq]);
          await this.insertPurge(client, purge);
        }
        return uptoSeq;
      });
      for (const { month, chains } of dropped) this.onPartitionEvent({ kind: 'partition-dropped', month: monthStart(month).slice(0, 7), chains });
    }
    // What lies before an anchor in the months that stay (and what an interrupted purge left), row by row.
    anchors ??= await this.withClient((client) => this.purgeAnchors(client));
    for (const [chainId, upto] of anchors) {
      const count = await this.removePurgedRecords(chainId, upto, options);
      if (count > 0) removed.set(chainId, (removed.get(chainId) ?? 0) + count);
    }
    return removed;
  }

  /** Every chain's latest purge anchor: the seq its records may be removed up to. */
  private async purgeAnchors(client: pg.ClientBase): Promise<Map<string, number>> {
    const { rows } = await client.query(`SELECT chain_id, max(upto_seq) AS upto_seq FROM ${this.t.purges} GROUP BY chain_id ORDER BY chain_id`);
    return new Map((rows as Row[]).map((row) => [row['chain_id'] as string, num(row['upto_seq'])]));
  }

  /** A chain's records up to its anchor with their subject index rows, in slices (removeInSlices), each its own transaction: an append waits for one slice's row locks at most. */
  private removePurgedRecords(chainId: string, uptoSeq: number, options: PurgeOptions): Promise<number> {
    return removeInSlices(chainId, options, (limit) =>
      this.transaction(async (client): Promise<PurgeSlice> => {
        const doomed = await client.query(
          `DELETE FROM ${this.t.records} r USING (SELECT chain_id, last_seq, time FROM ${this.t.records} WHERE chain_id = $1 AND last_seq <= $2 ORDER BY last_seq LIMIT $3) d
           WHERE r.chain_id = d.chain_id AND r.last_seq = d.last_seq AND r.time = d.time RETURNING ${RECORD_COLUMN_LIST.split(', ')
             .map((column) => `r.${column}`)
             .join(', ')}`,
          [chainId, uptoSeq, limit],
        );
        const gone = (doomed.rows as Row[]).map((row) => toRecord(row, iso));
        // The subject index rows go with their records, found through the records' bodies (see sqliteStore.ts).
        const keys = gone.flatMap((record) => recordSubjects(record.items).map((subject) => [subject, record.header.time, record.lastSeq] as const));
        if (keys.length > 0) {
          await client.query(
            `DELETE FROM ${this.t.subjects} s USING unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS k(subject_hmac, time, last_seq)
             WHERE s.subject_hmac = k.subject_hmac AND s.time = k.time AND s.chain_id = $1 AND s.last_seq = k.last_seq`,
            [chainId, keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])],
          );
        }
        return { records: gone.length, entries: gone.reduce((sum, record) => sum + record.lastSeq - record.firstSeq + 1, 0) };
      }),
    );
  }

  private async insertPurge(client: pg.PoolClient, purge: StoredPurge): Promise<void> {
    await client.query(`INSERT INTO ${this.t.purges} (chain_id, upto_seq, head_hash, purged_count, time, jws, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      purge.chainId,
      purge.uptoSeq,
      purge.headHash,
      purge.purgedCount,
      purge.time,
      purge.jws,
      purge.note ?? null,
    ]);
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

  /** The tables of the row-per-entry format, for the migration; empty when they do not exist. */
  legacyReader(): LegacyReader {
    const q = `"${this.schema}"`;
    const exists = async () => (await this.pool.query('SELECT to_regclass($1) AS t', [`${q}.access_log_entries`])).rows[0]?.['t'] !== null;
    return {
      chains: async () => ((await exists()) ? ((await this.pool.query(`SELECT chain_id FROM ${q}.access_log_chains ORDER BY chain_id`)).rows as Row[]).map((row) => row['chain_id'] as string) : []),
      head: async (chainId) => {
        if (!(await exists())) return null;
        const row = (await this.pool.query(`SELECT head_seq, head_hash FROM ${q}.access_log_chains WHERE chain_id = $1`, [chainId])).rows[0] as Row | undefined;
        return row ? { seq: num(row['head_seq']), hash: row['head_hash'] as string } : null;
      },
      rows: async (chainId, fromSeq, limit) => {
        const { rows } = await this.pool.query(`SELECT ${LEGACY_ENTRY_COLUMN_LIST} FROM ${q}.access_log_entries WHERE chain_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [chainId, fromSeq, limit]);
        return (rows as Row[]).map((row) => {
          const entry = Object.fromEntries(LEGACY_ENTRY_COLUMNS.map(([column, property]) => [property, row[column]]));
          return { ...entry, seq: num(row['seq']), time: iso(row['time']) } as unknown as LegacyEntry;
        });
      },
      checkpoints: async (chainId) => ((await this.pool.query(`SELECT * FROM ${q}.access_log_checkpoints WHERE chain_id = $1 ORDER BY seq`, [chainId])).rows as Row[]).map(toCheckpoint),
      purges: async (chainId) => ((await this.pool.query(`SELECT * FROM ${q}.access_log_purges WHERE chain_id = $1 ORDER BY upto_seq`, [chainId])).rows as Row[]).map(toPurge),
    };
  }

  async startChainAt(purge: StoredPurge, checkpoint: StoredCheckpoint): Promise<void> {
    await this.transaction(async (client) => {
      const inserted = await client.query(`INSERT INTO ${this.t.chains} (chain_id, head_seq, head_hash, head_records) VALUES ($1, $2, $3, 0) ON CONFLICT (chain_id) DO NOTHING`, [
        purge.chainId,
        purge.uptoSeq,
        purge.headHash,
      ]);
      if (inserted.rowCount !== 1) throw new ChainStateError(`Chain ${purge.chainId} already exists in the record format.`);
      await this.insertPurge(client, purge);
      await client.query(`INSERT INTO ${this.t.checkpoints} (chain_id, seq, head_hash, count, time, jws) VALUES ($1, $2, $3, $4, $5, $6)`, [
        checkpoint.chainId,
        checkpoint.seq,
        checkpoint.headHash,
        checkpoint.count,
        checkpoint.time,
        checkpoint.jws,
      ]);
    });
  }

  async healthCheck(): Promise<void> {
    // A read-write transaction, not just SELECT 1: a standby that became read-only must report unhealthy.
    // It takes the table locks a commit takes (within lock_timeout): with the entries table locked by
    // someone else (a migration, a VACUUM FULL) the log is not back, and saying so would only make
    // the next request fail again.
    await this.transaction(async (client) => {
      await client.query(`LOCK TABLE ${this.t.records}, ${this.t.subjects}, ${this.t.checkpoints}, ${this.t.treeNodes}, ${this.t.treeHeads} IN ROW EXCLUSIVE MODE`);
      await client.query(`SELECT 1 FROM ${this.t.chains} LIMIT 1 FOR UPDATE SKIP LOCKED`);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.partitionTimer);
    await this.pool.end();
  }
}
