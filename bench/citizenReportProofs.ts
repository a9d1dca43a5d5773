/**
 * A large citizen report with proofs: how long proving it takes on the gateway (SQLite) and
 * verifying it offline takes a citizen.
 *
 *   npx tsx bench/citizenReportProofs.ts [--entries 10000] [--noise 90000]
 *
 * `entries` are the subject's released reads; `noise` other subjects' entries in the same chain,
 * so the tree (and each proof) is as deep as a busy log's. Witnesses are not run: the checkpoint
 * is cosigned in-process by two witness keys, which is all the verifier sees of them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateKeyPair } from 'jose';
import { AccessLog } from '../src/audit/accessLog.js';
import type { AccessLogEntry } from '../src/audit/entry.js';
import { proveEntries, signReport } from '../src/audit/reportProofs.js';
import { SqliteAccessLogStore } from '../src/audit/store/sqliteStore.js';
import { parseSubjectKeys, subjectHmac } from '../src/audit/subjectProtection.js';
import { addSignatures, generateSeed, noteSigner, parseNote, SIG_COSIGNATURE_V1, SIG_ED25519 } from '../src/transparency/note.js';
import { verifyCitizenReport } from '../src/audit/verifyReport.js';
import { makePersonnummer } from '../src/personnummer/index.js';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '10000' }, noise: { type: 'string', default: '90000' } } });
const subjectEntries = Number(values.entries);
const noiseEntries = Number(values.noise);

const dir = mkdtempSync(path.join(tmpdir(), 'report-bench-'));
const subjectKeys = parseSubjectKeys({ subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') });
const { privateKey } = await generateKeyPair('ES256');
const treeSigner = noteSigner('access-log.bench.example', SIG_ED25519, generateSeed());
const witnesses = [noteSigner('witness.a.example', SIG_COSIGNATURE_V1, generateSeed()), noteSigner('witness.b.example', SIG_COSIGNATURE_V1, generateSeed())];
const subject = makePersonnummer('1985-03-14', 123);
const other = makePersonnummer('1990-11-02', 456);

const entry = (who: string, i: number): AccessLogEntry => ({
  time: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 1000).toISOString(),
  requestId: `r${i}`,
  clientAgency: { organisationNumber: '202100-5521', id: 'forsakringskassan' },
  official: 'official-1',
  purpose: 'PAYMENT_CONTROL',
  legalBasis: '110 kap. 31 § socialförsäkringsbalken',
  processingRegisterRef: { recordId: 'FK-RPU-0007', version: '12' },
  caseId: 'case-1',
  subject: who,
  field: 'Person.taxedIncome',
  owningAgency: 'skatteverket',
  outcome: 'released',
  outcomeCode: null,
  operationName: 'Bench',
  documentHash: 'a'.repeat(64),
});

const store = await SqliteAccessLogStore.open({ file: path.join(dir, 'log.db') });
try {
  const log = new AccessLog({ store, chainId: 'replica-a', subjectKeys, signer: { privateKey, kid: 'bench' }, treeSigner, treeHeadIntervalMs: 3_600_000, commitTimeoutMs: 60_000 });
  const total = subjectEntries + noiseEntries;
  const every = Math.max(1, Math.floor(total / subjectEntries));
  for (let start = 0; start < total; start += 1000) {
    const batch: AccessLogEntry[] = [];
    for (let i = start; i < Math.min(total, start + 1000); i++) batch.push(entry(i % every === 0 && i / every < subjectEntries ? subject : other, i));
    await log.record(batch);
  }
  await log.close();
  const [head] = await store.listTreeHeads('replica-a', 1);
  const text = parseNote(head!.note).text;
  await store.updateTreeHeadNote(
    'replica-a',
    head!.size,
    addSignatures(
      head!.note,
      witnesses.map((w) => ({ name: w.name, keyId: w.keyId, signature: w.sign(text) })),
    ),
  );

  const hmac = subjectHmac(subjectKeys, subject);
  const rows = [];
  for (let cursor: string | null = null; ; ) {
    const page = await store.query({ subjectHmac: hmac }, cursor, 1000);
    rows.push(...page.entries);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const reads = rows.map((row) => ({
    time: row.time,
    agency: { id: row.clientAgencyId },
    owningAgency: { id: row.owningAgency },
    field: row.field,
    purpose: row.purpose,
    legalBasis: row.legalBasis,
    entry: { chainId: row.chainId, seq: row.seq },
  }));
  let t = performance.now();
  const proofs = await proveEntries(store, rows, { signer: treeSigner, witnesses: witnesses.map((w) => w.verifier), quorum: 2 });
  const unsigned = { subject, reads, proofs };
  const report = JSON.parse(JSON.stringify({ ...unsigned, signature: signReport(unsigned, treeSigner) })) as unknown;
  const proveMs = performance.now() - t;
  const bytes = JSON.stringify(report).length;
  t = performance.now();
  const result = verifyCitizenReport(report, { log: treeSigner.verifier, witnesses: witnesses.map((w) => w.verifier), quorum: 2 });
  const verifyMs = performance.now() - t;
  if (!result.ok || result.proved !== rows.length) throw new Error(`the report did not verify: ${JSON.stringify(result)}`);
  console.log(
    `tree size ${head!.size}, ${rows.length} reads: proofs ${proveMs.toFixed(0)} ms on the gateway (SQLite), report ${(bytes / 1e6).toFixed(1)} MB, offline verification ${verifyMs.toFixed(0)} ms`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
