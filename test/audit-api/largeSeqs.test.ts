import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditSchema, type AuditContext } from '../../resolvers/audit/index.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { AuditService } from '../../src/audit-api/auditService.js';
import { readVocabulary } from '../../src/audit-api/vocabulary.js';
import { AccessLog } from '../../src/audit/accessLog.js';
import { signCheckpoint, signPurge } from '../../src/audit/checkpoint.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { loadAuditApiConfig } from '../../src/config/auditApiConfig.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { generateTestKeys, makeEntry, SUBJECTS, type TestKeys } from '../audit/helpers.js';

/**
 * A national log passes GraphQL's 32-bit Int (2³¹ − 1) in seqs and counts within a few years
 * (about 10⁹ entries a year). The audit API answers them as SafeInt: here a chain that starts
 * after a purged prefix of three billion entries, read through the audit schema with the real
 * service and store.
 */
const START = 3_000_000_000;
const CHAIN = 'replica-big';

describe('the audit API with seqs beyond 32 bits', () => {
  let dir: string;
  let store: SqliteAccessLogStore;
  let keys: TestKeys;
  let context: AuditContext;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'large-seqs-'));
    store = await SqliteAccessLogStore.open({ file: path.join(dir, 'log.db') });
    keys = await generateTestKeys();
    // What a chain looks like after a lawful purge of its first three billion entries.
    const head = { chainId: CHAIN, seq: START, hash: 'a'.repeat(64) };
    const time = new Date().toISOString();
    await store.startChainAt(await signPurge({ chainId: CHAIN, uptoSeq: START, headHash: head.hash, purgedCount: START, time }, keys.signer), await signCheckpoint(head, START, time, keys.signer));
    const log = new AccessLog({ store, chainId: CHAIN, subjectKeys: keys.subjectKeys, signer: keys.signer, checkpointEvery: 2, commitTimeoutMs: 60_000 });
    await log.record([makeEntry({ subject: SUBJECTS[0], time }), makeEntry({ subject: SUBJECTS[0], time })]);
    await log.record([makeEntry({ subject: SUBJECTS[0], time })]);
    await log.close();

    const registry = readAgencyRegistry();
    const supergraph = loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl;
    const catalogue = readPersonalFieldCatalogue(supergraph);
    const vocabulary = readVocabulary(supergraph, catalogue, createAuditSchema());
    const config = loadAuditApiConfig({});
    const auditLog = new AccessLog({ store, chainId: 'audit-of-audit', subjectKeys: keys.subjectKeys, signer: keys.signer, commitTimeoutMs: 60_000 });
    const service = new AuditService({
      store,
      log: auditLog,
      subjectKeys: keys.subjectKeys,
      publicJwks: [keys.publicJwk],
      registry,
      catalogue: () => catalogue,
      vocabulary: () => vocabulary,
      timeZone: 'Europe/Stockholm',
      confidentialityRules: () => [],
      anomalies: config.anomalies,
    });
    const agency = registry.byId('imy') ?? registry.agencies[0]!;
    context = {
      caller: { agency, role: 'SUPERVISOR', official: 'inspector-1', officialName: 'Inspektör', caseId: 'IMY-2026-1', requestId: 'req-large-seqs' },
      service,
      registry,
      vocabulary,
      timeZone: 'Europe/Stockholm',
    };
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (source: string, variableValues?: Record<string, unknown>) => graphql({ schema: createAuditSchema(), source, contextValue: context, ...(variableValues ? { variableValues } : {}) });

  it('answers entries, their seqs and the chain verification', async () => {
    const result = await run(`{
      entries(filter: { clientAgency: "forsakringskassan" }) { totalCount entries { id seq } }
      verification { ok chains { chainId firstSeq headSeq entries } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({
      entries: { totalCount: 3, entries: [{ id: `${CHAIN}:${START + 1}`, seq: START + 1 }, { seq: START + 2 }, { seq: START + 3 }] },
      verification: { ok: true, chains: expect.arrayContaining([{ chainId: CHAIN, firstSeq: START + 1, headSeq: START + 3, entries: 3 }]) },
    });
  });

  it('takes a checkpoint size beyond 32 bits as input, and refuses one beyond 2⁵³', async () => {
    const query = `query ($since: [CheckpointSizeInput!]) { citizenReport(personnummer: "${SUBJECTS[0]}", since: $since) { reads { entry { seq } } } }`;
    const accepted = await run(query, { since: [{ chainId: CHAIN, size: START }] });
    expect(accepted.errors).toBeUndefined();
    expect((accepted.data as { citizenReport: { reads: Array<{ entry: { seq: number } }> } }).citizenReport.reads.map((read) => read.entry.seq)).toEqual([START + 1, START + 2, START + 3]);
    const refused = await run(query, { since: [{ chainId: CHAIN, size: 2 ** 53 }] });
    expect(refused.errors?.[0]?.message).toMatch(/SafeInt/);
  });
});
