import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessLog } from '../../src/audit/accessLog.js';
import { signCheckpoint } from '../../src/audit/checkpoint.js';
import type { AccessLogEntry } from '../../src/audit/entry.js';
import { chainRecords, genesisHead, type ChainHead } from '../../src/audit/hashChain.js';
import { draftRecords } from '../../src/audit/record.js';
import { ChainConflictError, ChainStateError } from '../../src/audit/store/AccessLogStore.js';
import { protectSubject } from '../../src/audit/subjectProtection.js';
import { verifyAccessLog } from '../../src/audit/verify.js';
import { describeAccessLogStoreContract } from './accessLogStoreContract.js';
import { createPostgresHarness, TEST_DATABASE_URL } from './harness/postgresHarness.js';
import { generateTestKeys, makeEntry, SUBJECTS, toUnchainedEntry, type TestKeys } from './helpers.js';

describeAccessLogStoreContract('PostgreSQL', createPostgresHarness);

/** Entries as the writer puts them after `head`: one record per request, chained. */
function chainEntries(keys: TestKeys, head: ChainHead, entries: readonly AccessLogEntry[]) {
  return chainRecords(head, draftRecords(entries.map((entry) => toUnchainedEntry(entry, entry.subject === null ? null : protectSubject(keys.subjectKeys, entry.subject)))));
}

/** The store's connection pool in these tests: the most dead connections a terminated server leaves behind. */
const POOL_SIZE = 4;

describe('access log on PostgreSQL: lost connections', () => {
  let keys: TestKeys;
  let h: Awaited<ReturnType<typeof createPostgresHarness>>;
  let log: AccessLog;

  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  beforeEach(async () => {
    // Bounds far beyond any machine: the blocked commit ends because its backend is terminated, not by a clock.
    h = await createPostgresHarness({ statementTimeoutMs: 120_000, poolSize: POOL_SIZE });
    log = new AccessLog({ store: h.store, chainId: 'replica-pg', subjectKeys: keys.subjectKeys, signer: keys.signer, checkpointEvery: 5, commitTimeoutMs: 120_000, probeIntervalMs: 3_600_000 });
  });
  afterEach(async () => {
    await log.close().catch(() => undefined);
    await h.cleanup();
  });

  const terminateStoreBackends = async () => (await h.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [h.applicationName])).rowCount;

  it('rejects a commit whose backend is terminated mid-transaction, then recovers', async () => {
    await log.record([makeEntry()]);
    const block = await h.blockWrites();
    // Settled from the start: if the wait below gave up, the commit's later rejection would
    // otherwise surface as an unhandled rejection in some other test's output.
    const pending = log.record([makeEntry()]).then(
      () => 'committed',
      (error: unknown) => error,
    );
    // Wait until the commit is inside its transaction, waiting for the chain lock. A wait, not a
    // race: the limit only says when to give up on a machine that never gets there.
    await vi.waitFor(
      async () => {
        const { rows } = await h.admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [h.applicationName]);
        expect((rows[0] as { n: number }).n).toBe(1);
      },
      { timeout: 30_000, interval: 20 },
    );
    expect(await terminateStoreBackends()).toBeGreaterThan(0);
    expect(await pending).toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE', extensions: { reason: 'store-error' } });
    expect(log.isHealthy()).toBe(false);
    await block.release();

    const receipt = await log.record([makeEntry()]);
    expect(receipt.firstSeq).toBe(2);
    expect(log.isHealthy()).toBe(true);
    await log.close();
    expect((await verifyAccessLog(h.store, [keys.publicJwk])).ok).toBe(true);
  });

  it('recovers when idle pooled connections are terminated', async () => {
    await log.record([makeEntry()]);
    expect(await terminateStoreBackends()).toBeGreaterThan(0);
    // Whether the pool has noticed its connections died is a race with the server's notice, so the
    // test counts instead: each dead pooled connection can fail at most one call (the store
    // discards it), the pool holds at most POOL_SIZE, so a call after that many must succeed.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt <= POOL_SIZE && outcomes.at(-1) !== 'ok'; attempt++) {
      outcomes.push(
        await log.record([makeEntry()]).then(
          () => 'ok',
          (error: { code?: string }) => error.code ?? 'uncoded',
        ),
      );
    }
    expect(outcomes.at(-1)).toBe('ok');
    expect(outcomes.slice(0, -1).every((outcome) => outcome === 'ACCESS_LOG_UNAVAILABLE')).toBe(true);
    await log.record([makeEntry()]);
    expect(log.isHealthy()).toBe(true);
    await log.close();
    expect((await verifyAccessLog(h.store, [keys.publicJwk])).ok).toBe(true);
  });
});

