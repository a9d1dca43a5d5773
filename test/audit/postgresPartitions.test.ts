import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccessLog } from '../../src/audit/accessLog.js';
import { executePurge, planPurge, type RetentionPolicy } from '../../src/audit/retention.js';
import type { AccessLogStore } from '../../src/audit/store/AccessLogStore.js';
import type { PartitionEvent } from '../../src/audit/store/postgresPartitions.js';
import { PostgresAccessLogStore } from '../../src/audit/store/postgresStore.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { subjectHmac } from '../../src/audit/subjectProtection.js';
import { verifyAccessLog } from '../../src/audit/verify.js';
import { signReport } from '../../src/audit/reportProofs.js';
import { verifyCitizenReport } from '../../src/audit/verifyReport.js';
import { buildCitizenReport, withProofs } from '../../src/audit-api/citizenReport.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { generateSeed, noteSigner, SIG_ED25519 } from '../../src/transparency/note.js';
import { unpartition } from './fixtures/unpartitionedSchema.js';
import { writeKeyFiles } from './keyFiles.js';
import { auditCli } from './auditCli.js';
import { createPostgresHarness, TEST_DATABASE_URL } from './harness/postgresHarness.js';
import { generateTestKeys, makeEntry, SUBJECTS, type TestKeys } from './helpers.js';
import { witnessedLog, witnessPool } from './witnessHarness.js';

/** Entries of January to March 2020, five a month, a checkpoint closing each month; 45 days' retention seen on 15 April: January and February have expired, March has not. */
const MONTHS = ['2020-01', '2020-02', '2020-03'] as const;
const NOW = new Date('2020-04-15T00:00:00.000Z');
const POLICY: RetentionPolicy = { defaultDays: 45, byPurpose: new Map() };

/** The i-th (0..4) entry of a month: the first on its first millisecond, the last on its last, so the months' bounds are tested in UTC. */
function timeIn(month: string, i: number): string {
  if (i === 0) return `${month}-01T00:00:00.000Z`;
  if (i === 4) return lastMillisecond(month);
  return `${month}-1${i}T08:00:00.000Z`;
}

function lastMillisecond(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, m, 1) - 1).toISOString();
}

