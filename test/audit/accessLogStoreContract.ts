import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessLog, type AccessLogOptions } from '../../src/audit/accessLog.js';
import { signCheckpoint, signPurge } from '../../src/audit/checkpoint.js';
import type { StoredEntry } from '../../src/audit/entry.js';
import { chainRecords, genesisHead, recordHash } from '../../src/audit/hashChain.js';
import { draftRecords, RECORD_FORMAT, RECORD_FORMAT_V2, recordBody, recordBodyInV2, type StoredRecord } from '../../src/audit/record.js';
import { migrateToRecords } from '../../src/audit/migrateFormat.js';
import { createLegacyTables, legacyTables, purgeLegacyChain, writeLegacyChain } from './fixtures/legacyFormat.js';
import { executePurge, planPurge, type RetentionPolicy } from '../../src/audit/retention.js';
import { COUNT_DIMENSIONS, type AccessLogFilter, type CountDimension, type StoredTreeHead } from '../../src/audit/store/AccessLogStore.js';
import { decryptSubject, protectSubject, subjectHmac } from '../../src/audit/subjectProtection.js';
import { verifyAccessLog, verifyTree } from '../../src/audit/verify.js';
import { growTree, proveConsistency, proveInclusion, recordLeafHash, storedRoot } from '../../src/audit/logTree.js';
import { parseCheckpoint } from '../../src/transparency/checkpoint.js';
import { rootFromLeaves, verifyConsistency, verifyInclusion } from '../../src/transparency/merkle.js';
import { addSignatures, generateSeed, noteSigner, openNote, parseNote, SIG_COSIGNATURE_V1, SIG_ED25519 } from '../../src/transparency/note.js';
import { GatewayError } from '../../src/errors/index.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { countingStore, delayedStore, expireCommitBound, generateTestKeys, makeEntry, sortedByOrder, SUBJECTS, toUnchainedEntry, type TestKeys } from './helpers.js';
import type { StoreHarness } from './harness/types.js';

const sql = (value: string | number): string => (typeof value === 'number' ? String(value) : `'${value.replace(/'/g, "''")}'`);

const CASE_HANDLING_ONLY: RetentionPolicy = { defaultDays: 30, byPurpose: new Map() };
const OLD = '2020-02-01T08:00:00.000Z';

/**
 * The one specification of an AccessLogStore together with the AccessLog writer over it.
 * Each backend runs it against a real database, through a harness that also gives raw SQL
 * access: the tamper tests act as someone with write access to the database.
 */