describe('access log on PostgreSQL: a checkpoint due during an outage', () => {
  let keys: TestKeys;

  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not hold the writer: the next commit reaches the store and fails on its refusal, and the checkpoint is signed after recovery', async () => {
    // Only the log's interval timers are faked, so the test says when a checkpoint falls due;
    // every timeout (the pool's, vi.waitFor's, the commit bound) runs on the real clock.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await createPostgresHarness({ statementTimeoutMs: 120_000 });
    const chainId = 'replica-pg-outage';
    const log = new AccessLog({ store: h.store, chainId, subjectKeys: keys.subjectKeys, signer: keys.signer, checkpointIntervalMs: 60_000, commitTimeoutMs: 120_000, probeIntervalMs: 3_600_000 });
    // The entries table held the way a migration or a VACUUM FULL holds it: every statement touching it waits.
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    const holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    // Read by the harness's admin connection, outside any transaction: pg_stat_activity read inside
    // one is a snapshot frozen at its first read, blind to connections opened later.
    const blocked = async () =>
      (await h.admin.query('SELECT pid, query FROM pg_stat_activity WHERE application_name = $1 AND $2 = ANY(pg_blocking_pids(pid))', [h.applicationName, holderPid])).rows as {
        pid: number;
        query: string;
      }[];
    const waitingOnHeldTable = async () => {
      // A wait, not a race: the limit only says when to give up on a machine that never gets there.
      await vi.waitFor(async () => expect(await blocked()).not.toHaveLength(0), { timeout: 60_000, interval: 20 });
      return blocked();
    };
    const terminate = async (backends: { pid: number }[]) => {
      for (const { pid } of backends) await h.admin.query('SELECT pg_terminate_backend($1)', [pid]);
    };
    const refusedByStore = { code: 'ACCESS_LOG_UNAVAILABLE', extensions: { reason: 'store-error' } };
    const settled = (promise: Promise<unknown>) =>
      promise.then(
        () => 'committed',
        (error: unknown) => error,
      );
    try {
      await log.record([makeEntry()]);
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${h.tables.records} IN ACCESS EXCLUSIVE MODE`);
      const first = settled(log.record([makeEntry()]));
      await terminate(await waitingOnHeldTable());
      expect(await first).toMatchObject(refusedByStore);
      expect(log.isHealthy()).toBe(false);

      vi.advanceTimersByTime(60_000);
      // Microtasks run before setImmediate: the drain the timer kicked has started, as on an idle log.
      await new Promise((resolve) => setImmediate(resolve));
      const second = settled(log.record([makeEntry()]));
      // The only statement of this log waiting on the held table is the commit's own (its query
      // string opens with the COPY of its records): a checkpoint run now would be waiting there
      // instead, with the commit queued behind it until the commit bound refused it by the clock.
      const waiting = await waitingOnHeldTable();
      expect(waiting.map(({ query }) => query)).toEqual([expect.stringMatching(/^BEGIN; .*; COPY \S+\.log_records /)]);
      await terminate(waiting);
      expect(await second).toMatchObject(refusedByStore);

      await holder.query('ROLLBACK');
      const receipt = await log.record([makeEntry()]);
      expect(log.isHealthy()).toBe(true);
      await log.flush();
      expect(await h.store.lastCheckpoint(chainId)).toMatchObject({ seq: receipt.lastSeq });
      await log.close();
      expect((await verifyAccessLog(h.store, [keys.publicJwk])).ok).toBe(true);
    } finally {
      await holder.end().catch(() => undefined);
      await log.close().catch(() => undefined);
      await h.cleanup();
    }
  });
});

describe('PostgreSQL append: two in flight on one chain', () => {
  let keys: TestKeys;
  let h: Awaited<ReturnType<typeof createPostgresHarness>>;

  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  beforeEach(async () => {
    // Bounds far beyond any machine: the held append ends because the test releases it.
    h = await createPostgresHarness({ statementTimeoutMs: 120_000 });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  /** Two records after `head`, chained as the writer chains a batch. */
  const batchAfter = (head: ChainHead) => chainEntries(keys, head, [makeEntry({ requestId: `after-${head.seq}-a` }), makeEntry({ requestId: `after-${head.seq}-b` })]);
  /** The store's backends as the server sees them: waiting on a lock, or idle inside a transaction (which query last). */
  const backends = async () =>
    (await h.admin.query('SELECT wait_event_type, state, query FROM pg_stat_activity WHERE application_name = $1', [h.applicationName])).rows as {
      wait_event_type: string | null;
      state: string;
      query: string;
    }[];
  const settled = (promise: Promise<unknown>) =>
    promise.then(
      () => 'committed',
      (error: unknown) => error,
    );

  /**
   * Holds the chain table, starts `first` and waits until its head move waits on the lock, starts
   * `second` and waits until its rows are in, uncommitted. A wait, not a race: the limits only say
   * when to give up on a machine that never gets there.
   */
  async function secondWhileFirstHeld(first: () => Promise<void>, second: () => Promise<void>) {
    const block = await h.blockWrites();
    try {
      const firstDone = settled(first());
      await vi.waitFor(async () => expect((await backends()).filter((b) => b.wait_event_type === 'Lock')).toHaveLength(1), { timeout: 30_000, interval: 20 });
      const secondDone = settled(second());
      await vi.waitFor(async () => expect((await backends()).filter((b) => b.state === 'idle in transaction')).toHaveLength(1), { timeout: 30_000, interval: 20 });
      const now = await backends();
      // The second sent its rows (and only its rows) while the first waits: its head move waits for the first to settle.
      expect(now.filter((b) => b.state === 'idle in transaction').map((b) => b.query)).toEqual([expect.not.stringContaining('log_move_head')]);
      expect(now.filter((b) => b.wait_event_type === 'Lock').map((b) => b.query)).toEqual([expect.stringContaining('log_move_head')]);
      return { firstDone, secondDone };
    } finally {
      await block.release();
    }
  }

  it('copies the second batch while the first commits and moves its head only after: both land, in order', async () => {
    const first = batchAfter(genesisHead('replica-pg'));
    const second = batchAfter(first.head);
    const { firstDone, secondDone } = await secondWhileFirstHeld(
      () => h.store.append(first.records),
      () => h.store.append(second.records),
    );
    expect(await firstDone).toBe('committed');
    expect(await secondDone).toBe('committed');
    expect(await h.store.lastHead('replica-pg')).toEqual(second.head);
    expect((await h.store.readRecords('replica-pg', 1, 10)).map((record) => record.hash)).toEqual([...first.records, ...second.records].map((record) => record.hash));
  });

  it('refuses the second batch as a conflict when the first, still in flight as the second copies its rows, fails: nothing of either lands', async () => {
    const first = batchAfter(genesisHead('replica-pg'));
    const second = batchAfter(first.head);
    // Signed over a hash the chain does not have at that seq: the store refuses the first batch at its end.
    const badCheckpoint = await signCheckpoint({ ...first.head, hash: 'f'.repeat(64) }, first.head.seq, '2025-01-15T10:00:01.000Z', keys.signer);
    const { firstDone, secondDone } = await secondWhileFirstHeld(
      () => h.store.append(first.records, badCheckpoint),
      () => h.store.append(second.records),
    );
    expect(await firstDone).toBeInstanceOf(ChainStateError);
    const refused = await secondDone;
    expect(refused).toBeInstanceOf(ChainConflictError);
    expect(refused).toMatchObject({ expectedSeq: first.head.seq, actualSeq: 0 });
    expect(await h.store.lastHead('replica-pg')).toEqual(genesisHead('replica-pg'));
    expect(await h.store.readRecords('replica-pg', 1, 10)).toEqual([]);
  });
});

describe('PostgreSQL append: one query string per batch', () => {
  let keys: TestKeys;

  beforeAll(async () => {
    keys = await generateTestKeys();
  });

  it('keeps its connection when a batch is refused in its first COPY: the server drops the copy data sent with it', async () => {
    // One pooled connection, so a connection the store had to discard would show as a new backend.
    const h = await createPostgresHarness({ poolSize: 1 });
    try {
      const entries = Array.from({ length: 3 }, (_, i) => makeEntry({ requestId: `copy-${i}`, subject: SUBJECTS[i % SUBJECTS.length]! }));
      const first = chainEntries(keys, genesisHead('replica-pg'), entries);
      await h.store.append(first.records);
      const backendPids = async () => ((await h.admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [h.applicationName])).rows as { pid: number }[]).map((row) => row.pid);
      const before = await backendPids();
      expect(before).toHaveLength(1);
      // The same records again: the records' COPY fails on the primary key, with the subject index's and the tree's data already on the wire behind it.
      await expect(h.store.append(first.records)).rejects.toMatchObject({ name: 'ChainConflictError', expectedSeq: 0, actualSeq: first.head.seq });
      const next = chainEntries(keys, first.head, [makeEntry({ requestId: 'after' })]);
      await h.store.append(next.records);
      expect(await backendPids()).toEqual(before);
      expect(await h.store.lastHead('replica-pg')).toEqual(next.head);
      expect((await h.store.readRecords('replica-pg', 1, 10)).map((record) => record.header.requestId)).toEqual(['copy-0', 'copy-1', 'copy-2', 'after']);
    } finally {
      await h.cleanup();
    }
  });
});
