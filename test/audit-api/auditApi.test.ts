import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CITIZEN_REPORT_DOCUMENT } from '../../src/audit-api/citizenReportDocument.js';
import { verifyCitizenReport } from '../../src/audit/verifyReport.js';
import { runAuditCli } from '../../src/cli/audit.js';
import { formatVerifierKey } from '../../src/transparency/note.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { loadSupergraphSdl } from '../../src/apollo/supergraph.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient, ENTRY_FIELDS, parseCsv } from './auditClient.js';

/**
 * The audit API end to end: partner queries go through the real gateway, then privacy officers
 * (personal certificates of registered officials of agencies with the PRIVACY_OFFICER role) and
 * the supervisor (IMY's inspector) read the log at /audit/graphql over the same mTLS listener.
 * Who gets in at all is test/audit-api/auditAccess.test.ts.
 */

const PERSON_QUERY = `query Person($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } benefits { benefit } } }`;
const INCOME_QUERY = `query Income($p: Personnummer!) { person(personnummer: $p) { personnummer taxedIncome { year } } }`;

let stack: Stack;
let subject: string;
type Client = ReturnType<typeof auditClient>;
let skatteverket: Client;
let csn: Client;
let imy: Client;

interface Entry {
  id: string;
  kind: string;
  time: string;
  clientAgency: { id: string };
  official: string;
  purpose: string;
  caseId: string;
  subject: string | null;
  field: string;
  category: string | null;
  owningAgency: string;
  outcome: string;
  outcomeCode: string | null;
  operationName: string | null;
}

async function entries(client: Client, filter: Record<string, unknown>, first = 200, after: string | null = null) {
  const answer = await client.graphql<{ entries: { totalCount: number; nextCursor: string | null; entries: Entry[] } }>(
    `query ($filter: EntryFilter, $first: Int, $after: String) { entries(filter: $filter, first: $first, after: $after) { totalCount nextCursor entries { ${ENTRY_FIELDS} } } }`,
    { filter, first, after },
  );
  expect(answer.errors).toBeUndefined();
  return answer.data!.entries;
}

beforeAll(async () => {
  const rulesDir = path.join(process.cwd(), 'test-results');
  const rulesFile = path.join(rulesDir, `confidentiality-${process.pid}.json`);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(
    rulesFile,
    JSON.stringify({
      rules: [
        { id: 'FK-KONTROLL-OPEN', purpose: 'PAYMENT_CONTROL', clientAgency: 'forsakringskassan', casePattern: '^FK-KONTROLL-', holdUntil: '2999-12-31', reason: 'Ongoing investigation.' },
        { id: 'FK-OLD-CLOSED', purpose: 'PAYMENT_CONTROL', casePattern: '^FK-OLD-', holdUntil: '2001-01-01', reason: 'Investigation closed.' },
      ],
    }),
  );
  stack = await startStack({ persons: 800, env: { AUDIT_CONFIDENTIALITY_PATH: rulesFile } });
  subject = stack.sample.withBenefits;
  const malmo = stack.client('malmo-stad', { official: 'tjm-41', purpose: 'CASE_HANDLING', caseId: 'SOC-AUDIT-1', subjects: [subject] });
  expect((await malmo.query(PERSON_QUERY, { p: subject })).status).toBe(200);
  const fkOpen = stack.client('forsakringskassan', { official: 'fk-kontroll-7', purpose: 'PAYMENT_CONTROL', caseId: 'FK-KONTROLL-77', subjects: [subject] });
  expect((await fkOpen.query(INCOME_QUERY, { p: subject })).status).toBe(200);
  const fkOld = stack.client('forsakringskassan', { official: 'fk-kontroll-8', purpose: 'PAYMENT_CONTROL', caseId: 'FK-OLD-12', subjects: [subject] });
  expect((await fkOld.query(INCOME_QUERY, { p: subject })).status).toBe(200);
  skatteverket = auditClient(stack, { official: 'dso-skv-1' });
  csn = auditClient(stack, { official: 'dso-csn-1' });
  imy = auditClient(stack, { official: 'imy-insp-1' });
});

