import Database from 'better-sqlite3';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { certificateAgent, DEV_OPERATOR, get } from '../support/certificateAgent.js';
import { sample } from '../support/prometheusText.js';
import { startStack, type Replica, type Stack } from '../support/stack.js';
import { auditClient } from '../audit-api/auditClient.js';

/**
 * The audit console's full verification of the log (keptLogVerification.ts) finding a changed log
 * is an incident: the operator hears of it in the process log and /metrics, not only an officer
 * who happens to look at the badge. A gateway assembled as `npm start` assembles it
 * (loadGatewayDependencies + createGateway), with its own log; waits are on conditions only.
 */

const QUERY = `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } benefits { benefit } } }`;
const BADGE = `{ verification { ok refreshing } }`;

describe("a log the console's verification finds changed reaches the process log and metrics", () => {
  let stack: Stack;
  let replica: Replica;
  let operator: Agent;
  const lines: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ persons: 300, logLines: lines });
    // The shortest age allowed: every badge request after a second starts a new run.
    replica = await stack.replica({ AUDIT_VERIFY_MAX_AGE_MS: '1000' });
    operator = certificateAgent(stack.certsDir, 'officials', DEV_OPERATOR);
  });

  afterAll(async () => {
    await operator?.close();
    await stack?.close();
  });

  it('logs the broken chain once as an error, by chain id only, and sets the gauge to 1', async () => {
    const subject = stack.sample.withBenefits;
    const client = stack.client('malmo-stad', { official: 'lv-1', purpose: 'CASE_HANDLING', caseId: 'LOGVERIFY-1', subjects: [subject] }, replica.gateway.url);
    expect((await client.query(QUERY, { p: subject })).status).toBe(200);
    const officer = auditClient({ ...stack, gateway: replica.gateway } as Stack, { official: 'imy-insp-1' });
    const log = replica.deps.openedAccessLog;
    const chain = log.config.chainId;
    try {
      const first = await officer.graphql<{ verification: { ok: boolean } }>(BADGE);
      expect(first.data?.verification.ok).toBe(true);
      const before = (await get(replica.gateway.url, '/metrics', operator)).text;
      expect(sample(before, 'gateway_access_log_verification_runs_total', { outcome: 'ok' })).toBe(1);
      expect(sample(before, 'gateway_access_log_broken')).toBe(0);

      const record = (await log.store.readRecords(chain, 1, 100)).find((r) => r.header.clientAgencyId === 'malmo-stad')!;
      const db = new Database(log.config.sqliteFile);
      try {
        // An insider rewrites which agency read the data.
        db.prepare(`UPDATE log_records SET body = replace(body, '"malmo-stad"', '"skatteverket"') WHERE chain_id = ? AND last_seq = ?`).run(chain, record.lastSeq);
      } finally {
        db.close();
      }
      const broken = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['event'] === 'access-log-broken');
      // Each request past the age starts a run in the background; ask until one has found it.
      await vi.waitFor(
        async () => {
          await officer.graphql(BADGE);
          expect(broken()).toHaveLength(1);
        },
        { timeout: 60_000, interval: 250 },
      );
      expect(broken()[0]).toMatchObject({ level: 'error', chains: [chain] });
      const metrics = (await get(replica.gateway.url, '/metrics', operator)).text;
      expect(sample(metrics, 'gateway_access_log_broken')).toBe(1);
      expect(sample(metrics, 'gateway_access_log_verification_runs_total', { outcome: 'broken' })).toBeGreaterThanOrEqual(1);
      expect(sample(metrics, 'gateway_access_log_verification_runs_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);

      // Later runs find the same break: counted, not logged again.
      const runs = sample(metrics, 'gateway_access_log_verification_runs_total', { outcome: 'broken' })!;
      await vi.waitFor(
        async () => {
          await officer.graphql(BADGE);
          expect(sample((await get(replica.gateway.url, '/metrics', operator)).text, 'gateway_access_log_verification_runs_total', { outcome: 'broken' })).toBeGreaterThan(runs);
        },
        { timeout: 60_000, interval: 250 },
      );
      expect(broken()).toHaveLength(1);
      // Nothing about the person read.
      for (const line of lines) expect(line).not.toContain(subject);
    } finally {
      officer.close();
    }
  });
});
