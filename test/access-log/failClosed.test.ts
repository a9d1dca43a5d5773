import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { TEST_DATABASE_URL } from '../audit/harness/postgresHarness.js';
import { createLogger } from '../../src/observability/logger.js';

const PG_URL = TEST_DATABASE_URL;

async function readiness(stack: Stack): Promise<number> {
  const agent = new Agent({ connect: { ca: readFileSync(`${stack.certsDir}/ca.crt`) } });
  try {
    const response = await request(stack.gateway.url.replace('/graphql', '/readyz'), { dispatcher: agent });
    await response.body.text();
    return response.statusCode;
  } finally {
    await agent.close();
  }
}

/** Waits for a condition; the attempt count only says when to give up, it races nothing. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

interface HeldStore {
  /**
   * Until `settled` settles, makes every store call of the gateway's log that waits on the held
   * lock (a commit, a probe) fail for certain, the way a lost database fails it; where the store
   * gives up on the lock by itself, only waits.
   */
  failWaiting(settled: Promise<unknown>): Promise<void>;
  release(): Promise<void>;
}

/** Counts the log's probes the store refused: the probe calls the store's healthCheck. */
function countFailedProbes(stack: Stack): { failed: number } {
  const probes = { failed: 0 };
  const store = stack.deps.openedAccessLog.store;
  const healthCheck = store.healthCheck.bind(store);
  store.healthCheck = async () => {
    try {
      await healthCheck();
    } catch (error) {
      probes.failed++;
      throw error;
    }
  };
  return probes;
}

/**
 * The store is held (a lock another connection keeps): requests fail closed, then recover when it
 * is released. The refused commit fails because the store refuses it (SQLite's busy error, a
 * terminated PostgreSQL backend), not because a clock ran out, and the bound is one that commits
 * which must succeed never come near, however busy the machine.
 */
function failClosedSuite(
  name: string,
  env: () => Record<string, string>,
  holdStore: (stack: Stack) => Promise<HeldStore>,
  /** What the process log must give as the outage's reason. */
  expected: Record<string, unknown>,
) {
  describe(`fail closed: ${name}`, () => {
    let stack: Stack;
    // The gateway's process log, as an operator's log shipper would read it.
    const processLog: string[] = [];
    beforeAll(async () => {
      stack = await startStack({
        persons: 400,
        env: { AUDIT_COMMIT_TIMEOUT_MS: '60000', ...env() },
        logger: createLogger({ level: 'info', destination: { write: (line: string) => void processLog.push(line) } }),
      });
    });
    afterAll(async () => {
      await stack?.close();
    });

    it('refuses to release personal data while the log cannot commit, reports unready, and recovers', async () => {
      const subject = stack.sample.withBenefits;
      const client = stack.client('malmo-stad', { official: 'tjm-8', purpose: 'CASE_HANDLING', caseId: 'OUTAGE-1', subjects: [subject] });
      const query = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } taxedIncome { year } } }';
      expect((await client.query(query, { p: subject })).status).toBe(200);
      expect(await readiness(stack)).toBe(200);

      const probes = countFailedProbes(stack);
      const held = await holdStore(stack);
      try {
        const pending = client.query(query, { p: subject });
        await held.failWaiting(pending);
        const refused = await pending;
        expect(refused.status).toBe(503);
        expect(refused.data ?? null).toBeNull();
        expect(refused.errors?.map((e) => e.extensions?.['code'])).toEqual(['ACCESS_LOG_UNAVAILABLE']);
        expect(JSON.stringify(refused)).not.toContain('givenName');
        expect(await readiness(stack)).toBe(503);
        // More refusals during the same outage, a failed probe of the log in between each: neither
        // a refusal nor a probe while the store is still held is a transition.
        for (let attempt = 0; attempt < 2; attempt++) {
          const failedBefore = probes.failed;
          const probed = until(async () => probes.failed > failedBefore, 'a probe of the held store to fail');
          await held.failWaiting(probed);
          await probed;
          const again = client.query(query, { p: subject });
          await held.failWaiting(again);
          const refusedAgain = await again;
          expect(refusedAgain.status).toBe(503);
          expect(refusedAgain.data ?? null).toBeNull();
          expect(refusedAgain.errors?.map((e) => e.extensions?.['code'])).toEqual(['ACCESS_LOG_UNAVAILABLE']);
        }
      } finally {
        await held.release();
      }
      await until(async () => (await client.query(query, { p: subject })).status === 200, 'the log to accept commits again');
      expect(await readiness(stack)).toBe(200);
    });

    it('logs the outage once when it starts, with its reason, and once when it ends; no personnummer', () => {
      const records = processLog.map((line) => JSON.parse(line) as Record<string, unknown>);
      const unavailable = records.filter((r) => r['event'] === 'access-log-unavailable');
      const recovered = records.filter((r) => r['event'] === 'access-log-recovered');
      expect(unavailable).toHaveLength(1);
      expect(recovered).toHaveLength(1);
      expect(unavailable[0]).toMatchObject({ level: 'error', chainId: 'test-gateway', ...expected });
      expect(recovered[0]).toMatchObject({ level: 'warn', chainId: 'test-gateway', unavailableMs: expect.any(Number) });
      expect(records.indexOf(unavailable[0]!)).toBeLessThan(records.indexOf(recovered[0]!));
      // The subject in every form a personnummer can be written in.
      const subject = stack.sample.withBenefits;
      const digits = subject.replace(/\D/g, '');
      for (const form of [subject, digits, digits.slice(2), `${digits.slice(2, 8)}-${digits.slice(8)}`]) expect(processLog.join('')).not.toContain(form);
    });
  });
}