describe('access log on PostgreSQL: month partitions', () => {
  let keys: TestKeys;
  let h: Awaited<ReturnType<typeof createPostgresHarness>>;
  let store: PostgresAccessLogStore;
  const events: PartitionEvent[] = [];
  const extra: AccessLogStore[] = [];

  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  beforeEach(async () => {
    h = await createPostgresHarness();
    store = h.store as PostgresAccessLogStore;
    events.length = 0;
  });
  afterEach(async () => {
    for (const other of extra.splice(0)) await other.close();
    await h.cleanup();
  });

  const verify = () => verifyAccessLog(h.store, [keys.publicJwk]);

  /** A second store on the harness's schema that reports its partition events. */
  async function reopen(): Promise<PostgresAccessLogStore> {
    const other = await PostgresAccessLogStore.open({ connectionString: TEST_DATABASE_URL, schema: store.schema, onPartitionEvent: (event) => events.push(event), onPoolError: () => undefined });
    extra.push(other);
    return other;
  }

  async function exists(relation: string): Promise<boolean> {
    const { rows } = await h.admin.query('SELECT to_regclass($1) IS NOT NULL AS e', [`"${store.schema}".${relation}`]);
    return rows[0]!['e'] as boolean;
  }

  async function rowsIn(relation: string): Promise<number> {
    const { rows } = await h.admin.query(`SELECT count(*)::int AS n FROM "${store.schema}".${relation}`);
    return rows[0]!['n'] as number;
  }

  /** Five entries a month in each of MONTHS on `chainId`, a checkpoint after each month's five. */
  async function fill(target: AccessLogStore, chainId: string, entry: (month: string, i: number) => Parameters<typeof makeEntry>[0] = () => ({})): Promise<void> {
    const log = new AccessLog({ store: target, chainId, subjectKeys: keys.subjectKeys, signer: keys.signer, checkpointEvery: 5, checkpointIntervalMs: 3_600_000, commitTimeoutMs: 60_000 });
    for (const month of MONTHS) {
      for (let i = 0; i < 5; i++) await log.record([makeEntry({ requestId: `${chainId}-${month}-${i}`, time: timeIn(month, i), ...entry(month, i) })]);
    }
    await log.close();
  }

  async function purge(target: AccessLogStore) {
    return executePurge(target, await planPurge(target, POLICY, NOW), keys.signer, [keys.publicJwk], NOW);
  }

  it('creates this month and the next at open; a record of a month without a partition lands in DEFAULT, and maintenance moves it into its month, created for it', async () => {
    const now = new Date();
    const month = (d: Date) => `y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect(await exists(`log_records_${month(now)}`)).toBe(true);
    expect(await exists(`log_subjects_${month(next)}`)).toBe(true);

    // A writer whose month has no partition (here: far ahead) is not refused.
    const log = new AccessLog({ store, chainId: 'replica-a', subjectKeys: keys.subjectKeys, signer: keys.signer, checkpointEvery: 5, commitTimeoutMs: 60_000 });
    await log.record([makeEntry({ subject: SUBJECTS[1], time: '2031-06-10T08:00:00.000Z' })]);
    await log.close();
    expect(await exists('log_records_y2031m06')).toBe(false);
    expect(await rowsIn('log_records_default')).toBe(1);
    expect(await rowsIn('log_subjects_default')).toBe(1);

    const other = await reopen();
    expect(await other.maintainPartitions(new Date('2031-11-20T00:00:00.000Z'))).toEqual([
      { kind: 'partition-created', month: '2031-11', movedFromDefault: 0 },
      { kind: 'partition-created', month: '2031-12', movedFromDefault: 0 },
      { kind: 'partition-created', month: '2031-06', movedFromDefault: 1 },
    ]);
    expect(events).toContainEqual({ kind: 'partition-created', month: '2031-06', movedFromDefault: 1 });
    expect(await rowsIn('log_records_default')).toBe(0);
    expect(await rowsIn('log_subjects_default')).toBe(0);
    expect(await rowsIn('log_records_y2031m06')).toBe(1);
    expect(await rowsIn('log_subjects_y2031m06')).toBe(1);
    const { entries } = await store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) }, null, 10);
    expect(entries.map((e) => e.time)).toEqual(['2031-06-10T08:00:00.000Z']);
    expect((await verify()).ok).toBe(true);
    // Run again, nothing is left to do.
    expect(await other.maintainPartitions(new Date('2031-11-20T00:00:00.000Z'))).toEqual([]);
  });

  it('a purge drops exactly the expired months, whole, and what remains verifies', async () => {
    await fill(store, 'replica-a');
    const other = await reopen();
    await other.maintainPartitions();
    for (const [month, seqs] of [
      ['y2020m01', [1, 5]],
      ['y2020m02', [6, 10]],
      ['y2020m03', [11, 15]],
    ] as const) {
      const { rows } = await h.admin.query(`SELECT min(first_seq)::int AS a, max(last_seq)::int AS b FROM "${store.schema}".log_records_${month}`);
      expect([rows[0]!['a'], rows[0]!['b']]).toEqual(seqs);
    }
    const results = await purge(other);
    expect(results).toEqual([{ chainId: 'replica-a', purgedEntries: 10, segments: 2, refused: null }]);
    expect(events.filter((e) => e.kind === 'partition-dropped')).toEqual([
      { kind: 'partition-dropped', month: '2020-01', chains: [{ chainId: 'replica-a', fromSeq: 1, toSeq: 5 }] },
      { kind: 'partition-dropped', month: '2020-02', chains: [{ chainId: 'replica-a', fromSeq: 6, toSeq: 10 }] },
    ]);
    for (const gone of ['log_records_y2020m01', 'log_subjects_y2020m01', 'log_records_y2020m02', 'log_subjects_y2020m02']) expect(await exists(gone)).toBe(false);
    expect(await rowsIn('log_records_y2020m03')).toBe(5);
    expect((await store.readChain('replica-a', 1, 100)).map((e) => e.seq)).toEqual([11, 12, 13, 14, 15]);
    const report = await verify();
    expect(report.firstBreak).toBeNull();
    expect(report.chains[0]).toMatchObject({ firstSeq: 11, headSeq: 15, entries: 5 });
  });

  it.each([
    {
      held: 'a subject',
      month: '2020-02',
      hold: () => ({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[2]) }),
      entry: { subject: SUBJECTS[2] },
      dropped: ['2020-01'],
      kept: ['y2020m02', 'y2020m03'],
      firstSeq: 6,
    },
    { held: 'a case', month: '2020-01', hold: () => ({ caseId: 'case-under-hold' }), entry: { caseId: 'case-under-hold' }, dropped: [], kept: ['y2020m01', 'y2020m02', 'y2020m03'], firstSeq: 1 },
  ])('a legal hold on $held in expired $month keeps that month and what follows it', async ({ month: heldMonth, hold, entry, dropped, kept, firstSeq }) => {
    await fill(store, 'replica-a', (month, i) => (month === heldMonth && i === 2 ? entry : {}));
    const other = await reopen();
    await other.maintainPartitions();
    await store.addLegalHold(hold());
    await purge(other);
    expect(events.flatMap((e) => (e.kind === 'partition-dropped' ? [e.month] : []))).toEqual(dropped);
    for (const month of kept) expect(await rowsIn(`log_records_${month}`)).toBe(5);
    expect((await store.readChain('replica-a', 1, 1))[0]!.seq).toBe(firstSeq);
    expect((await verify()).ok).toBe(true);
  });

  it('leaves the same entries as the row-deleting purge on the same data (SQLite), dropping only the month every chain empties', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'partitions-'));
    const sqlite = await SqliteAccessLogStore.open({ file: path.join(dir, 'log.db') });
    try {
      const holdInFebruary = (month: string, i: number) => (month === '2020-02' && i === 1 ? { caseId: 'case-under-hold' } : {});
      for (const target of [store, sqlite]) {
        await fill(target, 'replica-a');
        await fill(target, 'replica-b', holdInFebruary);
        await target.addLegalHold({ caseId: 'case-under-hold' });
      }
      const other = await reopen();
      await other.maintainPartitions();
      const pg = await purge(other);
      const rows = await purge(sqlite);
      expect(pg).toEqual(rows);
      expect(pg).toEqual([
        { chainId: 'replica-a', purgedEntries: 10, segments: 2, refused: null },
        { chainId: 'replica-b', purgedEntries: 5, segments: 1, refused: null },
      ]);
      // (Hashes differ: subjects are encrypted with a fresh nonce.) January went whole; February stays for replica-b's hold, replica-a's rows in it deleted.
      expect(events.filter((e) => e.kind === 'partition-dropped')).toEqual([
        {
          kind: 'partition-dropped',
          month: '2020-01',
          chains: [
            { chainId: 'replica-a', fromSeq: 1, toSeq: 5 },
            { chainId: 'replica-b', fromSeq: 1, toSeq: 5 },
          ],
        },
      ]);
      expect(await exists('log_records_y2020m01')).toBe(false);
      expect(await rowsIn('log_records_y2020m02')).toBe(5);
      const remaining = async (target: AccessLogStore) =>
        Promise.all(['replica-a', 'replica-b'].map(async (chainId) => (await target.readChain(chainId, 1, 100)).map((e) => [e.chainId, e.seq, e.requestId, e.time, e.caseId, e.field])));
      expect(await remaining(store)).toEqual(await remaining(sqlite));
      expect((await remaining(store)).map((chain) => chain.length)).toEqual([5, 10]);
      const subject = { subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[0]) };
      expect((await store.query(subject, null, 100)).entries.map((e) => [e.chainId, e.seq])).toEqual((await sqlite.query(subject, null, 100)).entries.map((e) => [e.chainId, e.seq]));
      expect((await verify()).ok).toBe(true);
      expect((await verifyAccessLog(sqlite, [keys.publicJwk])).ok).toBe(true);
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failure after the drop and before the purge records are written leaves every month and entry in place (one transaction)', async () => {
    await fill(store, 'replica-a');
    const other = await reopen();
    await other.maintainPartitions();
    const s = `"${store.schema}"`;
    // The last thing the purge writes fails, as a crash at that point would end it.
    await h.admin.query(`CREATE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'crash point'; END $$`);
    await h.admin.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${s}.log_purges FOR EACH ROW EXECUTE FUNCTION ${s}.refuse()`);
    await expect(purge(other)).rejects.toMatchObject({ message: expect.stringContaining('crash point') });
    expect(await exists('log_records_y2020m01')).toBe(true);
    expect(await exists('log_subjects_y2020m02')).toBe(true);
    expect((await store.readChain('replica-a', 1, 100)).map((e) => e.seq)).toHaveLength(15);
    expect(await store.listPurges('replica-a')).toEqual([]);
    expect((await verify()).ok).toBe(true);
    expect(events.filter((e) => e.kind === 'partition-dropped')).toEqual([]);

    await h.admin.query(`DROP TRIGGER refuse ON ${s}.log_purges`);
    expect(await purge(other)).toMatchObject([{ purgedEntries: 10 }]);
    expect(await exists('log_records_y2020m01')).toBe(false);
    expect((await verify()).ok).toBe(true);
  });

  it('a seq stored twice in two months (no key across partitions forbids it) is found by the verifier', async () => {
    await fill(store, 'replica-a');
    await (await reopen()).maintainPartitions();
    const s = `"${store.schema}"`;
    await h.admin.query(`INSERT INTO ${s}.log_records SELECT chain_id, last_seq, first_seq, idx, prev_hash, hash, kind, time + interval '1 month', client_agency_id, official, purpose, case_id, body
                         FROM ${s}.log_records WHERE chain_id = 'replica-a' AND last_seq = 7`);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ chainId: 'replica-a', seq: 7 });
  });

  it('npm run audit -- migrate upgrades an unpartitioned schema, and purge names the months it drops', async () => {
    await fill(store, 'replica-a');
    await store.close();
    await unpartition(h.admin, store.schema);
    const files = writeKeyFiles(keys);
    try {
      const env = {
        DATABASE_URL: TEST_DATABASE_URL,
        AUDIT_PG_SCHEMA: store.schema,
        AUDIT_KEYS_PATH: files.auditKeysPath,
        GATEWAY_SIGNING_KEY_PATH: files.signingKeyPath,
        AUDIT_CHAIN_ID: 'replica-a',
        AUDIT_RETENTION_DAYS: '*=30',
        AUDIT_TLOG_KEY_PATH: path.join(files.dir, 'access-log-note.key'),
      };
      const cli = (...argv: string[]) => auditCli(env, ...argv);
      const migrated = await cli('migrate');
      expect(migrated).toMatchObject({ code: 0, out: expect.stringContaining('upgraded the records and the subject index to month partitions: 15 records in 3 month(s)') });
      expect(await rowsIn('log_records_y2020m03')).toBe(5);
      expect(await cli('verify')).toMatchObject({ code: 0 });
      // Thirty days' retention seen today: every 2020 month has expired and goes whole.
      const purged = await cli('purge');
      expect(purged.out).toContain('month 2020-01: partition dropped whole (chain replica-a seq 1..5)');
      expect(purged.out).toContain('month 2020-03: partition dropped whole (chain replica-a seq 11..15)');
      expect(await exists('log_records_y2020m03')).toBe(false);
    } finally {
      rmSync(files.dir, { recursive: true, force: true });
    }
  });

  it('upgrades a schema the unpartitioned store made: same answers, verifies, and purges by month after', async () => {
    await fill(store, 'replica-a', (_month, i) => (i === 2 ? { subject: SUBJECTS[1] } : {}));
    await fill(store, 'replica-b');
    const subject = { subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[1]) };
    const before = {
      page: await store.query(subject, null, 100),
      counts: await store.countBy('clientAgency', {}),
      chain: await store.readChain('replica-b', 1, 100),
    };
    expect(before.page.entries).toHaveLength(3);
    await store.close();
    await unpartition(h.admin, store.schema);
    const { rows: kind } = await h.admin.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [`"${store.schema}".log_records`]);
    expect(kind[0]!['relkind']).toBe('r');

    const upgraded = await reopen();
    expect(events).toContainEqual({ kind: 'partitioned-upgrade', records: 30, months: 3 });
    const { rows: after } = await h.admin.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [`"${store.schema}".log_records`]);
    expect(after[0]!['relkind']).toBe('p');
    expect(await rowsIn('log_records_y2020m02')).toBe(10);
    expect(await rowsIn('log_records_default')).toBe(0);
    expect(await upgraded.query(subject, null, 100)).toEqual(before.page);
    expect(await upgraded.countBy('clientAgency', {})).toEqual(before.counts);
    expect(await upgraded.readChain('replica-b', 1, 100)).toEqual(before.chain);
    expect((await verifyAccessLog(upgraded, [keys.publicJwk])).ok).toBe(true);
    // Opening again finds nothing to upgrade.
    events.length = 0;
    await reopen();
    expect(events.filter((e) => e.kind === 'partitioned-upgrade')).toEqual([]);
    await purge(upgraded);
    expect(events.filter((e) => e.kind === 'partition-dropped').map((e) => 'month' in e && e.month)).toEqual(['2020-01', '2020-02']);
  });
});

