import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccessLog } from '../../src/audit/accessLog.js';
import { leafBytes, readLeaf } from '../../src/audit/logTree.js';
import { signPurgeNote } from '../../src/audit/purgeNote.js';
import { executePurge, planPurge } from '../../src/audit/retention.js';
import { reportDigestV1, signReport } from '../../src/audit/reportProofs.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { subjectHmac } from '../../src/audit/subjectProtection.js';
import { formatVerifierKey, generateSeed, noteSigner, parseNote, signatureLine, signNote, SIG_ED25519, type NoteSigner } from '../../src/transparency/note.js';
import { verifyCitizenReport, type ReportKeys } from '../../src/audit/verifyReport.js';
import type { Witnessing } from '../../src/audit/witnessing.js';
import { buildCitizenReport, renderCitizenReportHtml, withProofs, type CitizenReport } from '../../src/audit-api/citizenReport.js';
import { readVocabulary } from '../../src/audit-api/vocabulary.js';
import { createAuditSchema } from '../../resolvers/audit/index.js';
import { runAuditCli } from '../../src/cli/audit.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { readAgencyRegistry } from '../../src/identity/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { generateTestKeys, makeEntry, SUBJECTS, type TestKeys } from './helpers.js';
import { witnessedLog, witnessPool, type RunningWitness } from './witnessHarness.js';

const LOG_NAME = 'access-log.test.example';
const catalogue = readPersonalFieldCatalogue(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl);
const registry = readAgencyRegistry();

/** A gateway's access log with two witnesses, as one replica writes it. */
interface Rig {
  readonly store: SqliteAccessLogStore;
  readonly log: AccessLog;
  readonly witnessing: Witnessing;
  record(count: number, subject?: string): Promise<void>;
  report(since?: Record<string, number>): Promise<CitizenReport>;
  close(): Promise<void>;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const resign = (report: CitizenReport, signer: NoteSigner): CitizenReport => {
  const { signature: _old, ...unsigned } = report;
  return { ...unsigned, signature: signReport(unsigned, signer) };
};

describe('the citizen report carries its proofs, and an offline verifier refuses each kind of lie with its own code', () => {
  let keys: TestKeys;
  let dir: string;
  let treeSigner: NoteSigner;
  let pool: ReturnType<typeof witnessPool>;
  let w1: RunningWitness;
  let w2: RunningWitness;
  let verifyKeys: ReportKeys;
  const rigs: Rig[] = [];

  beforeAll(async () => {
    keys = await generateTestKeys();
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'report-proofs-'));
    treeSigner = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    pool = witnessPool();
    w1 = await pool.start('witness.imy.test/w1', [treeSigner.verifier]);
    w2 = await pool.start('witness.riksrevisionen.test/w2', [treeSigner.verifier]);
    verifyKeys = { log: treeSigner.verifier, witnesses: [w1.key.verifier, w2.key.verifier], quorum: 2 };
  });
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.close();
    await pool.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openRig(file: string, witnesses: readonly RunningWitness[] = [w1, w2]): Promise<Rig> {
    const store = await SqliteAccessLogStore.open({ file: path.join(dir, file) });
    const { log, witnessing } = witnessedLog({ store, keys, treeSigner, witnesses });
    const rig: Rig = {
      store,
      log,
      witnessing,
      async record(count, subject = SUBJECTS[0]) {
        for (let i = 0; i < count; i++)
          await log.record([makeEntry({ subject, field: 'Person.taxedIncome', purpose: 'PAYMENT_CONTROL', time: new Date(Date.parse('2026-10-01T08:00:00.000Z') + i * 60_000).toISOString() })]);
        await witnessing.settled();
      },
      async report(since) {
        const { entries } = await store.query({ subjectHmac: subjectHmac(keys.subjectKeys, SUBJECTS[0]) }, null, 1000);
        const report = buildCitizenReport({ subject: SUBJECTS[0], entries, rules: [], registry, catalogue, now: new Date('2026-11-05T12:00:00.000Z'), showHeldBack: false, scopeAgency: null });
        return withProofs(report, entries, store, { signer: treeSigner, witnesses: verifyKeys.witnesses, quorum: verifyKeys.quorum, ...(since ? { since } : {}) });
      },
      async close() {
        await log.close();
        await witnessing.close();
        await store.close();
      },
    };
    rigs.push(rig);
    return rig;
  }

