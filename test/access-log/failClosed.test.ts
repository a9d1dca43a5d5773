import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { createLogger } from '../../src/observability/logger.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

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

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The store is held (a lock another connection keeps): requests fail closed, then recover when it is released. */
function failClosedSuite(
  name: string,
  env: () => Record<string, string>,
  holdStore: (stack: Stack) => Promise<() => Promise<void>>,
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
        env: env(),
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

      const release = await holdStore(stack);
      try {
        const refused = await client.query(query, { p: subject });
        expect(refused.status).toBe(503);
        expect(refused.data ?? null).toBeNull();
        expect(refused.errors?.map((e) => e.extensions?.['code'])).toEqual(['ACCESS_LOG_UNAVAILABLE']);
        expect(JSON.stringify(refused)).not.toContain('givenName');
        expect(await readiness(stack)).toBe(503);
        // More refusals during the same outage, far enough apart for the log's probe (every second) to
        // run in between: neither a refusal nor a probe while the store is still held is a transition.
        for (let attempt = 0; attempt < 2; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 1200));
          expect((await client.query(query, { p: subject })).status).toBe(503);
        }
      } finally {
        await release();
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

// SQLite's busy wait (at most 1 s) ends well inside this commit bound: the store itself reports the failure.
failClosedSuite(
  'SQLite locked by another writer',
  () => ({ AUDIT_COMMIT_TIMEOUT_MS: '5000' }),
  async (stack) => {
    const db = new Database(stack.deps.openedAccessLog.config.sqliteFile);
    db.exec('BEGIN EXCLUSIVE');
    return async () => {
      db.exec('ROLLBACK');
      db.close();
    };
  },
  { reason: 'store-error', errorClass: 'SqliteWriterError', errorCode: 'SQLITE_BUSY' },
);

const pgSchema = `t_failclosed_${randomBytes(4).toString('hex')}`;
failClosedSuite(
  'PostgreSQL table locked (server stalled for the gateway)',
  () => ({ AUDIT_COMMIT_TIMEOUT_MS: '400', DATABASE_URL: PG_URL, AUDIT_PG_SCHEMA: pgSchema }),
  async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${pgSchema}.access_log_entries IN ACCESS EXCLUSIVE MODE`);
    return async () => {
      await client.query('ROLLBACK');
      await client.end();
    };
  },
  // The lock wait and the commit bound are equal: whichever ends first, the request fails in time.
  { reason: expect.stringMatching(/^(timeout|store-error)$/) },
);

afterAll(async () => {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  await client.end();
});
