import type pg from 'pg';

/**
 * Month partitions of the PostgreSQL store's two tables that grow with every request:
 * log_records and log_subjects, each declaratively partitioned by RANGE on `time`, one partition
 * per calendar month (UTC), named `<table>_yYYYYmMM`, and a DEFAULT partition.
 *
 * Why: retention removes whole months at once. Dropping a month's partition is a catalogue change,
 * where deleting its rows writes every row and every index entry again (WAL, vacuum, bloat); and a
 * subject's year touches twelve small indexes instead of one ever-growing one.
 *
 * A subject index row has its record's time (copyText.ts writes the record's header time), so a
 * month's subject partition holds exactly the index rows of that month's record partition: the
 * two are created, moved and dropped together.
 *
 * Creation ahead: the store creates the current and the next month when it opens and again on a
 * timer (postgresStore.ts), so the next month exists weeks before the first record needs it. The
 * DEFAULT partition is the safety net for what that cannot promise: a writer whose clock is off,
 * a record stamped in a month long past (migrated or test data), a process that ran a month
 * without its timer. A write then never fails for want of a partition; the next maintenance moves
 * such rows into their month's partition, created for them.
 */

export const PARTITIONED_TABLES = ['log_records', 'log_subjects'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** A calendar month in UTC, as the first instant of it. */
export type Month = { readonly year: number; readonly month: number };

export function monthOf(time: Date | string): Month {
  const date = typeof time === 'string' ? new Date(time) : time;
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1 };
}

export function nextMonth(month: Month): Month {
  return month.month === 12 ? { year: month.year + 1, month: 1 } : { year: month.year, month: month.month + 1 };
}

export function monthStart(month: Month): string {
  return `${String(month.year).padStart(4, '0')}-${String(month.month).padStart(2, '0')}-01T00:00:00.000Z`;
}

export function partitionName(table: PartitionedTable, month: Month): string {
  return `${table}_y${String(month.year).padStart(4, '0')}m${String(month.month).padStart(2, '0')}`;
}

const PARTITION_NAME = /^(log_records|log_subjects)_y(\d{4})m(\d{2})$/;

export function monthOfPartition(name: string): Month | null {
  const match = PARTITION_NAME.exec(name);
  return match ? { year: Number(match[2]), month: Number(match[3]) } : null;
}

/** Months from `from` to `to`, both included. */
export function monthsBetween(from: Month, to: Month): Month[] {
  const months: Month[] = [];
  for (let m = from; m.year < to.year || (m.year === to.year && m.month <= to.month); m = nextMonth(m)) months.push(m);
  return months;
}

/** What the partition maintenance did, for the operator's log (docs/operations.md). */
export type PartitionEvent =
  | { readonly kind: 'partition-created'; readonly month: string; readonly movedFromDefault: number }
  /** The seqs each chain spanned in the month (its records' entries there, unless a writer's clock went back across the month's edge). */
  | { readonly kind: 'partition-dropped'; readonly month: string; readonly chains: readonly ChainSpan[] }
  | { readonly kind: 'partition-maintenance-failed'; readonly error: Error }
  | { readonly kind: 'partitioned-upgrade'; readonly records: number; readonly months: number };

type Row = Record<string, unknown>;
type Client = pg.ClientBase;

/** Quoted `"schema".name`. */
function qualified(schema: string, name: string): string {
  return `"${schema}"."${name}"`;
}

export async function relationKind(client: Client, schema: string, name: string): Promise<string | null> {
  const { rows } = await client.query('SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', [schema, name]);
  return rows[0] ? String((rows[0] as Row)['relkind']) : null;
}

/** The month partitions of a table that exist now (not the DEFAULT one), oldest first. */
export async function listMonthPartitions(client: Client, schema: string, table: PartitionedTable): Promise<Array<{ readonly name: string; readonly month: Month }>> {
  const { rows } = await client.query('SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname', [qualified(schema, table)]);
  return (rows as Row[]).flatMap((row) => {
    const name = row['relname'] as string;
    const month = monthOfPartition(name);
    return month ? [{ name, month }] : [];
  });
}

/**
 * Creates the month's partitions of both tables if missing, in the caller's transaction. Rows
 * that went to the DEFAULT partition for want of it move in: PostgreSQL refuses a new partition
 * while the DEFAULT one holds rows of its range. Returns the number of record rows moved, or null
 * when the partitions existed.
 */
