import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import type { RunningGateway } from '../../src/createGateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

const GAP_MESSAGE = 'a refusal could not be logged; the refusal stands';

/**
 * Every refusal is logged before it is sent, and one rule (recordDenials) covers a log that
 * cannot take the entries, whatever refused: the refusal still stands (nothing was released, a
 * 403 or 429 must not become a 503), and the gap is reported to the operator in the process log
 * and in gateway_access_log_denial_gaps_total. The store fails for real: another connection
 * holds SQLite's write lock, and the writer gives up on it with SQLITE_BUSY.
 */
describe('a refusal the access log cannot take', () => {
  let stack: Stack;
  let gateway: RunningGateway;
  const processLog: string[] = [];
  const metrics = new GatewayMetrics();

  beforeAll(async () => {
    stack = await startStack({ persons: 200 });
    // One request per agency before the rate limit: the second request of the test is RATE_LIMITED.
    gateway = await stack.startGateway(
      { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AGENCY: '1/0.001', RATE_LIMIT_OFFICIAL: '10/0.001' },
      { metrics, logger: createLogger({ level: 'info', destination: { write: (line: string) => void processLog.push(line) } }) },
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('still refuses SUBJECT_NOT_IN_CASE and RATE_LIMITED, and reports each gap in the process log and a metric', async () => {
    const [subject, other] = stack.sample.persons;
    const client = stack.client('malmo-stad', { official: 'tjm-gap', purpose: 'CASE_HANDLING', caseId: 'GAP-1', subjects: [subject!] }, gateway.url);
    const query = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }';
    const held = new Database(stack.deps.openedAccessLog.config.sqliteFile);
    held.exec('BEGIN EXCLUSIVE');
    let notInCase: Awaited<ReturnType<typeof client.query>>;
    let rateLimited: Awaited<ReturnType<typeof client.query>>;
    try {
      notInCase = await client.query(query, { p: other });
      rateLimited = await client.query(query, { p: subject });
    } finally {
      held.exec('ROLLBACK');
      held.close();
    }
    expect(notInCase.status).toBe(403);
    expect(notInCase.data ?? null).toBeNull();
    expect(notInCase.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBJECT_NOT_IN_CASE']);
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.errors?.map((e) => e.extensions?.['code'])).toEqual(['RATE_LIMITED']);

    const { body } = await metrics.render();
    expect(body).toMatch(/^gateway_access_log_denial_gaps_total 2$/m);
    const gaps = processLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record['msg'] === GAP_MESSAGE);
    expect(gaps).toHaveLength(2);
    for (const gap of gaps) expect(gap).toMatchObject({ level: 'warn', requestId: expect.any(String) });
    // The gap names the request, never the case's subjects or the number asked about.
    for (const person of [subject!, other!]) expect(processLog.join('')).not.toContain(person.replace(/\D/g, '').slice(2));
  });
});