failClosedSuite(
  'SQLite locked by another writer',
  () => ({}),
  async (stack) => {
    const db = new Database(stack.deps.openedAccessLog.config.sqliteFile);
    db.exec('BEGIN EXCLUSIVE');
    return {
      // The writer gives up on the lock by itself with SQLITE_BUSY: nothing to do but wait.
      async failWaiting(settled) {
        await settled.catch(() => undefined);
      },
      async release() {
        db.exec('ROLLBACK');
        db.close();
      },
    };
  },
  { reason: 'store-error', errorClass: 'SqliteWriterError', errorCode: 'SQLITE_BUSY' },
);

const pgSchema = `t_failclosed_${randomBytes(4).toString('hex')}`;
failClosedSuite(
  'PostgreSQL table locked (server stalled for the gateway)',
  () => ({ DATABASE_URL: PG_URL, AUDIT_PG_SCHEMA: pgSchema }),
  async (stack) => {
    const holder = new pg.Client({ connectionString: PG_URL });
    await holder.connect();
    const holderPid = ((await holder.query('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number }).pid;
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${pgSchema}.log_records IN ACCESS EXCLUSIVE MODE`);
    // pg_stat_activity read inside a transaction is a snapshot taken at the first read: the holder,
    // whose transaction stays open, would never see a connection the gateway opens after it (one
    // replacing a terminated backend), and would report its backends' states as they were. So a
    // second connection, outside any transaction, watches. It looks only for this gateway's
    // backends blocked by this holder: other tests on the machine may use the same chain id.
    const observer = new pg.Client({ connectionString: PG_URL });
    await observer.connect();
    const applicationName = `access-log:${stack.deps.openedAccessLog.config.chainId}`;
    const blocked = async () =>
      ((await observer.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND $2 = ANY(pg_blocking_pids(pid))', [applicationName, holderPid])).rows as { pid: number }[]).map(
        (row) => row.pid,
      );
    return {
      async failWaiting(settled) {
        // Ending a waiting backend fails its call the way a lost database would. Bounded by
        // `settled`, which the log's commit bound settles at the latest: nothing here races a clock.
        let done = false;
        settled.then(
          () => (done = true),
          () => (done = true),
        );
        while (!done) {
          for (const pid of await blocked()) await observer.query('SELECT pg_terminate_backend($1)', [pid]);
          if (!done) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      async release() {
        await holder.query('ROLLBACK');
        await holder.end();
        await observer.end();
      },
    };
  },
  // A terminated backend is a store error; the driver's message (which may quote values) is never logged.
  { reason: 'store-error' },
);

afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  await client.end();
});
