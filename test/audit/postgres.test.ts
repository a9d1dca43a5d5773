import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessLog } from '../../src/audit/accessLog.js';
import { verifyAccessLog } from '../../src/audit/verify.js';
import { describeAccessLogStoreContract } from './accessLogStoreContract.js';
import { createPostgresHarness, TEST_DATABASE_URL } from './harness/postgresHarness.js';
import { generateTestKeys, makeEntry, type TestKeys } from './helpers.js';

describeAccessLogStoreContract('PostgreSQL', createPostgresHarness);

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
      // The only statement of this log waiting on the held table is the commit's own COPY: a
      // checkpoint run now would be waiting there instead, with the commit queued behind it
      // until the commit bound refused it by the clock.
      const waiting = await waitingOnHeldTable();
      expect(waiting.map(({ query }) => query)).toEqual([expect.stringMatching(/^COPY /)]);
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