export function describeAccessLogStoreContract(backend: string, createHarness: () => Promise<StoreHarness>): void {
  describe(`access log on ${backend}`, () => {
    let keys: TestKeys;
    let h: StoreHarness;
    let logs: AccessLog[] = [];

    beforeAll(async () => {
      keys = await generateTestKeys();
    });
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      for (const log of logs) await log.close().catch(() => undefined);
      logs = [];
      await h.cleanup();
    });

    function openLog(options: Partial<AccessLogOptions> = {}): AccessLog {
      const log = new AccessLog({
        store: h.store,
        chainId: 'replica-a',
        subjectKeys: keys.subjectKeys,
        signer: keys.signer,
        checkpointEvery: 5,
        checkpointIntervalMs: 3_600_000,
        // A bound for commits that must succeed: far beyond any machine; the outage tests expire theirs on a fake clock.
        commitTimeoutMs: 60_000,
        ...options,
      });
      logs.push(log);
      return log;
    }

    const verify = () => verifyAccessLog(h.store, [keys.publicJwk]);

    async function recordOneByOne(log: AccessLog, count: number, entry: (i: number) => Parameters<typeof makeEntry>[0] = () => ({})): Promise<void> {
      for (let i = 1; i <= count; i++) await log.record([makeEntry(entry(i))]);
    }

    /** 12 entries in chain replica-a, checkpoints at 5 and 10, and (after close) at 12. */
    async function twelveEntries(options: { close?: boolean } = {}): Promise<AccessLog> {
      const log = openLog();
      await recordOneByOne(log, 12, (i) => ({ requestId: `r${i}` }));
      if (options.close ?? true) await log.close();
      return log;
    }

    describe('append and read', () => {
      it('stores text with tabs, line breaks, backslashes and non-ASCII exactly, and the chain still verifies', async () => {
        const log = openLog();
        const awkward = { legalBasis: 'SFS 2001:454\t2 kap.\n1 § \\N \\. \r åäö', official: 'off\\icial\t1', operationName: null, caseId: 'ärende\n7' };
        await log.record([makeEntry(awkward), makeEntry({ ...awkward, outcome: 'denied', outcomeCode: 'NO_AGREEMENT' })]);
        const rows = await h.store.readChain('replica-a', 1, 10);
        expect(rows).toHaveLength(2);
        for (const row of rows) expect(row).toMatchObject({ legalBasis: awkward.legalBasis, official: awkward.official, operationName: null, caseId: awkward.caseId });
        expect(rows[1]).toMatchObject({ outcome: 'denied', outcomeCode: 'NO_AGREEMENT' });
        await log.close();
        expect((await verify()).ok).toBe(true);
      });

      it('appends entries in seq order per chain and reads them back', async () => {
        const a = openLog({ chainId: 'replica-a' });
        const b = openLog({ chainId: 'replica-b' });
        const first = makeEntry();
        expect(await a.record([first, makeEntry({ subject: SUBJECTS[1] })])).toEqual({ chainId: 'replica-a', firstSeq: 1, lastSeq: 2 });
        expect(await b.record([makeEntry()])).toEqual({ chainId: 'replica-b', firstSeq: 1, lastSeq: 1 });
        await a.record([makeEntry({ kind: 'audit-query', subject: null, field: 'Query.accessLog' })]);

        const rows = await h.store.readChain('replica-a', 1, 100);
        expect(rows.map((row) => row.seq)).toEqual([1, 2, 3]);
        const records = await h.store.readRecords('replica-a', 1, 100);
        expect(records.map((record) => [record.index, record.firstSeq, record.lastSeq])).toEqual([
          [0, 1, 1],
          [1, 2, 2],
          [2, 3, 3],
        ]);
        expect(records[1]!.prevHash).toBe(records[0]!.hash);
        expect(records[2]!.prevHash).toBe(records[1]!.hash);
        expect(rows[0]).toMatchObject({
          chainId: 'replica-a',
          kind: 'access',
          time: first.time,
          requestId: first.requestId,
          clientAgencyOrgNumber: '202100-5521',
          clientAgencyId: 'forsakringskassan',
          official: 'official-1',
          purpose: 'CASE_HANDLING',
          legalBasis: first.legalBasis,
          processingRegisterRecordId: 'FK-REG-17',
          processingRegisterVersion: '3',
          caseId: 'case-1',
          subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[0]),
          field: 'Person.income',
          owningAgency: 'skatteverket',
          outcome: 'released',
          outcomeCode: null,
          operationName: 'PersonIncome',
          documentHash: first.documentHash,
        });
        expect(decryptSubject(keys.subjectKeys, rows[1]!.subjectEnc!, rows[1]!.subjectHmac!)).toBe(SUBJECTS[1]);
        expect(rows[2]).toMatchObject({ kind: 'audit-query', subjectEnc: null, subjectHmac: null });
        expect(JSON.stringify(rows)).not.toContain(SUBJECTS[0]);

        expect(await h.store.readChain('replica-a', 2, 1)).toEqual([rows[1]]);
        expect(await h.store.lastHead('replica-a')).toEqual({ chainId: 'replica-a', seq: 3, hash: records[2]!.hash, records: 3 });
        expect(await h.store.lastHead('unknown')).toEqual({ chainId: 'unknown', seq: 0, hash: '0'.repeat(64), records: 0 });
        expect(await h.store.listChains()).toEqual(['replica-a', 'replica-b']);
        expect((await verify()).ok).toBe(true);
      });

      it('stores one record per request: the entries of a call that share a request header share a record, each keeping its seq', async () => {
        const log = openLog();
        const request = { requestId: 'household-1', time: '2025-01-15T10:00:00.000Z' };
        const fields = ['Person.income', 'Person.address', 'Person.name'];
        const receipt = await log.record([
          ...fields.map((field) => makeEntry({ ...request, field, subject: SUBJECTS[0] })),
          ...fields.map((field) => makeEntry({ ...request, field, subject: SUBJECTS[1], outcome: 'withheld', outcomeCode: 'PROTECTED_IDENTITY' })),
          makeEntry({ requestId: 'another' }),
        ]);
        expect(receipt).toEqual({ chainId: 'replica-a', firstSeq: 1, lastSeq: 7 });
        const records = await h.store.readRecords('replica-a', 1, 10);
        expect(records.map((record) => [record.index, record.firstSeq, record.lastSeq])).toEqual([
          [0, 1, 6],
          [1, 7, 7],
        ]);
        const rows = await h.store.readChain('replica-a', 1, 10);
        expect(rows.map((row) => [row.seq, row.field, row.outcome])).toEqual([
          [1, 'Person.income', 'released'],
          [2, 'Person.address', 'released'],
          [3, 'Person.name', 'released'],
          [4, 'Person.income', 'withheld'],
          [5, 'Person.address', 'withheld'],
          [6, 'Person.name', 'withheld'],
          [7, 'Person.income', 'released'],
        ]);
        expect(await h.store.readChain('replica-a', 5, 2)).toEqual(rows.slice(4, 6));
        // The narrow subject index finds the record of each person, and the query the person's own entries only.
        const second = await h.store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) }, null, 100);
        expect(second.entries.map((row) => row.seq)).toEqual([4, 5, 6]);
        const page = await h.store.query({ field: 'Person.address' }, null, 1);
        expect(page.entries.map((row) => row.seq)).toEqual([2]);
        expect((await h.store.query({ field: 'Person.address' }, page.nextCursor, 10)).entries.map((row) => row.seq)).toEqual([5]);
        expect(await h.store.countBy('outcome', {})).toEqual([
          { key: 'released', count: 4 },
          { key: 'withheld', count: 3 },
        ]);
        expect(await h.store.countBy('clientAgency', {})).toEqual([{ key: 'forsakringskassan', count: 7 }]);
        await log.close();
        expect((await verify()).chains[0]).toMatchObject({ ok: true, headSeq: 7, entries: 7 });
      });

      it('commits concurrent record() calls together: fewer transactions than calls', async () => {
        const counted = countingStore(h.store);
        const log = openLog({ store: counted.store, checkpointEvery: 50 });
        const calls: Array<ReturnType<AccessLog['record']>> = [];
        for (let wave = 0; wave < 10; wave++) {
          for (let i = 0; i < 20; i++) calls.push(log.record([makeEntry()]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        const receipts = await Promise.all(calls);
        expect(counted.appends()).toBeLessThan(calls.length);
        expect(receipts.map((receipt) => receipt.firstSeq).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const report = await verify();
        expect(report.ok).toBe(true);
        expect(report.chains[0]).toMatchObject({ headSeq: 200, entries: 200 });
      });

      it('gives each call of a batch its own seq range, in call order', async () => {
        const log = openLog();
        const [x, y] = await Promise.all([log.record([makeEntry(), makeEntry()]), log.record([makeEntry()])]);
        expect(x).toEqual({ chainId: 'replica-a', firstSeq: 1, lastSeq: 2 });
        expect(y).toEqual({ chainId: 'replica-a', firstSeq: 3, lastSeq: 3 });
      });

      it('shares a deep queue out across the commits in flight, and commits a shallow one whole', async () => {
        const commits: number[] = [];
        const log = openLog({ checkpointEvery: 1000, splitBatchesAbove: 50, onEvent: (event) => void (event.type === 'commit' && commits.push(event.entries)) });
        const call = (requestId: string) => log.record(Array.from({ length: 5 }, () => makeEntry({ requestId })));
        // 40 calls of 5 made in one tick: the writer finds 200 entries waiting and two commit slots free.
        const deep = await Promise.all(Array.from({ length: 40 }, (_, i) => call(`deep-${i}`)));
        expect(commits).toEqual([100, 100]);
        expect(deep.map((receipt) => receipt.firstSeq)).toEqual(Array.from({ length: 40 }, (_, i) => i * 5 + 1));
        // 50 entries are not above the bound: one commit.
        await Promise.all(Array.from({ length: 10 }, (_, i) => call(`shallow-${i}`)));
        expect(commits).toEqual([100, 100, 50]);
        await log.close();
        expect((await verify()).chains[0]).toMatchObject({ ok: true, headSeq: 250, entries: 250 });
      });

      it('rejects a malformed entry without recording any entry of that call', async () => {
        const log = openLog();
        await expect(log.record([makeEntry(), makeEntry({ outcome: 'denied', outcomeCode: null })])).rejects.toMatchObject({ property: 'outcomeCode' });
        await log.record([makeEntry()]);
        expect((await h.store.lastHead('replica-a')).seq).toBe(1);
      });

      it('never forks a chain when two processes write the same chainId', async () => {
        // Two more connections, like two gateway processes (the harness's own store keeps its short busy timeout for the outage tests).
        const first = openLog({ store: await h.openAnother(), chainId: 'shared' });
        const second = openLog({ store: await h.openAnother(), chainId: 'shared' });
        const calls: Array<ReturnType<AccessLog['record']>> = [];
        for (let wave = 0; wave < 8; wave++) {
          for (let i = 0; i < 4; i++) calls.push(first.record([makeEntry()]), second.record([makeEntry()]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        const receipts = await Promise.all(calls);
        expect(new Set(receipts.map((receipt) => receipt.firstSeq)).size).toBe(64);
        await first.close();
        await second.close();
        const report = await verify();
        expect(report.firstBreak).toBeNull();
        expect(report.chains[0]).toMatchObject({ chainId: 'shared', headSeq: 64 });
      });
    });

    describe('Merkle tree and signed tree heads', () => {
      const treeSigner = noteSigner('access-log.test.example', SIG_ED25519, generateSeed());

      async function allRecords(chainId: string): Promise<StoredRecord[]> {
        return h.store.readRecords(chainId, 1, 10_000);
      }

      it('keeps the tree in step with the chain: its root is the RFC 9162 root of every entry, and each entry proves into every later signed head', async () => {
        // An interval far beyond the test: the first commit signs, then only close() does.
        const log = openLog({ treeSigner, treeHeadIntervalMs: 3_600_000 });
        await log.record([makeEntry(), makeEntry()]);
        await Promise.all([log.record([makeEntry()]), log.record([makeEntry(), makeEntry()])]);
        await recordOneByOne(log, 6);
        await log.close();
        const rows = await allRecords('replica-a');
        // Each makeEntry is a request of its own: one record per entry here.
        expect(rows).toHaveLength(11);
        expect((await storedRoot(h.store, 'replica-a', rows.length)).equals(rootFromLeaves(rows.map(recordLeafHash)))).toBe(true);
        const heads = await h.store.listTreeHeads('replica-a', 10);
        expect(heads.map((head) => head.size)).toEqual([11, 2]);
        for (const head of heads) {
          const checkpoint = parseCheckpoint(openNote(head.note, [treeSigner.verifier]).text);
          expect(checkpoint).toMatchObject({ origin: 'access-log.test.example/replica-a', size: head.size });
          expect(checkpoint.rootHash.toString('base64')).toBe(head.rootHash);
          for (const row of rows.filter((r) => r.index < head.size)) {
            const proof = await proveInclusion(h.store, 'replica-a', row.index, head.size);
            expect(verifyInclusion(recordLeafHash(row), row.index, head.size, proof, checkpoint.rootHash)).toBe(true);
          }
        }
        const [newer, older] = heads as [StoredTreeHead, StoredTreeHead];
        const proof = await proveConsistency(h.store, 'replica-a', older.size, newer.size);
        expect(verifyConsistency(older.size, newer.size, Buffer.from(older.rootHash, 'base64'), Buffer.from(newer.rootHash, 'base64'), proof)).toBe(true);
      });

      it('signs a tree head on its own when entries wait longer than the interval', async () => {
        const log = openLog({ treeSigner, treeHeadIntervalMs: 20 });
        await log.record([makeEntry()]);
        await log.record([makeEntry()]);
        await vi.waitFor(async () => expect((await h.store.listTreeHeads('replica-a', 1))[0]?.size).toBe(2), { timeout: 10_000 });
      });

      it('only lets signature lines be added to a stored tree head', async () => {
        const log = openLog({ treeSigner, treeHeadIntervalMs: 3_600_000 });
        await log.record([makeEntry()]);
        const [head] = await h.store.listTreeHeads('replica-a', 1);
        await expect(h.store.updateTreeHeadNote('replica-a', 1, head!.note.replace('\n1\n', '\n2\n'))).rejects.toThrow(/does not extend/);
        const witness = noteSigner('witness.test.example/w1', SIG_COSIGNATURE_V1, generateSeed());
        const cosigned = addSignatures(head!.note, [{ name: witness.name, keyId: witness.keyId, signature: witness.sign(parseNote(head!.note).text) }]);
        await h.store.updateTreeHeadNote('replica-a', 1, cosigned);
        expect(openNote((await h.store.treeHead('replica-a', 1))!.note, [treeSigner.verifier, witness.verifier]).verifiedBy).toHaveLength(2);
      });

      it('rebuilds the tree of a chain whose tree nodes are missing, then carries on', async () => {
        const before = openLog({ chainId: 'legacy' });
        await recordOneByOne(before, 7);
        await before.close();
        await h.exec(`DELETE FROM ${h.tables.treeNodes} WHERE chain_id = 'legacy'`);
        const after = openLog({ chainId: 'legacy', treeSigner, treeHeadIntervalMs: 3_600_000 });
        await recordOneByOne(after, 3);
        await after.close();
        const rows = await allRecords('legacy');
        expect((await storedRoot(h.store, 'legacy', 10)).equals(rootFromLeaves(rows.map(recordLeafHash)))).toBe(true);
      });

      it('two writers on one chain keep one tree', async () => {
        const first = openLog({ store: await h.openAnother(), chainId: 'shared' });
        const second = openLog({ store: await h.openAnother(), chainId: 'shared' });
        const calls: Array<Promise<unknown>> = [];
        for (let wave = 0; wave < 6; wave++) {
          for (let i = 0; i < 3; i++) calls.push(first.record([makeEntry()]), second.record([makeEntry()]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await Promise.all(calls);
        await first.close();
        await second.close();
        const rows = await allRecords('shared');
        expect(rows).toHaveLength(36);
        expect((await storedRoot(h.store, 'shared', 36)).equals(rootFromLeaves(rows.map(recordLeafHash)))).toBe(true);
      });
    });

    describe('query and countBy', () => {
      const T = ['2025-03-01T09:00:00.000Z', '2025-03-01T09:00:00.000Z', '2025-03-01T12:30:00.000Z', '2025-03-02T08:15:00.000Z', '2025-03-03T23:59:59.999Z'];
      let all: StoredEntry[];

      beforeEach(async () => {
        const a = openLog({ chainId: 'replica-a' });
        const b = openLog({ chainId: 'replica-b' });
        for (let i = 0; i < 20; i++) {
          const log = i % 2 === 0 ? a : b;
          await log.record([
            makeEntry({
              time: T[i % T.length]!,
              clientAgency: i % 3 === 0 ? { organisationNumber: '202100-2981', id: 'csn' } : { organisationNumber: '202100-5521', id: 'forsakringskassan' },
              official: `official-${i % 4}`,
              purpose: i % 5 === 0 ? 'PAYMENT_CONTROL' : 'CASE_HANDLING',
              caseId: `case-${i % 3}`,
              subject: SUBJECTS[i % SUBJECTS.length]!,
              field: i % 2 === 0 ? 'Person.income' : 'Person.address',
              owningAgency: i % 4 === 0 ? 'forsakringskassan' : 'skatteverket',
              outcome: i % 7 === 0 ? 'denied' : i % 6 === 0 ? 'withheld' : 'released',
              outcomeCode: i % 7 === 0 ? 'PURPOSE_NOT_ALLOWED' : i % 6 === 0 ? 'PROTECTED_IDENTITY' : null,
              ...(i === 13 ? { kind: 'audit-query' as const } : {}),
            }),
          ]);
        }
        all = sortedByOrder([...(await h.store.readChain('replica-a', 1, 100)), ...(await h.store.readChain('replica-b', 1, 100))]);
      });

      async function queryAll(filter: AccessLogFilter, limit = 1000): Promise<StoredEntry[]> {
        const rows: StoredEntry[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<typeof h.store.query>> = await h.store.query(filter, cursor, limit);
          rows.push(...page.entries);
          cursor = page.nextCursor;
        } while (cursor !== null);
        return rows;
      }

      const FILTERS: ReadonlyArray<[string, () => AccessLogFilter, (entry: StoredEntry) => boolean]> = [
        ['subjectHmac', () => ({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) }), (e) => e.subjectHmac === subjectHmac(keys.subjectKeys, SUBJECTS[1])],
        ['clientAgency', () => ({ clientAgency: 'csn' }), (e) => e.clientAgencyId === 'csn'],
        ['owningAgency', () => ({ owningAgency: 'forsakringskassan' }), (e) => e.owningAgency === 'forsakringskassan'],
        ['official', () => ({ official: 'official-2' }), (e) => e.official === 'official-2'],
        ['purpose', () => ({ purpose: 'PAYMENT_CONTROL' }), (e) => e.purpose === 'PAYMENT_CONTROL'],
        ['caseId', () => ({ caseId: 'case-1' }), (e) => e.caseId === 'case-1'],
        ['field', () => ({ field: 'Person.address' }), (e) => e.field === 'Person.address'],
        ['outcome', () => ({ outcome: 'denied' }), (e) => e.outcome === 'denied'],
        ['kind', () => ({ kind: 'audit-query' }), (e) => e.kind === 'audit-query'],
        ['involvingAgency (client or owner)', () => ({ involvingAgency: 'forsakringskassan' }), (e) => e.clientAgencyId === 'forsakringskassan' || e.owningAgency === 'forsakringskassan'],
        [
          'involvingAgency with other filters',
          () => ({ involvingAgency: 'csn', purpose: 'CASE_HANDLING' }),
          (e) => (e.clientAgencyId === 'csn' || e.owningAgency === 'csn') && e.purpose === 'CASE_HANDLING',
        ],
        ['time range', () => ({ timeFrom: T[1]!, timeTo: T[3]! }), (e) => e.time >= T[1]! && e.time < T[3]!],
        ['time range with offset', () => ({ timeFrom: '2025-03-01T13:30:00+02:00' }), (e) => e.time >= '2025-03-01T11:30:00.000Z'],
        [
          'combined',
          () => ({ purpose: 'CASE_HANDLING', field: 'Person.income', outcome: 'released' }),
          (e) => e.purpose === 'CASE_HANDLING' && e.field === 'Person.income' && e.outcome === 'released',
        ],
      ];

      it.each(FILTERS)('filters by %s', async (_name, filter, predicate) => {
        const expected = all.filter(predicate);
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(all.length);
        expect(await queryAll(filter())).toEqual(expected);
      });

      it('orders by (time, chainId, seq) and pages with an opaque cursor', async () => {
        const first = await h.store.query({}, null, 3);
        expect(first.entries).toEqual(all.slice(0, 3));
        expect(first.nextCursor).toEqual(expect.any(String));
        expect(await queryAll({}, 3)).toEqual(all);
        expect(await queryAll({}, 20)).toEqual(all);
        const last = await h.store.query({}, null, 20);
        expect(last.nextCursor).toBeNull();
      });

      it('keeps pages stable while entries are appended', async () => {
        const page = await h.store.query({}, null, 7);
        const log = logs[0]!;
        await log.record([makeEntry({ time: '2025-04-01T00:00:00.000Z' })]);
        const rest = await h.store.query({}, page.nextCursor, 1000);
        const combined = [...page.entries, ...rest.entries];
        expect(combined.slice(0, all.length)).toEqual(all);
        expect(combined).toHaveLength(all.length + 1);
      });

      it('refuses a cursor it did not issue and a limit out of range', async () => {
        await expect(h.store.query({}, 'not-a-cursor', 10)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
        await expect(h.store.query({}, null, 0)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
        await expect(h.store.query({}, null, 1001)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
        await expect(h.store.query({ timeFrom: 'yesterday' }, null, 10)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      });

      it.each(COUNT_DIMENSIONS.map((dimension) => [dimension]))('counts by %s', async (dimension: CountDimension) => {
        const keyOf: Record<CountDimension, (e: StoredEntry) => string> = {
          clientAgency: (e) => e.clientAgencyId,
          owningAgency: (e) => e.owningAgency,
          official: (e) => e.official,
          purpose: (e) => e.purpose,
          caseId: (e) => e.caseId,
          field: (e) => e.field,
          outcome: (e) => e.outcome,
          kind: (e) => e.kind,
          day: (e) => e.time.slice(0, 10),
        };
        const counts = new Map<string, number>();
        for (const entry of all) counts.set(keyOf[dimension](entry), (counts.get(keyOf[dimension](entry)) ?? 0) + 1);
        const expected = [...counts].map(([key, count]) => ({ key, count })).sort((x, y) => y.count - x.count || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
        expect(await h.store.countBy(dimension, {})).toEqual(expected);
      });

      it('counts within a filter', async () => {
        const expected = all.filter((e) => e.clientAgencyId === 'csn' && e.outcome === 'released').length;
        expect(await h.store.countBy('clientAgency', { clientAgency: 'csn', outcome: 'released' })).toEqual([{ key: 'csn', count: expected }]);
      });
    });

    describe('checkpoints and verification', () => {
      it('signs a checkpoint every N entries and one at close, and the log verifies', async () => {
        await twelveEntries();
        const checkpoints = await h.store.listCheckpoints('replica-a');
        expect(checkpoints.map((c) => [c.seq, c.count])).toEqual([
          [5, 5],
          [10, 5],
          [12, 2],
        ]);
        const report = await verify();
        expect(report).toMatchObject({ ok: true, firstBreak: null });
        expect(report.chains[0]).toMatchObject({ chainId: 'replica-a', firstSeq: 1, headSeq: 12, entries: 12, checkpoints: 3, unanchoredEntries: 0 });
      });

      it('signs a timed checkpoint when entries wait longer than the interval', async () => {
        const log = openLog({ checkpointEvery: 1000, checkpointIntervalMs: 50 });
        await log.record([makeEntry(), makeEntry()]);
        await vi.waitFor(async () => expect((await h.store.lastCheckpoint('replica-a'))?.seq).toBe(2), { timeout: 30_000, interval: 20 });
      });

      it('names a changed entry: hash-mismatch at its seq', async () => {
        await twelveEntries();
        await h.exec(`UPDATE ${h.tables.records} SET body = replace(body, 'official-1', 'someone-else') WHERE chain_id = 'replica-a' AND last_seq = 7`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 7, kind: 'hash-mismatch' });
      });

      it('names a query column edited beside an untouched body: hash-mismatch at its seq', async () => {
        await twelveEntries();
        await h.exec(`UPDATE ${h.tables.records} SET official = 'someone-else' WHERE chain_id = 'replica-a' AND last_seq = 7`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 7, kind: 'hash-mismatch' });
      });

      it("names a record hidden from a person's report: its subject index row deleted is index-mismatch at its seq", async () => {
        await twelveEntries();
        await h.exec(`DELETE FROM ${h.tables.subjects} WHERE chain_id = 'replica-a' AND last_seq = 8`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 8, kind: 'index-mismatch' });
      });

      it('names a deleted entry: seq-gap at its seq', async () => {
        await twelveEntries();
        await h.exec(`DELETE FROM ${h.tables.records} WHERE chain_id = 'replica-a' AND last_seq = 7`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 7, kind: 'seq-gap' });
      });

      it('names reordered entries: prev-hash-mismatch at the first moved seq', async () => {
        await twelveEntries();
        const t = h.tables.records;
        const place = (seq: number) => `first_seq = ${seq}, last_seq = ${seq}`;
        await h.exec(`UPDATE ${t} SET ${place(-1)} WHERE chain_id = 'replica-a' AND last_seq = 7`);
        await h.exec(`UPDATE ${t} SET ${place(7)} WHERE chain_id = 'replica-a' AND last_seq = 8`);
        await h.exec(`UPDATE ${t} SET ${place(8)} WHERE chain_id = 'replica-a' AND last_seq = -1`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 7, kind: 'prev-hash-mismatch' });
      });

      it('catches a rewritten chain with recomputed hashes at the next checkpoint', async () => {
        await twelveEntries();
        const records = await h.store.readRecords('replica-a', 7, 100);
        let prevHash = (await h.store.readRecords('replica-a', 6, 1))[0]!.hash;
        for (const record of records) {
          const header = { ...record.header, official: record.firstSeq === 7 ? 'someone-else' : record.header.official };
          const body = recordBody(header, record.items);
          const hash = recordHash({ ...record, prevHash, body });
          await h.exec(
            `UPDATE ${h.tables.records} SET official = ${sql(header.official)}, body = ${sql(body)}, prev_hash = ${sql(prevHash)}, hash = ${sql(hash)} WHERE chain_id = 'replica-a' AND last_seq = ${record.lastSeq}`,
          );
          prevHash = hash;
        }
        await h.exec(`UPDATE ${h.tables.chains} SET head_hash = ${sql(prevHash)} WHERE chain_id = 'replica-a'`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 10, kind: 'checkpoint-mismatch' });
      });

      it('names a forged checkpoint', async () => {
        await twelveEntries();
        const attacker = await generateTestKeys();
        const real = (await h.store.listCheckpoints('replica-a')).find((c) => c.seq === 10)!;
        const forged = await signCheckpoint({ chainId: 'replica-a', seq: 10, hash: real.headHash }, real.count, real.time, { ...attacker.signer, kid: keys.signer.kid });
        await h.exec(`UPDATE ${h.tables.checkpoints} SET jws = ${sql(forged.jws)} WHERE chain_id = 'replica-a' AND seq = 10`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 10, kind: 'checkpoint-forged' });
      });

      it('names a checkpoint whose columns were edited under a valid signature', async () => {
        await twelveEntries();
        await h.exec(`UPDATE ${h.tables.checkpoints} SET head_hash = ${sql('f'.repeat(64))} WHERE chain_id = 'replica-a' AND seq = 5`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 5, kind: 'checkpoint-mismatch' });
      });

      it('names a deleted checkpoint by the count of the next one', async () => {
        await twelveEntries();
        await h.exec(`DELETE FROM ${h.tables.checkpoints} WHERE chain_id = 'replica-a' AND seq = 5`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 10, kind: 'checkpoint-mismatch' });
      });

      it('names a deleted tail: truncated after the last remaining entry', async () => {
        await twelveEntries();
        await h.exec(`DELETE FROM ${h.tables.records} WHERE chain_id = 'replica-a' AND last_seq > 10`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 11, kind: 'truncated' });
      });

      it('names a deleted prefix without a signed purge record: missing-anchor', async () => {
        await twelveEntries();
        await h.exec(`DELETE FROM ${h.tables.records} WHERE chain_id = 'replica-a' AND last_seq <= 5`);
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', seq: 1, kind: 'missing-anchor' });
      });
    });

    describe('retention and legal holds', () => {
      /** 12 old entries (checkpoints 5, 10), then 3 recent ones (checkpoint 15 at close). */
      async function oldThenRecent(old: (i: number) => Parameters<typeof makeEntry>[0] = () => ({})): Promise<void> {
        const log = openLog();
        await recordOneByOne(log, 12, (i) => ({ time: OLD, ...old(i) }));
        await recordOneByOne(log, 3, () => ({ time: new Date().toISOString() }));
        await log.close();
      }

      it('purges whole segments up to a checkpoint and the remainder still verifies', async () => {
        await oldThenRecent();
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        expect(plans).toEqual([
          {
            chainId: 'replica-a',
            segments: [expect.objectContaining({ fromSeq: 1, uptoSeq: 5 }), expect.objectContaining({ fromSeq: 6, uptoSeq: 10 })],
            stoppedAt: { seq: 13, reason: 'retention' },
          },
        ]);
        const results = await executePurge(h.store, plans, keys.signer, [keys.publicJwk], new Date());
        expect(results).toEqual([{ chainId: 'replica-a', purgedEntries: 10, segments: 2, refused: null }]);
        expect((await h.store.readChain('replica-a', 1, 100)).map((row) => row.seq)).toEqual([11, 12, 13, 14, 15]);
        expect((await h.store.listCheckpoints('replica-a')).map((c) => c.seq)).toEqual([10, 15]);
        const report = await verify();
        expect(report.firstBreak).toBeNull();
        expect(report.chains[0]).toMatchObject({ firstSeq: 11, headSeq: 15, entries: 5 });

        // The writer carries on after the purge, and a second purge finds nothing more.
        const log = openLog();
        await log.record([makeEntry()]);
        await log.close();
        expect((await verify()).ok).toBe(true);
        expect((await planPurge(h.store, CASE_HANDLING_ONLY, new Date()))[0]!.segments).toEqual([]);
      });

      it('removes the records slice by slice, and the writer appends between slices', async () => {
        await oldThenRecent();
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        const log = openLog();
        const slices: number[] = [];
        // Each append below must commit while the purge is under way: a purge that held the write
        // lock (SQLite) or the tables' lock (PostgreSQL) to its end would keep it waiting.
        const afterSlice = async (_chainId: string, entries: number) => {
          slices.push(entries);
          await log.record([makeEntry({ time: new Date().toISOString() })]);
        };
        const results = await executePurge(h.store, plans, keys.signer, [keys.publicJwk], new Date(), undefined, { sliceRecords: 3, afterSlice });
        await log.close();
        expect(results).toEqual([{ chainId: 'replica-a', purgedEntries: 10, segments: 2, refused: null }]);
        // One record per entry here: ten records in slices of three.
        expect(slices).toEqual([3, 3, 3, 1]);
        expect((await h.store.readChain('replica-a', 1, 100)).map((row) => row.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
        expect(await verify()).toMatchObject({ ok: true, firstBreak: null });
      });

      it('leaves its anchor when interrupted, verifies in between, and the next run removes what it left', async () => {
        await oldThenRecent();
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        const interrupted = executePurge(h.store, plans, keys.signer, [keys.publicJwk], new Date(), undefined, {
          sliceRecords: 4,
          afterSlice: () => {
            throw new Error('the purge process was stopped');
          },
        });
        await expect(interrupted).rejects.toThrow('the purge process was stopped');
        expect((await h.store.listPurges('replica-a')).map((purge) => purge.uptoSeq)).toEqual([5, 10]);
        // Records 5..10 are still stored, before the anchor: verification starts after it.
        expect((await h.store.readChain('replica-a', 1, 100)).map((row) => row.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        expect(await verify()).toMatchObject({ ok: true, firstBreak: null, chains: [expect.objectContaining({ firstSeq: 11, headSeq: 15 })] });

        // Nothing new to purge, yet the run finishes the interrupted one.
        const again = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        expect(again[0]!.segments).toEqual([]);
        expect(await executePurge(h.store, again, keys.signer, [keys.publicJwk], new Date())).toEqual([{ chainId: 'replica-a', purgedEntries: 6, segments: 0, refused: null }]);
        expect((await h.store.readChain('replica-a', 1, 100)).map((row) => row.seq)).toEqual([11, 12, 13, 14, 15]);
        expect(await verify()).toMatchObject({ ok: true, firstBreak: null });
      });

      it('stops before a segment with an entry under legal hold by case', async () => {
        await oldThenRecent((i) => (i === 7 ? { caseId: 'case-under-hold' } : {}));
        await h.store.addLegalHold({ caseId: 'case-under-hold', reason: 'JO-anmälan 2025/17' });
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        expect(plans[0]).toMatchObject({ segments: [{ fromSeq: 1, uptoSeq: 5 }], stoppedAt: { seq: 7, reason: 'legal-hold' } });
        await executePurge(h.store, plans, keys.signer, [keys.publicJwk], new Date());
        expect((await h.store.readChain('replica-a', 1, 1))[0]!.seq).toBe(6);
        expect((await verify()).ok).toBe(true);
      });

      it('stops before a segment with an entry under legal hold by subject', async () => {
        await oldThenRecent((i) => (i === 3 ? { subject: SUBJECTS[2] } : {}));
        const hold = await h.store.addLegalHold({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[2]) });
        expect(await h.store.listLegalHolds()).toEqual([{ id: hold.id, caseId: null, subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[2]), reason: null, createdAt: expect.any(String) }]);
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        expect(plans[0]).toMatchObject({ segments: [], stoppedAt: { seq: 3, reason: 'legal-hold' } });
      });

      it('keeps entries whose purpose has a longer retention', async () => {
        await oldThenRecent((i) => (i === 8 ? { purpose: 'PAYMENT_CONTROL' } : {}));
        const policy: RetentionPolicy = { defaultDays: 30, byPurpose: new Map([['PAYMENT_CONTROL', 36_500]]) };
        expect((await planPurge(h.store, policy, new Date()))[0]).toMatchObject({ segments: [{ uptoSeq: 5 }], stoppedAt: { seq: 8, reason: 'retention' } });
      });

      it('refuses to purge a chain that does not verify', async () => {
        await oldThenRecent();
        await h.exec(`UPDATE ${h.tables.records} SET body = replace(body, 'Person.income', 'Person.name') WHERE chain_id = 'replica-a' AND last_seq = 3`);
        const plans = await planPurge(h.store, CASE_HANDLING_ONLY, new Date());
        const [result] = await executePurge(h.store, plans, keys.signer, [keys.publicJwk], new Date());
        expect(result).toMatchObject({ purgedEntries: 0, refused: { firstBreak: { seq: 3, kind: 'hash-mismatch' } } });
        expect((await h.store.readChain('replica-a', 1, 1))[0]!.seq).toBe(1);
      });

      it('refuses a purge that does not end at a checkpoint', async () => {
        await oldThenRecent();
        const purge = await signPurge(
          { chainId: 'replica-a', uptoSeq: 7, headHash: (await h.store.readRecords('replica-a', 7, 1))[0]!.hash, purgedCount: 7, time: new Date().toISOString() },
          keys.signer,
        );
        await expect(h.store.purge([purge])).rejects.toMatchObject({ name: 'ChainStateError' });
      });

      it('names a purge record not signed by the gateway', async () => {
        await oldThenRecent();
        const attacker = await generateTestKeys();
        const checkpoint = (await h.store.listCheckpoints('replica-a')).find((c) => c.seq === 5)!;
        const forged = await signPurge(
          { chainId: 'replica-a', uptoSeq: 5, headHash: checkpoint.headHash, purgedCount: 5, time: new Date().toISOString() },
          { ...attacker.signer, kid: keys.signer.kid },
        );
        await h.exec(`DELETE FROM ${h.tables.records} WHERE chain_id = 'replica-a' AND last_seq <= 5`);
        await h.exec(
          `INSERT INTO ${h.tables.purges} (chain_id, upto_seq, head_hash, purged_count, time, jws) VALUES ('replica-a', 5, ${sql(forged.headHash)}, 5, ${sql(forged.time)}, ${sql(forged.jws)})`,
        );
        expect((await verify()).firstBreak).toMatchObject({ chainId: 'replica-a', kind: expect.stringMatching(/^(checkpoint-forged|missing-anchor)$/), seq: expect.any(Number) });
        expect((await verify()).firstBreak!.seq).toBeLessThanOrEqual(5);
      });
    });

    describe('store outage', () => {
      // Commits that must succeed get a bound no machine comes near; the one that must fail is
      // blocked for certain (a held lock, a held append) and its bound expired on a fake clock.
      const BOUND_MS = 60_000;

      it('rejects with ACCESS_LOG_UNAVAILABLE while writes are blocked, then recovers', async () => {
        const watched = delayedStore(h.store);
        const log = openLog({ store: watched.store, commitTimeoutMs: BOUND_MS, probeIntervalMs: 3_600_000 });
        await log.record([makeEntry()]);
        expect(log.isHealthy()).toBe(true);
        const block = await h.blockWrites();
        // SQLite gives up on the lock by itself (busy timeout); PostgreSQL waits until the bound expires.
        const outcome = await expireCommitBound(BOUND_MS, watched.appendStarted, () => log.record([makeEntry()]));
        expect(outcome.status).toBe('rejected');
        const error = outcome.status === 'rejected' ? outcome.reason : undefined;
        expect(error).toBeInstanceOf(GatewayError);
        expect(error).toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE', extensions: { code: 'ACCESS_LOG_UNAVAILABLE', http: { status: 503 } } });
        expect(log.isHealthy()).toBe(false);
        await block.release();
        await log.record([makeEntry()]);
        expect(log.isHealthy()).toBe(true);
        await log.close();
        expect((await verify()).ok).toBe(true);
      });

      it('reports healthy again after a successful probe, without traffic', async () => {
        const watched = delayedStore(h.store);
        const log = openLog({ store: watched.store, commitTimeoutMs: BOUND_MS, probeIntervalMs: 50 });
        await log.record([makeEntry()]);
        const block = await h.blockWrites();
        const outcome = await expireCommitBound(BOUND_MS, watched.appendStarted, () => log.record([makeEntry()]));
        expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ACCESS_LOG_UNAVAILABLE' } });
        expect(log.isHealthy()).toBe(false);
        await block.release();
        // A wait for the probe, not a race with it: the limit only says when to give up.
        await vi.waitFor(() => expect(log.isHealthy()).toBe(true), { timeout: 30_000, interval: 20 });
      });

      it('rejects a commit that exceeds the timeout, and a late landing does not fork the chain', async () => {
        const delayed = delayedStore(h.store);
        const log = openLog({ store: delayed.store, commitTimeoutMs: BOUND_MS, probeIntervalMs: 3_600_000 });
        await log.record([makeEntry()]);
        delayed.hold();
        const outcome = await expireCommitBound(BOUND_MS, delayed.appendStarted, () => log.record([makeEntry({ requestId: 'late' })]));
        expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'ACCESS_LOG_UNAVAILABLE', extensions: { reason: 'timeout' } } });
        expect(log.isHealthy()).toBe(false);
        await delayed.release();
        // The late commit landed after all; the writer reloads the head instead of trusting its own.
        const receipt = await log.record([makeEntry()]);
        expect(receipt.firstSeq).toBe(3);
        expect(log.isHealthy()).toBe(true);
        expect((await h.store.readChain('replica-a', 2, 1))[0]!.requestId).toBe('late');
        await log.close();
        expect((await verify()).ok).toBe(true);
      });

      it('pipelined: a batch built on one that fails is refused by the store and goes round again, so it lands right after the last good one', async () => {
        let failNext = false;
        let failFirst: (error: Error) => void = () => undefined;
        let reachedStore: () => void = () => undefined;
        const reached = new Promise<void>((resolve) => (reachedStore = resolve));
        const calls: string[] = [];
        const failing = new Proxy(h.store, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver) as unknown;
            if (property === 'append' && typeof value === 'function') {
              return (...args: Parameters<typeof h.store.append>) => {
                calls.push(args[0].map((record) => record.header.requestId).join(','));
                if (!failNext) return (value as typeof h.store.append).apply(target, args);
                failNext = false;
                reachedStore();
                // Held, then failed as a store error would: it never lands.
                return new Promise<void>((_, reject) => (failFirst = reject));
              };
            }
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        const log = openLog({ store: failing, probeIntervalMs: 3_600_000 });
        await log.record([makeEntry({ requestId: 'good' })]);
        failNext = true;
        const doomed = log.record([makeEntry({ requestId: 'doomed' })]);
        doomed.catch(() => undefined);
        await reached;
        // Built on the doomed batch's head while that one is still in flight.
        const next = log.record([makeEntry({ requestId: 'next' })]);
        await vi.waitFor(() => expect(calls).toContain('next'), { timeout: 30_000, interval: 5 });
        failFirst(new Error('store failed'));
        await expect(doomed).rejects.toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE' });
        expect(await next).toEqual({ chainId: 'replica-a', firstSeq: 2, lastSeq: 2 });
        // The store refused 'next' once (built on a head that never landed), then took it.
        expect(calls).toEqual(['good', 'doomed', 'next', 'next']);
        await log.close();
        expect((await h.store.readChain('replica-a', 1, 10)).map((row) => row.requestId)).toEqual(['good', 'next']);
        expect((await verify()).ok).toBe(true);
      });

      it('refuses record() after close', async () => {
        const log = openLog();
        await log.close();
        await expect(log.record([makeEntry()])).rejects.toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE' });
      });
    });

    describe('migration from the row-per-entry format', () => {
      /** Four requests of five entries (two persons each) and three single ones, as the old gateway logged them. */
      function legacyEntries() {
        const entries = [];
        for (let r = 0; r < 4; r++) {
          for (let i = 0; i < 5; i++) {
            entries.push(makeEntry({ requestId: `old-${r}`, time: `2025-01-1${r}T10:00:00.000Z`, subject: SUBJECTS[i % 2]!, field: i < 3 ? 'Person.income' : 'Person.address', caseId: `case-${r}` }));
          }
        }
        for (let i = 0; i < 3; i++) entries.push(makeEntry({ requestId: `old-single-${i}`, time: '2025-01-20T10:00:00.000Z', outcome: 'denied', outcomeCode: 'PURPOSE_NOT_ALLOWED' }));
        return entries;
      }
      const withoutHashes = (rows: readonly StoredEntry[]) => rows.map(({ hash: _hash, ...rest }) => ({ ...rest, prevHash: undefined }));

      it('moves a chain entry for entry: the same seqs and query answers, records ending at the old checkpoints, and the writer carries on', async () => {
        await createLegacyTables(h);
        // Old checkpoints at 7 and 16 fall inside requests: the records are cut there.
        const rows = await writeLegacyChain(h, 'replica-a', legacyEntries(), { keys: keys.subjectKeys, signer: keys.signer, checkpointAt: [7, 16] });
        const results = await migrateToRecords(h.store, { signer: keys.signer, publicJwks: [keys.publicJwk] });
        expect(results).toEqual([{ chainId: 'replica-a', status: 'migrated', entries: 23, records: 9, checkpoints: 3 }]);
        const migrated = await h.store.readChain('replica-a', 1, 100);
        expect(withoutHashes(migrated)).toEqual(withoutHashes(rows));
        expect((await h.store.listCheckpoints('replica-a')).map((c) => [c.seq, c.count])).toEqual([
          [7, 7],
          [16, 9],
          [23, 7],
        ]);
        const bySubject = await h.store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) }, null, 100);
        expect(bySubject.entries.map((e) => e.seq)).toEqual(rows.filter((r) => r.subjectHmac === subjectHmac(keys.subjectKeys, SUBJECTS[1])).map((r) => r.seq));
        expect(await h.store.countBy('outcome', {})).toEqual([
          { key: 'released', count: 20 },
          { key: 'denied', count: 3 },
        ]);
        expect((await verify()).chains[0]).toMatchObject({ ok: true, firstSeq: 1, headSeq: 23, entries: 23 });
        expect(await verifyTree(h.store, 'replica-a', null)).toMatchObject({ ok: true, leaves: 9 });

        const log = openLog();
        expect(await log.record([makeEntry()])).toMatchObject({ firstSeq: 24, lastSeq: 24 });
        await log.close();
        expect((await verify()).ok).toBe(true);
        expect(await migrateToRecords(h.store, { signer: keys.signer, publicJwks: [keys.publicJwk] })).toEqual([
          { chainId: 'replica-a', status: 'skipped', reason: 'the chain is already in the record format' },
        ]);
      });

      it('refuses a chain that does not verify in its old format, and leaves it where it is', async () => {
        await createLegacyTables(h);
        await writeLegacyChain(h, 'replica-a', legacyEntries(), { keys: keys.subjectKeys, signer: keys.signer, checkpointAt: [7, 16] });
        await h.exec(`UPDATE ${legacyTables(h).entries} SET official = 'someone-else' WHERE chain_id = 'replica-a' AND seq = 9`);
        const [result] = await migrateToRecords(h.store, { signer: keys.signer, publicJwks: [keys.publicJwk] });
        expect(result).toMatchObject({ chainId: 'replica-a', status: 'refused', firstBreak: { seq: 9, kind: 'hash-mismatch' } });
        expect(await h.store.lastHead('replica-a')).toMatchObject({ seq: 0 });
      });

      it('keeps the anchor of a chain purged before it moved', async () => {
        await createLegacyTables(h);
        const rows = await writeLegacyChain(h, 'replica-a', legacyEntries(), { keys: keys.subjectKeys, signer: keys.signer, checkpointAt: [7, 16] });
        await purgeLegacyChain(h, rows, 7, keys.signer);
        const [result] = await migrateToRecords(h.store, { signer: keys.signer, publicJwks: [keys.publicJwk] });
        expect(result).toMatchObject({ status: 'migrated', entries: 16 });
        expect(withoutHashes(await h.store.readChain('replica-a', 1, 100))).toEqual(withoutHashes(rows.slice(7)));
        expect((await verify()).chains[0]).toMatchObject({ ok: true, firstSeq: 8, headSeq: 23, entries: 16 });
      });
    });

    describe('record bodies written before v3', () => {
      it('verifies a chain begun in v2 bodies and carried on in v3 as one chain and one tree, and answers queries from both', async () => {
        // Three requests of two persons each, stored as the v2 code stored them.
        const protect = (subject: string) => protectSubject(keys.subjectKeys, subject);
        const old = draftRecords(
          [0, 1, 2].flatMap((r) =>
            [SUBJECTS[0], SUBJECTS[1]].flatMap((subject) => ['Person.name', 'Person.income'].map((field) => toUnchainedEntry(makeEntry({ requestId: `v2-${r}`, subject, field }), protect(subject)))),
          ),
        ).map((draft) => ({ ...draft, body: recordBodyInV2(draft.header, draft.items) }));
        const { records } = chainRecords(genesisHead('replica-a'), old);
        await h.store.append(records, undefined, { nodes: growTree({ size: 0, nodes: [] }, records).nodes });

        const log = openLog();
        await log.record([makeEntry({ requestId: 'v3-0', subject: SUBJECTS[0] }), makeEntry({ requestId: 'v3-0', subject: SUBJECTS[1], field: 'Person.address' })]);
        await log.close();

        const stored = await h.store.readRecords('replica-a', 1, 10);
        expect(stored.map((record) => JSON.parse(record.body)[0])).toEqual([RECORD_FORMAT_V2, RECORD_FORMAT_V2, RECORD_FORMAT_V2, RECORD_FORMAT]);
        expect((await verify()).chains[0]).toMatchObject({ ok: true, headSeq: 14, entries: 14 });
        expect(await verifyTree(h.store, 'replica-a', null)).toMatchObject({ ok: true, leaves: 4 });
        const bySubject = await h.store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) }, null, 100);
        expect(bySubject.entries.map((entry) => [entry.seq, entry.field])).toEqual([
          [3, 'Person.name'],
          [4, 'Person.income'],
          [7, 'Person.name'],
          [8, 'Person.income'],
          [11, 'Person.name'],
          [12, 'Person.income'],
          [14, 'Person.address'],
        ]);
        for (const entry of bySubject.entries) expect(decryptSubject(keys.subjectKeys, entry.subjectEnc!, entry.subjectHmac!)).toBe(SUBJECTS[1]);
      });
    });

    describe('crash safety', () => {
      it('keeps every entry whose record() resolved before SIGKILL, and the log verifies', async () => {
        // `node --import tsx`, not the tsx binary: that one runs the script in a grandchild, which SIGKILL would miss.
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'audit', 'fixtures', 'appendLoop.ts')], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...h.childEnv, ACCESS_LOG_TEST_KEYS: JSON.stringify({ rawSubjectKeys: keys.rawSubjectKeys, privateJwk: keys.privateJwk }) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        const resolved: Array<{ lastSeq: number; requestId: string; count: number }> = [];
        try {
          for await (const line of createInterface({ input: child.stdout })) {
            if (line === 'ready') continue;
            const [lastSeq, requestId, count] = line.split(' ');
            resolved.push({ lastSeq: Number(lastSeq), requestId: requestId!, count: Number(count) });
            // Killed with commits in flight: 16 concurrent callers keep the writer busy.
            if (resolved.length === 300) child.kill('SIGKILL');
          }
        } finally {
          child.kill('SIGKILL');
        }
        expect(await exited, stderr).toBe('SIGKILL');
        expect(resolved.length).toBeGreaterThanOrEqual(300);

        const report = await verify();
        expect(report.firstBreak).toBeNull();
        // The tree went down with each commit, in the same transaction: a kill leaves it whole too.
        expect(await verifyTree(h.store, 'crash-replica', null)).toMatchObject({ ok: true, problem: null });
        const head = (await h.store.lastHead('crash-replica')).seq;
        const rows = new Map((await readWholeChain('crash-replica')).map((row) => [row.seq, row]));
        expect(rows.size).toBe(head);
        for (const { lastSeq, requestId, count } of resolved) {
          for (let seq = lastSeq - count + 1; seq <= lastSeq; seq++) expect(rows.get(seq)?.requestId).toBe(requestId);
        }
      });

      async function readWholeChain(chainId: string): Promise<StoredEntry[]> {
        const rows: StoredEntry[] = [];
        for (let page = await h.store.readChain(chainId, 1, 1000); page.length > 0; page = await h.store.readChain(chainId, page[page.length - 1]!.seq + 1, 1000)) {
          rows.push(...page);
        }
        return rows;
      }
    });
  });
}