describe('a citizen report after a month was dropped', () => {
  it('verifies offline: the dropped reads are covered by the purge the log signed, and are ENTRY_REMOVED without it', async () => {
    const keys = await generateTestKeys();
    const h = await createPostgresHarness();
    const pool = witnessPool();
    try {
      const treeSigner = noteSigner('access-log.test.example', SIG_ED25519, generateSeed());
      const witness = await pool.start('witness.imy.test/w1', [treeSigner.verifier]);
      const verifyKeys = { log: treeSigner.verifier, witnesses: [witness.key.verifier], quorum: 1 };
      const catalogue = readPersonalFieldCatalogue(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl);
      const registry = readAgencyRegistry();
      const report = async (since?: Record<string, number>) => {
        const { entries } = await h.store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[0]) }, null, 1000);
        const built = buildCitizenReport({ subject: SUBJECTS[0], entries, rules: [], registry, catalogue, now: new Date('2026-11-05T12:00:00.000Z'), showHeldBack: false, scopeAgency: null });
        return withProofs(built, entries, h.store, { signer: treeSigner, witnesses: verifyKeys.witnesses, quorum: 1, ...(since ? { since } : {}) });
      };
      const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
      const write = async (times: readonly string[]) => {
        const { log, witnessing } = witnessedLog({ store: h.store, keys, treeSigner, witnesses: [witness] });
        for (const time of times) await log.record([makeEntry({ subject: SUBJECTS[0], field: 'Person.taxedIncome', purpose: 'PAYMENT_CONTROL', time })]);
        await log.close();
        await witnessing.settled();
        await witnessing.close();
      };
      await write(['2026-09-03T08:00:00.000Z', '2026-09-10T08:00:00.000Z', '2026-09-30T23:59:59.999Z']);
      const earlier = await report();
      await write(['2026-10-30T08:00:00.000Z', '2026-10-31T08:00:00.000Z']);
      const events: PartitionEvent[] = [];
      const other = await PostgresAccessLogStore.open({ connectionString: TEST_DATABASE_URL, schema: (h.store as PostgresAccessLogStore).schema, onPartitionEvent: (e) => events.push(e) });
      try {
        await other.maintainPartitions();
        const now = new Date('2026-11-05T00:00:00.000Z');
        const plans = await planPurge(other, { defaultDays: 30, byPurpose: new Map() }, now);
        expect(await executePurge(other, plans, keys.signer, [keys.publicJwk], now, treeSigner)).toMatchObject([{ chainId: 'replica-a', purgedEntries: 3 }]);
        expect(events).toContainEqual({ kind: 'partition-dropped', month: '2026-09', chains: [{ chainId: 'replica-a', fromSeq: 1, toSeq: 3 }] });
      } finally {
        await other.close();
      }
      const size = Number(earlier.proofs!.checkpoints[0]!.note.split('\n')[1]);
      const later = await report({ 'replica-a': size });
      expect(later.reads).toHaveLength(2);
      expect(verifyCitizenReport(clone(later), verifyKeys, clone(earlier))).toMatchObject({ ok: true, proved: 2 });
      const { purges: _purges, ...proofsWithout } = later.proofs!;
      const { signature: _signature, ...unsigned } = { ...clone(later), proofs: proofsWithout };
      expect(verifyCitizenReport({ ...unsigned, signature: signReport(unsigned, treeSigner) }, verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'ENTRY_REMOVED' });
    } finally {
      await pool.stop();
      await h.cleanup();
    }
  });
});