export async function createMonth(client: Client, schema: string, month: Month): Promise<number | null> {
  if ((await relationKind(client, schema, partitionName('log_records', month))) !== null) return null;
  const from = monthStart(month);
  const to = monthStart(nextMonth(month));
  let moved = 0;
  for (const table of PARTITIONED_TABLES) {
    const parent = qualified(schema, table);
    const fallback = qualified(schema, `${table}_default`);
    const stray = `moved_${table}`;
    // The rows leave the DEFAULT partition before the check that it holds none of the range, and
    // come back through the parent, which routes them to the new partition: one transaction.
    await client.query(`CREATE TEMP TABLE ${stray} (LIKE ${parent}) ON COMMIT DROP`);
    const { rowCount } = await client.query(`WITH d AS (DELETE FROM ${fallback} WHERE time >= $1 AND time < $2 RETURNING *) INSERT INTO ${stray} SELECT * FROM d`, [from, to]);
    await client.query(`CREATE TABLE ${qualified(schema, partitionName(table, month))} PARTITION OF ${parent} FOR VALUES FROM ('${from}') TO ('${to}')`);
    if ((rowCount ?? 0) > 0) await client.query(`INSERT INTO ${parent} SELECT * FROM ${stray}`);
    await client.query(`DROP TABLE ${stray}`);
    if (table === 'log_records') moved = rowCount ?? 0;
  }
  return moved;
}

/** The months the DEFAULT partition holds rows of (normally none: it is a safety net). */
export async function monthsInDefault(client: Client, schema: string): Promise<Month[]> {
  const { rows } = await client.query(
    `SELECT DISTINCT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM') AS m FROM ${qualified(schema, 'log_records_default')}
     UNION SELECT DISTINCT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM') FROM ${qualified(schema, 'log_subjects_default')} ORDER BY 1`,
  );
  return (rows as Row[]).map((row) => {
    const [year, month] = String(row['m']).split('-').map(Number);
    return { year: year!, month: month! };
  });
}

/** A chain's records in one month partition: the first seq of its first record there, the last seq of its last. */
export interface ChainSpan {
  readonly chainId: string;
  readonly fromSeq: number;
  readonly toSeq: number;
}

/**
 * The chains with records in a month partition and the seqs they span there, by a skip scan of
 * the (chain_id, last_seq, time) key: a few index probes per chain, never a scan of the month
 * (at 10⁹ entries a year a month is tens of GiB, and the purge holds the writers off meanwhile).
 * A month may be dropped by a purge when each chain's span there ends at or below the seq that
 * chain is purged to.
 */
export async function chainSpans(client: Client, schema: string, partition: string): Promise<ChainSpan[]> {
  const p = qualified(schema, partition);
  const { rows } = await client.query(
    `WITH RECURSIVE c(chain_id) AS (
       (SELECT chain_id FROM ${p} ORDER BY chain_id LIMIT 1)
       UNION ALL
       SELECT (SELECT r.chain_id FROM ${p} r WHERE r.chain_id > c.chain_id ORDER BY r.chain_id LIMIT 1) FROM c WHERE c.chain_id IS NOT NULL
     )
     SELECT c.chain_id,
       (SELECT r.first_seq FROM ${p} r WHERE r.chain_id = c.chain_id ORDER BY r.last_seq LIMIT 1) AS from_seq,
       (SELECT max(r.last_seq) FROM ${p} r WHERE r.chain_id = c.chain_id) AS to_seq
     FROM c WHERE c.chain_id IS NOT NULL`,
  );
  return (rows as Row[]).map((row) => ({ chainId: row['chain_id'] as string, fromSeq: Number(row['from_seq']), toSeq: Number(row['to_seq']) }));
}

/** Detaches and drops a month's partitions of both tables, in the caller's transaction. */
export async function dropMonth(client: Client, schema: string, month: Month): Promise<void> {
  for (const table of PARTITIONED_TABLES) {
    const name = qualified(schema, partitionName(table, month));
    await client.query(`ALTER TABLE ${qualified(schema, table)} DETACH PARTITION ${name}`);
    await client.query(`DROP TABLE ${name}`);
  }
}