  it('verifies an intact report: every read proved against a checkpoint both witnesses cosigned, no official or case in it', async () => {
    const rig = await openRig('log.db');
    await rig.record(4);
    await rig.record(2, SUBJECTS[1]);
    await rig.record(3);
    const report = await rig.report();
    const result = verifyCitizenReport(clone(report), verifyKeys);
    expect(result).toMatchObject({ ok: true, reads: 7, proved: 7, pending: 0 });
    expect(result.ok && result.checkpoints.map((c) => [c.origin, c.size, c.witnesses])).toEqual([[`${LOG_NAME}/replica-a`, 9, ['witness.imy.test/w1', 'witness.riksrevisionen.test/w2']]]);
    const text = JSON.stringify(report);
    expect(text).not.toContain('official-1');
    expect(text).not.toContain('case-1');
    for (const proof of report.proofs!.entries) expect(readLeaf(proof.leaf)).not.toBeNull();
  });

  it('two replicas, two trees: one report proves reads from both, each against its own cosigned checkpoint', async () => {
    const rig = await openRig('log.db');
    const second = witnessedLog({ store: rig.store, keys, treeSigner, witnesses: [w1, w2], chainId: 'replica-b' });
    await rig.record(2);
    for (let i = 0; i < 3; i++) await second.log.record([makeEntry({ subject: SUBJECTS[0], field: 'Person.taxedIncome', time: `2026-10-02T08:0${i}:00.000Z` })]);
    await second.log.close();
    await second.witnessing.close();
    await rig.record(1);
    const result = verifyCitizenReport(clone(await rig.report()), verifyKeys);
    expect(result).toMatchObject({ ok: true, reads: 6, proved: 6 });
    expect(result.ok && result.checkpoints.map((c) => [c.origin, c.size]).sort()).toEqual([
      [`${LOG_NAME}/replica-a`, 3],
      [`${LOG_NAME}/replica-b`, 3],
    ]);
  });

  it('REPORT_SIGNATURE_INVALID: a report edited after signing', async () => {
    const rig = await openRig('log.db');
    await rig.record(3);
    const edited = clone(await rig.report()) as CitizenReport & { reads: Array<{ purpose: string }> };
    edited.reads[0]!.purpose = 'STATISTICS';
    expect(verifyCitizenReport(edited, verifyKeys)).toMatchObject({ ok: false, code: 'REPORT_SIGNATURE_INVALID' });
    const dropped = clone(await rig.report()) as unknown as { reads: unknown[]; proofs: { entries: unknown[] } };
    dropped.reads.pop();
    dropped.proofs.entries.pop();
    expect(verifyCitizenReport(dropped, verifyKeys)).toMatchObject({ ok: false, code: 'REPORT_SIGNATURE_INVALID' });
  });

  it('the signature covers the canonical JSON: key order and explicit nulls (a GraphQL answer) do not matter, and a v1 report still verifies', async () => {
    const rig = await openRig('log.db');
    await rig.record(3);
    const report = clone(await rig.report());
    // Keys in another order and an absent value spelled null, as a GraphQL answer has them.
    const reordered = Object.fromEntries(Object.entries({ ...report, heldBack: [], scope: { agency: null } }).reverse());
    expect(verifyCitizenReport(reordered, verifyKeys)).toMatchObject({ ok: true, proved: 3 });
    expect(verifyCitizenReport({ data: { citizenReport: reordered } }, verifyKeys)).toMatchObject({ ok: true, proved: 3 });
    // A report signed before v2: the digest of its JSON as serialised.
    const { signature: _v2, ...unsigned } = report;
    const v1 = { ...unsigned, signature: signNote(`access-log-citizen-report/v1\n${reportDigestV1(unsigned)}\n`, [treeSigner]) };
    expect(verifyCitizenReport(clone(v1), verifyKeys)).toMatchObject({ ok: true, proved: 3 });
    expect(verifyCitizenReport(Object.fromEntries(Object.entries(clone(v1)).reverse()), verifyKeys)).toMatchObject({ ok: false, code: 'REPORT_SIGNATURE_INVALID' });
  });

