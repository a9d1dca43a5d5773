import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditRoute } from '../../src/audit-api/auditRoutes.js';
import type { LogVerificationEvent } from '../../src/audit-api/keptLogVerification.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { loadAuditApiConfig } from '../../src/config/auditApiConfig.js';
import { witnessVerifiers } from '../../src/config/transparencyConfig.js';
import type { RunningGateway } from '../../src/gatewayDependencies.js';
import { officerAudience } from '../../src/identity/index.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient } from './auditClient.js';

/**
 * The badge's verification (`verification { … transparency { … } }`) reads every record of the
 * log, so the audit API keeps it: one run at a time, reused while younger than
 * AUDIT_VERIFY_MAX_AGE_MS, then redone while the older result is served marked `refreshing`.
 * A gateway over the stack's log whose audit API has an injected clock and observer: runs are
 * counted by the observer's events, ages by the clock, never by timing.
 */

const QUERY = `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } benefits { benefit } } }`;
const BADGE = `{ verification { ok verifiedAt refreshing chains { chainId } transparency { ok trees { chainId ok problem verifiedAt verifiedSize checkpointSize } } } }`;
const MAX_AGE_MS = 60_000;

interface BadgeAnswer {
  verification: {
    ok: boolean;
    verifiedAt: string;
    refreshing: boolean;
    transparency: { ok: boolean; trees: { chainId: string; ok: boolean; problem: string | null; verifiedAt: string; verifiedSize: number | null; checkpointSize: number | null }[] };
  };
}

let stack: Stack;
let gateway: RunningGateway;
/** The audit API's clock: frozen, moved only by the test. */
let clock = 0;
const events: LogVerificationEvent[] = [];
/** While set, a run waits at its start until it resolves. */
let gate: Promise<void> | null = null;
let releaseGate: () => void = () => undefined;

/** Holds the next run at its start until openGate (also called after each test, so a failing test never leaves requests hanging). */
function closeGate(): void {
  gate = new Promise((resolve) => {
    releaseGate = resolve;
  });
}

function openGate(): void {
  releaseGate();
  gate = null;
}
const runs = () => events.filter((event) => event.kind === 'started').length;
const finished = () => events.filter((event) => event.kind === 'finished').length;

beforeAll(async () => {
  stack = await startStack({ persons: 300 });
  clock = Date.now();
  const deps = stack.deps;
  const opened = deps.openedAccessLog;
  const config = loadAuditApiConfig({ AUDIT_VERIFY_MAX_AGE_MS: String(MAX_AGE_MS) });
  gateway = await stack.startGateway(
    {},
    {
      routes: [
        createAuditRoute({
          registry: deps.registry,
          trust: deps.trust,
          officials: deps.officials,
          signingKey: deps.signingKey,
          replayCache: deps.replayCache,
          audience: officerAudience(deps.tokenAudience),
          store: opened.store,
          accessLog: opened.accessLog,
          subjectKeys: opened.subjectKeys,
          publicJwks: [opened.publicJwk],
          transparency: { signer: opened.treeSigner, witnesses: witnessVerifiers(opened.transparency.witnesses), quorum: opened.transparency.quorum },
          config,
          supergraphSdl: loadSupergraphSdl(config.supergraphPath).sdl,
          now: () => new Date(clock),
          onLogVerification: async (event) => {
            events.push(event);
            if (event.kind === 'started' && gate) await gate;
          },
        }),
      ],
    },
  );
  // Reads through the stack's gateway, then a tree head that covers them.
  const subject = stack.sample.withBenefits;
  const client = stack.client('malmo-stad', { official: 'tjm-91', purpose: 'CASE_HANDLING', caseId: 'SOC-2026-91', subjects: [subject] });
  for (let i = 0; i < 3; i += 1) expect((await client.query(QUERY, { p: subject })).status).toBe(200);
  const { records } = await opened.store.lastHead(opened.config.chainId);
  await vi.waitFor(
    async () => {
      const [head] = await opened.store.listTreeHeads(opened.config.chainId, 1);
      expect(head?.size ?? 0).toBeGreaterThanOrEqual(records);
    },
    { timeout: 60_000, interval: 100 },
  );
});

afterEach(() => openGate());

afterAll(async () => {
  await stack?.close();
});

function api() {
  return auditClient({ ...stack, gateway } as Stack, { official: 'imy-insp-1' });
}

async function badge(client: ReturnType<typeof api>): Promise<BadgeAnswer['verification']> {
  const answer = await client.graphql<BadgeAnswer>(BADGE);
  expect(answer.errors).toBeUndefined();
  return answer.data!.verification;
}