afterAll(async () => {
  for (const client of [skatteverket, csn, imy]) client?.close();
  await stack?.close();
});

describe('audit API: scope', () => {
  it('gives a privacy officer the entries of a person where its agency is client or owner, subjects decrypted', async () => {
    const page = await entries(skatteverket, { subject });
    expect(page.entries.length).toBeGreaterThan(0);
    for (const entry of page.entries) {
      expect(entry.subject).toBe(subject);
      expect(entry.kind).toBe('ACCESS');
      expect([entry.clientAgency.id, entry.owningAgency]).toContain('skatteverket');
    }
    // Malmö's read of Försäkringskassan's benefits is between two other agencies.
    expect(page.entries.map((e) => e.field)).not.toContain('Person.benefits');
    expect(page.entries.map((e) => e.field)).toEqual(expect.arrayContaining(['Person.name', 'Person.taxedIncome']));
  });

  it("does not show Skatteverket's officer entries between two other agencies, which the supervisor sees", async () => {
    const between = { clientAgency: 'malmo-stad', owningAgency: 'forsakringskassan' };
    expect((await entries(skatteverket, between)).totalCount).toBe(0);
    const supervised = await entries(imy, between);
    expect(supervised.totalCount).toBeGreaterThan(0);
    const hidden = supervised.entries[0]!;
    const lookup = await skatteverket.graphql<{ entry: Entry | null }>(`query ($id: ID!) { entry(id: $id) { id } }`, { id: hidden.id });
    expect(lookup.data?.entry).toBeNull();
    const allowed = await imy.graphql<{ entry: Entry | null }>(`query ($id: ID!) { entry(id: $id) { id subject } }`, { id: hidden.id });
    expect(allowed.data?.entry).toEqual({ id: hidden.id, subject });
  });

  it('shows CSN, which took no part, none of these entries', async () => {
    expect((await entries(csn, { subject })).totalCount).toBe(0);
  });

  it('refuses the audit of the audit and the confidentiality rules to a privacy officer (ROLE_NOT_ALLOWED)', async () => {
    const audit = await skatteverket.graphql(`{ entries(filter: { kind: AUDIT_QUERY }) { totalCount } }`);
    expect(audit.status).toBe(403);
    expect(audit.errors?.[0]?.extensions?.code).toBe('ROLE_NOT_ALLOWED');
    const rules = await skatteverket.graphql(`{ confidentialityRules { id } }`);
    expect(rules.errors?.[0]?.extensions?.code).toBe('ROLE_NOT_ALLOWED');
  });

  it('refuses a suspended agency before anything is read', async () => {
    const suspended = auditClient(stack, { agency: 'test-suspended' });
    try {
      const answer = await suspended.graphql(`{ me { role } }`);
      expect(answer.status).toBe(401);
      expect(answer.errors?.[0]?.extensions?.code).toBe('AGENCY_SUSPENDED');
    } finally {
      suspended.close();
    }
  });

  it('refuses cross-site requests the browser would send with the certificate', async () => {
    const response = await skatteverket.request('POST', '/audit/graphql', JSON.stringify({ query: '{ me { role } }' }), {
      'content-type': 'application/json',
      'sec-fetch-site': 'cross-site',
      origin: 'https://evil.example',
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});

describe('audit API: filters and pagination', () => {
  it.each([
    ['purpose', { purpose: 'PAYMENT_CONTROL' }, (e: Entry) => e.purpose === 'PAYMENT_CONTROL'],
    ['case', { caseId: 'SOC-AUDIT-1' }, (e: Entry) => e.caseId === 'SOC-AUDIT-1'],
    ['official', { official: 'fk-kontroll-7' }, (e: Entry) => e.official === 'fk-kontroll-7'],
    ['field', { field: 'Person.name' }, (e: Entry) => e.field === 'Person.name'],
    ['client agency', { clientAgency: 'forsakringskassan' }, (e: Entry) => e.clientAgency.id === 'forsakringskassan'],
    ['owning agency', { owningAgency: 'forsakringskassan' }, (e: Entry) => e.owningAgency === 'forsakringskassan'],
    ['outcome', { outcome: 'RELEASED' }, (e: Entry) => e.outcome === 'RELEASED'],
  ])('filters by %s', async (_name, filter, holds) => {
    // kind ACCESS: for the supervisor, a subject filter also finds the audit queries about the person, which grow with every query here.
    const page = await entries(imy, { subject, kind: 'ACCESS', ...filter });
    expect(page.entries.length).toBeGreaterThan(0);
    expect(page.entries.every(holds)).toBe(true);
    const all = await entries(imy, { subject, kind: 'ACCESS' });
    expect(page.totalCount).toBe(all.entries.filter(holds).length);
  });

  it('filters by time range (from inclusive, to exclusive)', async () => {
    const access = { subject, kind: 'ACCESS' };
    const all = await entries(imy, access);
    const first = all.entries[0]!;
    expect((await entries(imy, { ...access, from: '2999-01-01' })).totalCount).toBe(0);
    expect((await entries(imy, { ...access, to: first.time })).totalCount).toBe(0);
    expect((await entries(imy, { ...access, from: first.time })).totalCount).toBe(all.totalCount);
  });

  it('rejects a malformed personnummer without echoing it', async () => {
    const answer = await imy.graphql(`{ entries(filter: { subject: "19850314-0000" }) { totalCount } }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(answer.errors)).not.toContain('19850314');
  });

  it('pages with a cursor in stable (time, chain, seq) order, every entry exactly once', async () => {
    const access = { subject, kind: 'ACCESS' };
    const whole = await entries(imy, access, 500);
    const paged: Entry[] = [];
    let cursor: string | null = null;
    do {
      const page = await entries(imy, access, 2, cursor);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      paged.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(paged.map((e) => e.id)).toEqual(whole.entries.map((e) => e.id));
    expect(new Set(paged.map((e) => e.id)).size).toBe(paged.length);
  });

  it('counts per agency, purpose, outcome and day within scope', async () => {
    const answer = await skatteverket.graphql<{ counts: Array<{ dimension: string; rows: Array<{ key: string; count: number }> }> }>(
      `query ($s: String) { counts(filter: { subject: $s }, by: [clientAgency, owningAgency, purpose, outcome, day]) { dimension rows { key count } } }`,
      { s: subject },
    );
    const byDimension = Object.fromEntries(answer.data!.counts.map((c) => [c.dimension, c.rows]));
    const total = (await entries(skatteverket, { subject })).totalCount;
    for (const rows of Object.values(byDimension)) expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(total);
    expect(byDimension['clientAgency']!.map((r) => r.key).sort()).toEqual(['forsakringskassan', 'malmo-stad']);
    expect(byDimension['owningAgency']!.map((r) => r.key)).toEqual(['skatteverket']);
  });

  it('exports the current filter as CSV in the dialect Swedish Excel opens (UTF-8 BOM, semicolons, CRLF), one row per matching entry', async () => {
    const filter = { subject, clientAgency: 'malmo-stad' };
    const expected = await entries(skatteverket, filter);
    const response = await skatteverket.post('/audit/export.csv', filter);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.text.startsWith('\uFEFF')).toBe(true);
    expect(response.text.endsWith('\r\n')).toBe(true);
    expect(response.text.replace(/\r\n/g, '')).not.toMatch(/\n/);
    const [columns, ...rows] = parseCsv(response.text);
    expect(columns!.slice(0, 4)).toEqual(['id', 'kind', 'time', 'localTime']);
    expect(rows.every((row) => row.length === columns!.length)).toBe(true);
    expect(rows.map((row) => row[columns!.indexOf('id')])).toEqual(expected.entries.map((e) => e.id));
    for (const row of rows) {
      const cell = (name: string) => row[columns!.indexOf(name)];
      expect(cell('subject')).toBe(subject);
      // Plain language beside the codes, and the local time Excel reads as a date.
      expect(cell('localTime')).toBe(new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', dateStyle: 'short', timeStyle: 'medium' }).format(new Date(cell('time')!)));
      expect(cell('purposeLabel')).toBe('Handläggning av ärende');
      expect(cell('kind')).toBe('ACCESS');
    }
    expect(rows.map((row) => row[columns!.indexOf('fieldLabel')])).toEqual(expect.arrayContaining(['Namn']));
    // A cell with the separator in it (the legal basis) is quoted, not split.
    expect(response.text).toMatch(/"[^"]*;[^"]*"/);
  });

  it.each([
    ['the API spelling', 'RELEASED'],
    ["the log's own spelling", 'released'],
  ])('takes the outcome filter of the CSV export in %s, like the API', async (_name, outcome) => {
    const expected = await entries(imy, { subject, kind: 'ACCESS', outcome: 'RELEASED' });
    const response = await imy.post('/audit/export.csv', { subject, kind: 'ACCESS', outcome });
    expect(response.status).toBe(200);
    const [columns, ...rows] = parseCsv(response.text);
    expect(rows.map((row) => row[columns!.indexOf('id')])).toEqual(expected.entries.map((e) => e.id));
    expect(new Set(rows.map((row) => row[columns!.indexOf('outcome')]))).toEqual(new Set(['RELEASED']));
  });

  it('refuses an unknown outcome or kind in the CSV export with BAD_USER_INPUT naming the argument', async () => {
    for (const [argument, value] of [
      ['outcome', 'leaked'],
      ['kind', 'everything'],
    ] as const) {
      const response = await imy.post('/audit/export.csv', { [argument]: value });
      expect(response.status).toBe(400);
      const error = JSON.parse(response.text).errors[0];
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
  });
});

describe('audit API: one search, one log', () => {
  it('gives the supervisor the same entries in the list, the counts, the chart and the CSV of one search, though each query logs itself first', async () => {
    const first = await imy.graphql<{ entries: { totalCount: number; asOf: string } }>(`{ entries(first: 1) { totalCount asOf } }`);
    const { totalCount, asOf } = first.data!.entries;
    expect(totalCount).toBeGreaterThan(0);
    // Without an end, the next query already counts the first one's audit entry (the reported 21 against 20).
    const later = await imy.graphql<{ entries: { totalCount: number } }>(`{ entries(first: 1) { totalCount } }`);
    expect(later.data!.entries.totalCount).toBeGreaterThan(totalCount);
    // With the first answer's asOf as the end, every view of the search sees the same entries.
    const filter = { to: asOf };
    const views = await imy.graphql<{ entries: { totalCount: number }; counts: Array<{ rows: Array<{ count: number }> }>; dailyVolume: { series: Array<{ counts: number[] }> } }>(
      `query ($f: EntryFilter) { entries(filter: $f, first: 1) { totalCount } counts(filter: $f, by: [kind, purpose]) { rows { count } } dailyVolume(filter: $f, series: CLIENT_AGENCY) { series { counts } } }`,
      { f: filter },
    );
    expect(views.errors).toBeUndefined();
    expect(views.data!.entries.totalCount).toBe(totalCount);
    for (const dimension of views.data!.counts) expect(dimension.rows.reduce((sum, row) => sum + row.count, 0)).toBe(totalCount);
    expect(views.data!.dailyVolume.series.flatMap((s) => s.counts).reduce((a, b) => a + b, 0)).toBe(totalCount);
    const csv = await imy.post('/audit/export.csv', filter);
    expect(parseCsv(csv.text).length - 1).toBe(totalCount);
  });
});

describe('audit API: plain language from the schemas', () => {
  interface Label {
    key: string;
    sv: string;
    en: string;
  }
  it("names every personal field, purpose, category, outcome, kind and role in Swedish and English, from the SDL's descriptions", async () => {
    const answer = await skatteverket.graphql<{ vocabulary: Record<string, Label[]> & { timeZone: string } }>(
      `{ vocabulary { timeZone fields { key sv en } purposes { key sv en } categories { key sv en } outcomes { key sv en } kinds { key sv en } anomalyKinds { key sv en } roles { key sv en } } }`,
    );
    expect(answer.errors).toBeUndefined();
    const vocabulary = answer.data!.vocabulary;
    expect(vocabulary.timeZone).toBe('Europe/Stockholm');
    const catalogue = [...readPersonalFieldCatalogue(loadSupergraphSdl(DEFAULT_SUPERGRAPH_PATH).sdl).fields.keys()];
    expect(vocabulary.fields!.map((f) => f.key).sort()).toEqual(catalogue.sort());
    // Every reference field is named by its owner in both languages (not the fallback, the name in words).
    for (const label of vocabulary.fields!) expect(label.sv, label.key).not.toBe(label.en);
    expect(vocabulary.fields!.find((f) => f.key === 'Person.taxedIncome')).toEqual({ key: 'Person.taxedIncome', sv: 'Taxerad inkomst', en: 'Taxed income' });
    expect(vocabulary.purposes!.map((p) => p.key).sort()).toEqual(['CASE_HANDLING', 'DUTY_TO_DISCLOSE', 'INFORMING_THE_INSURED', 'PAYMENT_CONTROL', 'PLANNING_AND_FOLLOW_UP', 'STATISTICS']);
    for (const list of ['purposes', 'categories', 'outcomes', 'kinds', 'anomalyKinds', 'roles']) {
      expect(vocabulary[list]!.length, list).toBeGreaterThan(0);
      for (const label of vocabulary[list]!) expect(label.sv, `${list} ${label.key}`).not.toBe(label.en);
    }
    expect(vocabulary.outcomes!.find((o) => o.key === 'RELEASED')?.sv).toBe('Utlämnad');
  });
});

describe('audit API: the audit of the audit', () => {
  it('logs each search with who searched and the filter, the personnummer encrypted, visible to the supervisor', async () => {
    await entries(skatteverket, { subject, purpose: 'CASE_HANDLING', caseId: 'LOGGED-SEARCH-1' });
    const logged = (await entries(imy, { kind: 'AUDIT_QUERY', clientAgency: 'skatteverket', official: 'dso-skv-1' })).entries.filter((e) => e.operationName?.includes('LOGGED-SEARCH-1'));
    expect(logged).toHaveLength(1);
    const entry = logged[0]!;
    expect(entry).toMatchObject({ kind: 'AUDIT_QUERY', field: 'Query.entries', owningAgency: 'skatteverket', subject, outcome: 'RELEASED' });
    expect(JSON.parse(entry.operationName!)).toEqual({ subject: 'personnummer', purpose: 'CASE_HANDLING', caseId: 'LOGGED-SEARCH-1' });
    // At rest the personnummer is ciphertext: the row's clear columns do not contain it.
    const rows = (await stack.deps.openedAccessLog.store.query({ kind: 'audit-query', official: 'dso-skv-1' }, null, 500)).entries;
    const row = rows.find((r) => r.operationName?.includes('LOGGED-SEARCH-1'));
    expect(JSON.stringify({ ...row, subjectEnc: undefined })).not.toContain(subject);
    expect(row?.subjectEnc).not.toContain(subject);
  });

  it('logs the supervisor too, with scope *', async () => {
    await imy.graphql(`{ counts(filter: { caseId: "IMY-MARK-1" }, by: [purpose]) { dimension } }`);
    const logged = (await entries(imy, { kind: 'AUDIT_QUERY', official: 'imy-insp-1', field: 'Query.counts' })).entries.filter((e) => e.operationName?.includes('IMY-MARK-1'));
    expect(logged.map((e) => [e.field, e.owningAgency, e.subject])).toEqual([['Query.counts', '*', null]]);
  });
});

interface Report {
  reads: Array<{ agency: { id: string }; field: string; category: string; purpose: string; legalBasis: string }>;
  summary: Array<{ agency: { id: string }; category: string; reads: number }>;
  heldBack: Array<{ rule: { id: string; holdUntil: string }; entries: number }>;
}
const REPORT = `query ($p: String!) { citizenReport(personnummer: $p) { reads { agency { id } field category purpose legalBasis } summary { agency { id } category reads } heldBack { rule { id holdUntil } entries } } }`;

describe('citizen report (registerutdrag)', () => {
  it("lists the agencies' reads of the person with category, purpose and legal basis, and holds back a confidential case until its date", async () => {
    const answer = await imy.graphql<{ citizenReport: Report }>(REPORT, { p: subject });
    expect(answer.errors).toBeUndefined();
    const report = answer.data!.citizenReport;
    const released = (await entries(imy, { subject, kind: 'ACCESS', outcome: 'RELEASED' })).entries;
    const confidential = released.filter((e) => e.caseId === 'FK-KONTROLL-77');
    expect(confidential.length).toBeGreaterThan(0);
    expect(report.reads).toHaveLength(released.length - confidential.length);
    expect(report.reads.map((r) => r.field)).toEqual(expect.arrayContaining(['Person.name', 'Person.benefits', 'Person.taxedIncome']));
    // The closed investigation's read is disclosed; the open one is held back, and the supervisor sees by which rule.
    expect(report.reads.filter((r) => r.agency.id === 'forsakringskassan')).toHaveLength(released.filter((e) => e.caseId === 'FK-OLD-12').length);
    expect(report.heldBack).toEqual([{ rule: { id: 'FK-KONTROLL-OPEN', holdUntil: '2999-12-31' }, entries: confidential.length }]);
    expect(report.reads.find((r) => r.field === 'Person.taxedIncome')).toMatchObject({ category: 'INCOME', purpose: 'PAYMENT_CONTROL' });
    expect(report.reads.find((r) => r.field === 'Person.taxedIncome')?.legalBasis).not.toBe('');
  });

  it('shows a privacy officer neither the held-back entries nor that anything was held back', async () => {
    const report = (await skatteverket.graphql<{ citizenReport: Report }>(REPORT, { p: subject })).data!.citizenReport;
    expect(report.heldBack).toEqual([]);
    expect(report.reads.every((r) => r.agency.id !== 'forsakringskassan' || r.field === 'Person.taxedIncome')).toBe(true);
    expect(report.reads.some((r) => r.field === 'Person.benefits')).toBe(false);
  });

  it('says in the printable page and the JSON whose processing an extract covers, in Swedish by default', async () => {
    const officer = await skatteverket.post('/audit/citizen-report', { personnummer: subject });
    expect(officer.text).toMatch(/<html lang="sv">/);
    expect(officer.text).toContain('data-scope="skatteverket"');
    expect(officer.text).toContain('Endast läsningar där Skatteverket');
    const supervisor = await imy.post('/audit/citizen-report', { personnummer: subject });
    expect(supervisor.text).toContain('data-scope="*"');
    const json = await skatteverket.graphql<{ citizenReport: { scope: { agency: { id: string } | null } } }>(`query ($p: String!) { citizenReport(personnummer: $p) { scope { agency { id } } } }`, {
      p: subject,
    });
    expect(json.data!.citizenReport.scope).toEqual({ agency: { id: 'skatteverket' } });
    const all = await imy.graphql<{ citizenReport: { scope: { agency: { id: string } | null } } }>(`query ($p: String!) { citizenReport(personnummer: $p) { scope { agency { id } } } }`, {
      p: subject,
    });
    expect(all.data!.citizenReport.scope).toEqual({ agency: null });
  });

  it('writes the printable page with times in Europe/Stockholm and fields in plain language, in English on request', async () => {
    const released = (await entries(skatteverket, { subject, outcome: 'RELEASED' })).entries;
    const page = await skatteverket.post('/audit/citizen-report', { personnummer: subject });
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    for (const entry of released) expect(page.text).toContain(local.format(new Date(entry.time)));
    expect(page.text).not.toMatch(/\d{2}:\d{2} UTC/);
    expect(page.text).toContain('Taxerad inkomst');
    expect(page.text).not.toMatch(/Person\.\w+/);
    const english = await skatteverket.post('/audit/citizen-report', { personnummer: subject, lang: 'en' });
    expect(english.text).toMatch(/<html lang="en">/);
    expect(english.text).toContain('Taxed income');
    expect(english.text).toContain('Only reads where Skatteverket');
  });

  it('carries in the GraphQL answer, per read, its inclusion proof and the checkpoint, typed, and the answer verifies offline like the JSON download', async () => {
    const opened = stack.deps.openedAccessLog;
    const chain = opened.config.chainId;
    // A tree head covering every read so far (signed each AUDIT_TLOG_INTERVAL_MS while the tree grows).
    // Tree sizes count records (one per request), not entries.
    const { records } = await opened.store.lastHead(chain);
    await vi.waitFor(async () => expect((await opened.store.listTreeHeads(chain, 1))[0]?.size ?? 0).toBeGreaterThanOrEqual(records), { timeout: 30_000, interval: 100 });
    const answer = await imy.graphql<{ citizenReport: any }>(CITIZEN_REPORT_DOCUMENT, { personnummer: subject });
    expect(answer.errors).toBeUndefined();
    const report = answer.data!.citizenReport;
    expect(report.reads.length).toBeGreaterThan(0);
    expect(report.proofs.entries).toHaveLength(report.reads.length);
    expect(report.reads[0].entry).toEqual({ chainId: chain, seq: expect.any(Number) });
    expect(report.proofs.checkpoints).toEqual([{ chainId: chain, note: expect.stringContaining(`/${chain}\n`) }]);
    expect(report.proofs.entries.every((p: { inclusion: string[] | null }) => Array.isArray(p.inclusion))).toBe(true);
    // The stack's log has no witnesses (quorum 0): the log's key is all a verifier needs here.
    const keys = { log: opened.treeSigner.verifier, witnesses: [], quorum: 0 };
    expect(verifyCitizenReport(report, keys)).toMatchObject({ ok: true, reads: report.reads.length, proved: report.reads.length, pending: 0 });
    const edited = JSON.parse(JSON.stringify(report));
    edited.reads[0].purpose = 'STATISTICS';
    expect(verifyCitizenReport(edited, keys)).toMatchObject({ ok: false, code: 'REPORT_SIGNATURE_INVALID' });
    // Asked with the checkpoint the citizen holds, a later answer links to it with a consistency proof.
    const held = report.proofs.checkpoints[0];
    const size = Number(held.note.split('\n')[1]);
    await imy.graphql(`{ entries(first: 1) { totalCount } }`);
    const { records: grown } = await opened.store.lastHead(chain);
    await vi.waitFor(async () => expect((await opened.store.listTreeHeads(chain, 1))[0]?.size ?? 0).toBeGreaterThanOrEqual(grown), { timeout: 30_000, interval: 100 });
    const later = await imy.graphql<{ citizenReport: any }>(CITIZEN_REPORT_DOCUMENT, { personnummer: subject, since: [{ chainId: chain, size }] });
    expect(later.data!.citizenReport.proofs.consistency).toEqual([{ chainId: chain, oldSize: size, newSize: expect.any(Number), proof: expect.any(Array) }]);
    expect(verifyCitizenReport(later.data!.citizenReport, keys, report)).toMatchObject({ ok: true });
    // The answer as the API sent it, handed to `npm run audit -- verify-report`.
    const dir = mkdtempSync(path.join(tmpdir(), 'graphql-report-'));
    try {
      const file = path.join(dir, 'report.json');
      writeFileSync(file, JSON.stringify({ data: answer.data }));
      const out: string[] = [];
      const code = await runAuditCli(
        ['verify-report', file, '--log-key', formatVerifierKey(keys.log)],
        {},
        (line) => out.push(line),
        () => undefined,
      );
      expect(code).toBe(0);
      expect(out.at(-1)).toBe(`ok     ${report.reads.length} reads: ${report.reads.length} proved in the log`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders a printable page naming agencies, never officials', async () => {
    const response = await imy.post('/audit/citizen-report', { personnummer: subject });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('Malmö stad');
    expect(response.text).toContain('Försäkringskassan');
    for (const official of ['tjm-41', 'fk-kontroll-7', 'fk-kontroll-8']) expect(response.text).not.toContain(official);
    expect(response.text).not.toContain('FK-KONTROLL-77');
  });
});
