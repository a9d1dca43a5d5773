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
   * Makes the commit of a request now in flight fail for certain (it is waiting on the held lock),
   * unless the request is answered first (`answered` settles): a log already known to be down may
   * refuse at once without waiting.
   */
  failWaitingCommit(answered: Promise<unknown>): Promise<void>;
  release(): Promise<void>;
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

      const held = await holdStore(stack);
      try {
        const pending = client.query(query, { p: subject });
        await held.failWaitingCommit(pending);
        const refused = await pending;
        expect(refused.status).toBe(503);
        expect(refused.data ?? null).toBeNull();
        expect(refused.errors?.map((e) => e.extensions?.['code'])).toEqual(['ACCESS_LOG_UNAVAILABLE']);
        expect(JSON.stringify(refused)).not.toContain('givenName');
        expect(await readiness(stack)).toBe(503);
        // More refusals during the same outage, the log's probe (every second) running in between:
        // neither a refusal nor a probe while the store is still held is a transition.
        for (let attempt = 0; attempt < 2; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 1200));
          const again = client.query(query, { p: subject });
          await held.failWaitingCommit(again);
          expect((await again).status).toBe(503);
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
      // The writer gives up on the lock by itself with SQLITE_BUSY: nothing to do.
      failWaitingCommit: async () => undefined,
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
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${pgSchema}.access_log_entries IN ACCESS EXCLUSIVE MODE`);
    const applicationName = `access-log:${stack.deps.openedAccessLog.config.chainId}`;
    const waiting = async () =>
      ((await client.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [applicationName])).rows as { pid: number }[]).map((row) => row.pid);
    return {
      async failWaitingCommit(answered) {
        // The gateway's commit waits on the lock; ending its backend fails it the way a lost database would.
        let done = false;
        answered.then(
          () => (done = true),
          () => (done = true),
        );
        let pids: number[] = [];
        for (let attempt = 0; attempt < 1200 && pids.length === 0 && !done; attempt++) {
          pids = await waiting();
          if (pids.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (done && pids.length === 0) return;
        if (pids.length === 0) throw new Error('the gateway never waited on the held lock');
        for (const pid of pids) await client.query('SELECT pg_terminate_backend($1)', [pid]);
      },
      async release() {
        await client.query('ROLLBACK');
        await client.end();
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
