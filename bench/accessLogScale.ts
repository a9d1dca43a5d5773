/**
 * The access log at scale on PostgreSQL: fills a throwaway schema with `--entries` entries (requests
 * of 5, a year of times, a population of `--persons`), then times what a supervisor and a citizen
 * ask of it: one person's year (every page of the audit query, and a count), and that person's
 * report with inclusion proofs.
 *
 *   npx tsx bench/accessLogScale.ts [--entries 1000000] [--persons 100000] [--keep] [--retention]
 *
 * The records and the subject index are partitioned by month (postgresPartitions.ts): 2025's
 * months are created before the fill, as the store's timer would have created them. The run shows
 * which partitions a quarter's subject query reads. `--retention` then purges twice and times
 * each: January by row deletion (its last checkpoint is before its end, so the month stays), then
 * February dropped whole (with January's tail), as `npm run audit -- purge` would.
 *
 * One person (the "watched" one) is read once a day, so a year's query returns 365 × 5 entries
 * whatever the size of the log. BENCH_DATABASE_URL as in accessLogAppend.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { generateKeyPair } from 'jose';
import pg from 'pg';
import { AccessLog } from '../src/audit/accessLog.js';
import type { AccessLogEntry } from '../src/audit/entry.js';
import { signPurge } from '../src/audit/checkpoint.js';
import { planPurge } from '../src/audit/retention.js';
import { proveEntries } from '../src/audit/reportProofs.js';
import type { PartitionEvent } from '../src/audit/store/postgresPartitions.js';
import { PostgresAccessLogStore } from '../src/audit/store/postgresStore.js';
import { parseSubjectKeys, subjectHmac } from '../src/audit/subjectProtection.js';
import { makePersonnummer } from '../src/personnummer/index.js';
import { generateSeed, noteSigner, SIG_ED25519 } from '../src/transparency/note.js';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    persons: { type: 'string', default: '100000' },
    keep: { type: 'boolean', default: false },
    retention: { type: 'boolean', default: false },
  },
});
const total = Number(values.entries);
const persons = Number(values.persons);
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `access_log_scale_${process.pid}`;

const subjectKeys = parseSubjectKeys({ subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') });
const { privateKey } = await generateKeyPair('ES256');
const treeSigner = noteSigner('access-log.bench.example', SIG_ED25519, generateSeed());
const documentHash = createHash('sha256').update('scale').digest('hex');
const YEAR_START = Date.parse('2025-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const population = Array.from({ length: persons }, (_, i) => makePersonnummer(`19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9}`, 100 + (i % 800)));
const watched = makePersonnummer('1985-03-14', 123);

function request(n: number): AccessLogEntry[] {
  // Every (requests / 365)-th request reads the watched person: once a day across the year.
  const requests = total / 5;
  const day = Math.floor((n / requests) * 365);
  const isWatched = n % Math.max(1, Math.floor(requests / 365)) === 0;
  const subject = isWatched ? watched : population[n % persons]!;
  const time = new Date(YEAR_START + day * DAY + (n % DAY)).toISOString();
  return Array.from({ length: 5 }, (_, i) => ({
    time,
    requestId: `scale-${n}`,
    clientAgency: { organisationNumber: '202100-5521', id: n % 3 === 0 ? 'csn' : 'forsakringskassan' },
    official: `official-${n % 500}`,
    purpose: 'CASE_HANDLING',
    legalBasis: 'SFS 2001:454 2 kap. 1 §',
    processingRegisterRef: { recordId: 'FK-REG-17', version: '3' },
    caseId: `case-${n % 20000}`,
    subject,
    field: `Person.field${i}`,
    owningAgency: 'skatteverket',
    outcome: 'released',
    outcomeCode: null,
    operationName: 'Scale',
    documentHash,
  }));
}

const partitionEvents: PartitionEvent[] = [];
const store = await PostgresAccessLogStore.open({ connectionString: DATABASE_URL, schema, statementTimeoutMs: 600_000, poolSize: 6, onPartitionEvent: (event) => partitionEvents.push(event) });
await store.createPartitions('2025-01-01T00:00:00.000Z', '2025-12-31T00:00:00.000Z');
const admin = new pg.Client({ connectionString: DATABASE_URL });
await admin.connect();
try {
  const log = new AccessLog({ store, chainId: 'scale', subjectKeys, signer: { privateKey, kid: 'scale' }, treeSigner, commitTimeoutMs: 60_000 });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < total / 5) await log.record(request(next++));
    }),
  );
  await log.close();
  const fillSeconds = (performance.now() - started) / 1000;
  await admin.query(`ANALYZE "${schema}".log_records, "${schema}".log_subjects`);
  const size =
    // Partitioned tables have no storage of their own: their partitions' sizes are summed.
    (
      await admin.query(
        `SELECT (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('"${schema}".log_records')) + (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('"${schema}".log_subjects')) + pg_total_relation_size('"${schema}".log_tree_nodes') AS bytes`,
      )
    ).rows[0] as { bytes: string };
  console.log(
    `filled ${total} entries in ${fillSeconds.toFixed(0)} s (${Math.round(total / fillSeconds)} entries/s); records, subject index and tree: ${(Number(size.bytes) / 2 ** 20).toFixed(0)} MiB`,
  );

  const filter = { subjectHmac: subjectHmac(subjectKeys, watched), timeFrom: '2025-01-01T00:00:00.000Z', timeTo: '2026-01-01T00:00:00.000Z' };
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    const entries = [];
    let cursor: string | null = null;
    do {
      const page = await store.query(filter, cursor, 1000);
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor !== null);
    const queryMs = performance.now() - t;
    t = performance.now();
    const counts = await store.countBy('clientAgency', filter);
    const countMs = performance.now() - t;
    t = performance.now();
    const proofs = await proveEntries(store, entries, { signer: treeSigner, witnesses: [], quorum: 0 });
    const proofMs = performance.now() - t;
    console.log(
      `round ${round + 1}: subject-year query ${entries.length} entries in ${queryMs.toFixed(0)} ms, count ${counts.reduce((s, c) => s + c.count, 0)} in ${countMs.toFixed(0)} ms, ` +
        `proofs for ${proofs.entries.length} reads (${proofs.entries.filter((p) => p.inclusion !== null).length} with inclusion) in ${proofMs.toFixed(0)} ms`,
    );
  }
  await partitionsOfAQuarter(subjectHmac(subjectKeys, watched));
  if (values.retention) {
    await timedPurge('2025-01-31T23:00:00.000Z', 'January up to its last checkpoint before 31 Jan 23:00 (rows deleted)');
    await timedPurge('2025-03-01T12:00:00.000Z', "January's tail and February (dropped), March up to its first checkpoint after noon of 1 Mar (rows deleted)");
  }
} finally {
  await store.close();
  if (!values.keep) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}

/**
 * The statement the store runs for the first page of a subject's quarter (postgresStore.ts, the
 * subject branch of fetcher), explained as executed: the subject index partitions it scans, and
 * the record partitions the per-row lookup reaches (run-time pruning: a partition no row
 * needs shows as never executed).
 */