describe('the badge verification is kept: full, one run at a time, redone after its maximum age', () => {
  it('two concurrent requests share one run, which covers the tree up to its newest checkpoint', async () => {
    const first = api();
    const second = api();
    try {
      closeGate();
      const a = badge(first);
      await vi.waitFor(() => expect(runs()).toBe(1), { timeout: 30_000, interval: 20 });
      // The first run is held at its start: the second request finds it running and joins it.
      const b = badge(second);
      await vi.waitFor(() => expect(events.filter((event) => event.kind === 'joined')).toHaveLength(1), { timeout: 30_000, interval: 20 });
      openGate();
      const [answerA, answerB] = await Promise.all([a, b]);
      expect(runs()).toBe(1);
      expect(answerB).toEqual(answerA);
      expect(answerA).toMatchObject({ ok: true, refreshing: false, verifiedAt: new Date(clock).toISOString() });
      const log = stack.deps.openedAccessLog;
      const [head] = await log.store.listTreeHeads(log.config.chainId, 1);
      expect(answerA.transparency.trees).toEqual([
        { chainId: log.config.chainId, ok: true, problem: null, verifiedAt: new Date(clock).toISOString(), verifiedSize: head!.size, checkpointSize: head!.size },
      ]);
    } finally {
      first.close();
      second.close();
    }
  });

  it('a kept result is reused within the maximum age; after it, served as refreshing while one new run replaces it', async () => {
    const client = api();
    try {
      const kept = await badge(client);
      const startedAt = clock;
      clock += MAX_AGE_MS - 1;
      expect(await badge(client)).toEqual(kept);
      expect(runs()).toBe(1);

      clock = startedAt + MAX_AGE_MS;
      // Hold the new run so that the next request, too, is served the kept result without a second run.
      closeGate();
      expect(await badge(client)).toEqual({ ...kept, refreshing: true });
      await vi.waitFor(() => expect(runs()).toBe(2), { timeout: 30_000, interval: 20 });
      expect(await badge(client)).toEqual({ ...kept, refreshing: true });
      expect(runs()).toBe(2);
      openGate();
      await vi.waitFor(() => expect(finished()).toBe(2), { timeout: 30_000, interval: 20 });

      const renewed = await badge(client);
      expect(renewed).toMatchObject({ ok: true, refreshing: false, verifiedAt: new Date(clock).toISOString() });
      expect(renewed.transparency.trees[0]).toMatchObject({ ok: true, verifiedAt: new Date(clock).toISOString() });
      expect(runs()).toBe(2);
    } finally {
      client.close();
    }
  });

  it('a tampered record makes the next run red, and it stays red with its reason until a run passes', async () => {
    const client = api();
    const log = stack.deps.openedAccessLog;
    try {
      const before = await badge(client);
      expect(before.transparency.ok).toBe(true);
      const record = (await log.store.readRecords(log.config.chainId, 1, 100)).find((r) => r.header.clientAgencyId === 'malmo-stad')!;
      const db = new Database(log.config.sqliteFile);
      try {
        // An insider rewrites which agency read the data in one of the reads.
        db.prepare(`UPDATE log_records SET body = replace(body, '"${record.header.clientAgencyId}"', '"skatteverket"') WHERE chain_id = ? AND last_seq = ?`).run(log.config.chainId, record.lastSeq);
      } finally {
        db.close();
      }
      // Within the age the kept (green) result stands: that is what it says it is, with its time.
      expect(await badge(client)).toEqual(before);

      clock += MAX_AGE_MS;
      const runsBefore = finished();
      expect(await badge(client)).toEqual({ ...before, refreshing: true });
      await vi.waitFor(() => expect(finished()).toBe(runsBefore + 1), { timeout: 30_000, interval: 20 });
      expect(events.at(-1)).toMatchObject({ kind: 'finished', ok: false });

      const red = await badge(client);
      expect(red).toMatchObject({ ok: false, refreshing: false, verifiedAt: new Date(clock).toISOString(), transparency: { ok: false } });
      expect(red.transparency.trees[0]).toMatchObject({ ok: false, verifiedSize: null, verifiedAt: new Date(clock).toISOString() });
      expect(red.transparency.trees[0]!.problem).toMatch(new RegExp(`^the tree's leaf ${record.index} is not the hash of the record ending at seq ${record.lastSeq}$`));
      // Still red within the age, with the same reason.
      clock += MAX_AGE_MS - 1;
      expect(await badge(client)).toEqual(red);
    } finally {
      client.close();
    }
  });
});

it('AUDIT_VERIFY_MAX_AGE_MS is validated at start', () => {
  expect(loadAuditApiConfig({}).verifyMaxAgeMs).toBe(300_000);
  expect(() => loadAuditApiConfig({ AUDIT_VERIFY_MAX_AGE_MS: 'soon' })).toThrow(/AUDIT_VERIFY_MAX_AGE_MS/);
  expect(() => loadAuditApiConfig({ AUDIT_VERIFY_MAX_AGE_MS: '10' })).toThrow(/AUDIT_VERIFY_MAX_AGE_MS: expected 1000\.\.86400000 ms/);
});