  it('ENTRY_FORGED: a read the log never recorded, even when the log operator signs the report', async () => {
    const rig = await openRig('log.db');
    await rig.record(3);
    const report = clone(await rig.report());
    // Hide who read: change the agency in the read and in its leaf alike, then sign with the log's own key.
    const reads = report.reads as unknown as Array<{ agency: { id: string; name: string } }>;
    const leaf = readLeaf(report.proofs!.entries[1]!.leaf)!;
    reads[1]!.agency = { id: 'kronofogden', name: 'Kronofogden' };
    const forgedLeaf = report.proofs!.entries[1]!.leaf.replace(`"${leaf.clientAgencyId}"`, '"kronofogden"');
    (report.proofs!.entries as unknown as Array<{ leaf: string }>)[1]!.leaf = forgedLeaf;
    expect(verifyCitizenReport(resign(report, treeSigner), verifyKeys)).toMatchObject({ ok: false, code: 'ENTRY_FORGED' });
    // A read whose leaf is genuine but says something else than the read.
    const mismatched = clone(await rig.report());
    (mismatched.reads as unknown as Array<{ field: string }>)[0]!.field = 'Person.name';
    expect(verifyCitizenReport(resign(mismatched, treeSigner), verifyKeys)).toMatchObject({ ok: false, code: 'ENTRY_FORGED' });
  });

  it('WITNESS_QUORUM_NOT_MET: a checkpoint without the witness quorum', async () => {
    const rig = await openRig('log.db', [w1]);
    await rig.record(3);
    const report = await rig.report();
    expect(verifyCitizenReport(clone(report), verifyKeys)).toMatchObject({ ok: false, code: 'WITNESS_QUORUM_NOT_MET' });
    expect(verifyCitizenReport(clone(report), { ...verifyKeys, quorum: 1 })).toMatchObject({ ok: true, proved: 3 });
    // A cosignature line that does not verify is no vote.
    const faked = clone(report);
    const note = faked.proofs!.checkpoints[0]!.note;
    const bogus = signatureLine(w2.key, Buffer.alloc(72, 1));
    (faked.proofs!.checkpoints as unknown as Array<{ note: string }>)[0]!.note = note + bogus;
    expect(verifyCitizenReport(resign(faked, treeSigner), verifyKeys)).toMatchObject({ ok: false, code: 'WITNESS_QUORUM_NOT_MET' });
  });

  it('CHECKPOINT_INVALID: a checkpoint the log did not sign', async () => {
    const rig = await openRig('log.db');
    await rig.record(2);
    const report = await rig.report();
    const impostor = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    expect(verifyCitizenReport(clone(report), { ...verifyKeys, log: impostor.verifier })).toMatchObject({ ok: false, code: 'REPORT_SIGNATURE_INVALID' });
    const swapped = clone(report);
    const text = parseNote(swapped.proofs!.checkpoints[0]!.note).text;
    (swapped.proofs!.checkpoints as unknown as Array<{ note: string }>)[0]!.note = `${text}\n${signatureLine(impostor, impostor.sign(text))}`;
    expect(verifyCitizenReport(resign(swapped, treeSigner), verifyKeys)).toMatchObject({ ok: false, code: 'CHECKPOINT_INVALID' });
  });

  it('ENTRY_REMOVED: an entry an earlier report proved is gone from a later one', async () => {
    const rig = await openRig('log.db');
    await rig.record(4);
    const earlier = await rig.report();
    const size = earlier.proofs!.checkpoints[0]!.note.split('\n')[1];
    await rig.record(2);
    const honest = await rig.report({ 'replica-a': Number(size) });
    expect(verifyCitizenReport(clone(honest), verifyKeys, clone(earlier))).toMatchObject({ ok: true, proved: 6 });
    // Someone with write access deletes the second read's entry; the tree still holds its hash.
    const db = new Database(path.join(dir, 'log.db'));
    db.prepare('DELETE FROM log_records WHERE chain_id = ? AND last_seq = 2').run('replica-a');
    db.close();
    const later = await rig.report({ 'replica-a': Number(size) });
    expect(later.reads).toHaveLength(5);
    // On its own the later report is consistent; against the earlier one the gap shows.
    expect(verifyCitizenReport(clone(later), verifyKeys)).toMatchObject({ ok: true, proved: 5 });
    expect(verifyCitizenReport(clone(later), verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'ENTRY_REMOVED' });
  });

