/**
 * Durable append throughput of the access log with group commit, on SQLite and PostgreSQL.
 *
 *   npx tsx bench/accessLogAppend.ts [--seconds 5] [--concurrency 1,16,64,256] [--entries 5,300] [--backend sqlite,postgres] [--split-above N] [--json]
 *
 * `--json` prints one JSON line per run instead of text (what `npm run bench` reads).
 * Each simulated request records `entries` entries (one per personal field) and waits for the
 * commit, as the gateway does before releasing a response; `--entries 5,300` runs each size in
 * turn. The entries and their subjects are bench/syntheticEntries.ts's. PostgreSQL:
 * BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test, in a throwaway schema.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPair } from 'jose';
import pg from 'pg';
import { AccessLog } from '../src/audit/accessLog.js';
import { parseSubjectKeys } from '../src/audit/subjectProtection.js';
import { generateSeed, noteSigner, SIG_ED25519 } from '../src/transparency/note.js';
import type { AccessLogStore } from '../src/audit/store/AccessLogStore.js';
import { PostgresAccessLogStore } from '../src/audit/store/postgresStore.js';
import { SqliteAccessLogStore } from '../src/audit/store/sqliteStore.js';
import { cpuSeconds, mainThreadCpuSeconds } from './procStats.js';
import { meanSubjectsPerRequest, requestEntries } from './syntheticEntries.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    entries: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'sqlite,postgres' },
    json: { type: 'boolean', default: false },
    /** The log's splitBatchesAbove (entries), to compare sharing a deep queue out with not; default the log's own. */
    'split-above': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const APPLICATION_NAME = `access-log-bench-${process.pid}`;

const subjectKeys = parseSubjectKeys({ subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') });
const { privateKey } = await generateKeyPair('ES256');
const signer = { privateKey, kid: 'bench' };
// As the gateway runs it: the Merkle tree kept in every commit, a signed tree head at most once a second.
const treeSigner = noteSigner('access-log.bench.example', SIG_ED25519, generateSeed());

export interface AppendResult {
  readonly backend: string;
  readonly concurrency: number;
  readonly entriesPerRecord: number;
  /** Distinct subjects per record, on average. */
  readonly subjectsPerRecord: number;
  readonly entriesPerSecond: number;
  readonly recordsPerSecond: number;
  readonly commits: number;
  readonly entriesPerCommit: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of this process, all threads (the writer thread included), per entry. */
  readonly writerCpuUsPerEntry: number;
  /** The part of writerCpuUsPerEntry spent on the main thread (the event loop: record(), drafting, hashing, hand-off). */
  readonly mainThreadCpuUsPerEntry: number;
  /**
   * The main thread's CPU over the run's wall time, 0..1. With the store's own CPU (the writer
   * thread, or PostgreSQL's backends) it shows whether the log was bound by a busy core or by
   * waiting: callers that all wait for one commit leave both sides idle in turn.
   */
  readonly mainThreadBusy: number;
  /** PostgreSQL: CPU of the store's server backends per entry; null for SQLite. */
  readonly serverCpuUsPerEntry: number | null;
}

/** CPU seconds of the PostgreSQL backends serving this process's store (found by application name). */
async function serverCpu(admin: pg.Client | null): Promise<number> {
  if (!admin) return 0;
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [APPLICATION_NAME]);
  let total = 0;
  for (const { pid } of rows) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // a backend that ended between the query and the read
    }
  }
  return total;
}

async function run(store: AccessLogStore, backend: string, concurrency: number, entriesPerRequest: number, admin: pg.Client | null): Promise<AppendResult> {
  let transactions = 0;
  const log = new AccessLog({
    store,
    chainId: `bench-${concurrency}-${Date.now()}`,
    subjectKeys,
    signer,
    treeSigner,
    commitTimeoutMs: 30_000,
    ...(values['split-above'] === undefined ? {} : { splitBatchesAbove: Number(values['split-above']) }),
    onEvent: (event) => {
      if (event.type === 'commit') transactions += 1;
    },
  });
  const latencies: number[] = [];
  let requests = 0;
  // Warm the writer (thread start, statement preparation, connections) outside the measurement.
  await log.record(requestEntries('warm-up', entriesPerRequest, 0));
  const cpuBefore = cpuSeconds(process.pid);
  const mainBefore = mainThreadCpuSeconds(process.pid);
  const serverBefore = await serverCpu(admin);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const request = requests++;
        const t0 = performance.now();
        await log.record(requestEntries(`${worker}-${request}`, entriesPerRequest, request));
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(process.pid) - cpuBefore;
  const main = mainThreadCpuSeconds(process.pid) - mainBefore;
  const server = (await serverCpu(admin)) - serverBefore;
  await log.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
  const entries = latencies.length * entriesPerRequest;
  return {
    backend,
    concurrency,
    entriesPerRecord: entriesPerRequest,
    subjectsPerRecord: meanSubjectsPerRequest(entriesPerRequest),
    entriesPerSecond: entries / elapsed,
    recordsPerSecond: latencies.length / elapsed,
    commits: transactions,
    entriesPerCommit: entries / transactions,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    writerCpuUsPerEntry: (cpu * 1e6) / entries,
    mainThreadCpuUsPerEntry: (main * 1e6) / entries,
    mainThreadBusy: main / elapsed,
    serverCpuUsPerEntry: admin ? (server * 1e6) / entries : null,
  };
}

function report(result: AppendResult): void {
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `concurrency ${String(result.concurrency).padStart(3)}: ${Math.round(result.entriesPerSecond).toString().padStart(7)} entries/s, ` +
      `${Math.round(result.recordsPerSecond).toString().padStart(6)} record()/s, ${result.commits} commits, ` +
      `${result.entriesPerCommit.toFixed(1)} entries/commit, latency p50 ${result.p50Ms.toFixed(1)} ms p99 ${result.p99Ms.toFixed(1)} ms, ` +
      `CPU per entry ${result.writerCpuUsPerEntry.toFixed(1)} µs here (${result.mainThreadCpuUsPerEntry.toFixed(1)} on the event loop, busy ${Math.round(result.mainThreadBusy * 100)}%)${result.serverCpuUsPerEntry === null ? '' : ` + ${result.serverCpuUsPerEntry.toFixed(1)} µs in PostgreSQL`}`,
  );
}

for (const backend of values.backend.split(',')) {
  for (const entriesPerRequest of values.entries.split(',').map(Number)) {
    if (!values.json) console.log(`\n${backend} (${entriesPerRequest} entries about ${meanSubjectsPerRequest(entriesPerRequest)} persons per record(), ${seconds}s per run)`);
    for (const concurrency of values.concurrency.split(',').map(Number)) {
      if (backend === 'sqlite') {
        const dir = mkdtempSync(path.join(tmpdir(), 'access-log-bench-'));
        const store = await SqliteAccessLogStore.open({ file: path.join(dir, 'access-log.db') });
        try {
          report(await run(store, backend, concurrency, entriesPerRequest, null));
        } finally {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        }
      } else {
        const schema = `access_log_bench_${process.pid}`;
        const store = await PostgresAccessLogStore.open({ connectionString: DATABASE_URL, schema, statementTimeoutMs: 30_000, applicationName: APPLICATION_NAME });
        const admin = new pg.Client({ connectionString: DATABASE_URL });
        await admin.connect();
        try {
          report(await run(store, backend, concurrency, entriesPerRequest, admin));
        } finally {
          await store.close();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        }
      }
    }
  }
}