async function partitionsOfAQuarter(hmac: string): Promise<void> {
  const { rows } = await admin.query(
    `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
     SELECT r.* FROM "${schema}".log_subjects s CROSS JOIN LATERAL (SELECT * FROM "${schema}".log_records r WHERE r.chain_id = s.chain_id AND r.last_seq = s.last_seq AND r.time = s.time OFFSET 0) r
     WHERE s.subject_hmac = $1 AND s.time >= $2::timestamptz AND s.time < $3::timestamptz ORDER BY s.time, s.chain_id, s.last_seq LIMIT 1000`,
    [hmac, '2025-04-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z'],
  );
  const plan = rows.map((row: Record<string, string>) => row['QUERY PLAN']!);
  if (process.env['BENCH_SHOW_PLAN']) console.log(plan.join('\n'));
  const scanned = (table: string) =>
    [...new Set(plan.filter((line) => line.includes(`${table}_y`) && !line.includes('never executed')).map((line) => /(log_\w+_y\d{4}m\d{2})/.exec(line)?.[1]))].sort();
  const total = (await admin.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = '"${schema}".log_records'::regclass`)).rows[0] as { n: number };
  console.log(
    `a subject's April–June (${total.n} record partitions in the schema, DEFAULT included): subject index partitions scanned ${scanned('log_subjects').join(', ')}; record partitions reached ${scanned('log_records').join(', ')}`,
  );
}

/** Plans a purge of what is older than `cut` (one day's retention, seen a day after it), and times the store's purge of it alone. */
async function timedPurge(cut: string, what: string): Promise<void> {
  const now = new Date(Date.parse(cut) + DAY);
  const plans = await planPurge(store, { defaultDays: 1, byPurpose: new Map() }, now);
  const purges = [];
  for (const plan of plans) {
    for (const segment of plan.segments) {
      purges.push(
        await signPurge(
          { chainId: plan.chainId, uptoSeq: segment.uptoSeq, headHash: segment.headHash, purgedCount: segment.uptoSeq - segment.fromSeq + 1, time: now.toISOString() },
          { privateKey, kid: 'scale' },
        ),
      );
    }
  }
  partitionEvents.length = 0;
  const t = performance.now();
  const removed = await store.purge(purges);
  const ms = performance.now() - t;
  const dropped = partitionEvents.flatMap((event) => (event.kind === 'partition-dropped' ? [`${event.month} (${event.chains.reduce((n, c) => n + c.toSeq - c.fromSeq + 1, 0)} entries)`] : []));
  console.log(`purge of ${what}: ${[...removed.values()].reduce((a, b) => a + b, 0)} entries in ${purges.length} segments in ${ms.toFixed(0)} ms; dropped whole: ${dropped.join(', ') || 'none'}`);
}