  it("an entry purged under the retention rules is not ENTRY_REMOVED: the later report carries the log's signed purge; PURGE_INVALID for one the log did not sign", async () => {
    const rig = await openRig('log.db');
    await rig.record(4);
    const earlier = await rig.report();
    // The checkpoint at seq 4 that the purge segment ends at, then two recent reads by a second writer on the chain.
    await rig.log.close();
    await rig.witnessing.settled();
    const second = witnessedLog({ store: rig.store, keys, treeSigner, witnesses: [w1, w2] });
    for (let i = 0; i < 2; i++) await second.log.record([makeEntry({ subject: SUBJECTS[0], field: 'Person.taxedIncome', purpose: 'PAYMENT_CONTROL', time: `2026-11-04T08:0${i}:00.000Z` })]);
    await second.log.close();
    await second.witnessing.settled();
    await second.witnessing.close();
    const now = new Date('2026-11-05T00:00:00.000Z');
    const plans = await planPurge(rig.store, { defaultDays: 30, byPurpose: new Map() }, now);
    expect(await executePurge(rig.store, plans, keys.signer, [keys.publicJwk], now, treeSigner)).toMatchObject([{ chainId: 'replica-a', purgedEntries: 4 }]);
    const size = Number(earlier.proofs!.checkpoints[0]!.note.split('\n')[1]);
    const later = await rig.report({ 'replica-a': size });
    expect(later.reads).toHaveLength(2);
    expect(verifyCitizenReport(clone(later), verifyKeys, clone(earlier))).toMatchObject({ ok: true, proved: 2 });
    // Without the log's purge statement the same gap is a removal.
    const { purges: _purges, ...proofsWithout } = later.proofs!;
    const silent = resign({ ...clone(later), proofs: proofsWithout }, treeSigner);
    expect(verifyCitizenReport(silent, verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'ENTRY_REMOVED' });
    // A purge statement signed by another key, or given for another chain, is refused.
    const impostor = noteSigner(LOG_NAME, SIG_ED25519, generateSeed());
    const forged = {
      ...clone(later),
      proofs: { ...later.proofs!, purges: [{ chainId: 'replica-a', note: signPurgeNote({ chainId: 'replica-a', uptoSeq: 6, headHash: 'x', purgedCount: 6, time: now.toISOString() }, impostor) }] },
    };
    expect(verifyCitizenReport(resign(forged, treeSigner), verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'PURGE_INVALID' });
    const elsewhere = { ...clone(later), proofs: { ...later.proofs!, purges: [{ chainId: 'replica-b', note: later.proofs!.purges![0]!.note }] } };
    expect(verifyCitizenReport(resign(elsewhere, treeSigner), verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'PURGE_INVALID' });
  });

  it('HISTORY_FORKED: two checkpoints that are not one history; CONSISTENCY_PROOF_MISSING without a link', async () => {
    const rig = await openRig('log.db');
    await rig.record(4);
    const earlier = await rig.report();
    // A second history under the same log key and chain, cosigned by witnesses that never saw the first
    // (a split view: what a quorum of honest witnesses exists to prevent).
    const w3 = await pool.start('witness.imy.test/w1', [treeSigner.verifier], w1.key);
    const w4 = await pool.start('witness.riksrevisionen.test/w2', [treeSigner.verifier], w2.key);
    const fork = await openRig('fork.db', [w3, w4]);
    await fork.record(1, SUBJECTS[2]);
    await fork.record(5);
    const size = Number(earlier.proofs!.checkpoints[0]!.note.split('\n')[1]);
    const forked = await fork.report({ 'replica-a': size });
    expect(verifyCitizenReport(clone(forked), verifyKeys)).toMatchObject({ ok: true });
    expect(verifyCitizenReport(clone(forked), verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'HISTORY_FORKED' });
    const unlinked = await fork.report();
    expect(verifyCitizenReport(clone(unlinked), verifyKeys, clone(earlier))).toMatchObject({ ok: false, code: 'CONSISTENCY_PROOF_MISSING' });
  });

  it('npm run audit -- verify-report: exit 0 with the keys alone, 1 naming the code', async () => {
    const rig = await openRig('log.db');
    await rig.record(3);
    const report = await rig.report();
    const file = path.join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report));
    const keyFile = path.join(dir, 'witnesses.txt');
    writeFileSync(keyFile, `${formatVerifierKey(w1.key.verifier)}\n${formatVerifierKey(w2.key.verifier)}\n`);
    const cli = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAuditCli(
        argv,
        {},
        (line) => out.push(line),
        (line) => err.push(line),
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const ok = await cli('verify-report', file, '--log-key', formatVerifierKey(treeSigner.verifier), '--witness-key', keyFile);
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/ok +3 reads: 3 proved in the log$/) });
    const edited = clone(report) as { generatedAt: string };
    edited.generatedAt = '2026-11-06T12:00:00.000Z';
    writeFileSync(file, JSON.stringify(edited));
    expect(await cli('verify-report', file, '--log-key', formatVerifierKey(treeSigner.verifier), '--witness-key', keyFile)).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^REFUSED REPORT_SIGNATURE_INVALID/),
    });
    expect((await cli('verify-report', file, '--log-key', 'not-a-key')).code).toBe(2);
    expect((await cli('verify-report', file, '--log-key', formatVerifierKey(treeSigner.verifier), '--witness-key', keyFile, '--quorum', '3')).code).toBe(2);
  });

  it('the printable report says whether it was verified, and by which witnesses', async () => {
    const rig = await openRig('log.db');
    await rig.record(3);
    const report = await rig.report();
    const vocabulary = readVocabulary(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl, catalogue, createAuditSchema());
    const page = renderCitizenReportHtml(report, { vocabulary, language: 'sv', timeZone: 'Europe/Stockholm', verification: verifyCitizenReport(clone(report), verifyKeys) });
    expect(page).toContain('data-verified="true"');
    expect(page).toContain('Kontrollerat: 3 läsningar finns i loggen enligt kontrollpunkter som bekräftats av witness.imy.test/w1, witness.riksrevisionen.test/w2.');
    const refused = renderCitizenReportHtml(report, {
      vocabulary,
      language: 'en',
      timeZone: 'Europe/Stockholm',
      verification: verifyCitizenReport(clone(report), { ...verifyKeys, witnesses: [w1.key.verifier], quorum: 1, log: noteSigner(LOG_NAME, SIG_ED25519, generateSeed()).verifier }),
    });
    expect(refused).toContain('data-verified="false"');
    expect(refused).toContain('could not be verified against the log (REPORT_SIGNATURE_INVALID)');
  });

  it('leaf bytes read back exactly, and only in their one spelling', async () => {
    const rig = await openRig('log.db');
    await rig.record(1);
    const [record] = await rig.store.readRecords('replica-a', 1, 1);
    const [row] = await rig.store.readChain('replica-a', 1, 1);
    const bytes = leafBytes(record!);
    expect(readLeaf(bytes)).toMatchObject({ chainId: 'replica-a', index: 0, firstSeq: 1, purpose: 'PAYMENT_CONTROL', recordHash: record!.hash, entries: [row!.hash] });
    expect(readLeaf(bytes.replace(',', ', '))).toBeNull();
    expect(readLeaf(bytes.replace('access-log-leaf-v2', 'access-log-leaf-v1'))).toBeNull();
  });

  it("a household request is one record: a person's report opens only their own entries of it, and still proves them", async () => {
    const rig = await openRig('log.db');
    const request = { requestId: 'household', time: '2026-10-03T08:00:00.000Z', purpose: 'PAYMENT_CONTROL' as const };
    await rig.log.record([
      makeEntry({ ...request, subject: SUBJECTS[0], field: 'Person.taxedIncome' }),
      makeEntry({ ...request, subject: SUBJECTS[1], field: 'Person.protectedAddress' }),
      makeEntry({ ...request, subject: SUBJECTS[0], field: 'Person.name' }),
    ]);
    await rig.witnessing.settled();
    await rig.log.close();
    await rig.witnessing.settled();
    const report = await rig.report();
    expect(report.reads).toHaveLength(2);
    expect(verifyCitizenReport(clone(report), verifyKeys)).toMatchObject({ ok: true, reads: 2, proved: 2 });
    const [first, second] = report.proofs!.entries;
    expect(first!.leaf).toBe(second!.leaf);
    expect(readLeaf(first!.leaf)!.entries).toHaveLength(3);
    expect(JSON.stringify(report)).not.toContain('Person.protectedAddress');
    // An opening edited to say another field no longer hashes to the leaf's commitment.
    const forged = clone(report);
    (forged.proofs!.entries as unknown as Array<{ entry: string }>)[0]!.entry = first!.entry.replace('Person.taxedIncome', 'Person.name');
    (forged.reads as unknown as Array<{ field: string }>)[0]!.field = 'Person.name';
    expect(verifyCitizenReport(resign(forged, treeSigner), verifyKeys)).toMatchObject({ ok: false, code: 'ENTRY_FORGED' });
  });
});
