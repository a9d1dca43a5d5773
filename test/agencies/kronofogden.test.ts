import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptSubject, parseSubjectKeys } from '../../src/audit/index.js';
import type { StoredEntry } from '../../src/audit/entry.js';
import { agencyDbPath } from '../../src/population/index.js';
import type { Purpose } from '../../src/policy/purposes.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Kronofogden, the fifth reference agency, end to end: its own subgraph process-free but over
 * mutual TLS, composed into the committed supergraph, reached through the gateway with the
 * development agreements (src/config/dev/agreements.json): malmo-stad and forsakringskassan may
 * read DEBT for CASE_HANDLING, nobody else and for nothing else.
 */

const QUERY = `query Debts($p: Personnummer!) {
  person(personnummer: $p) {
    enforcementDebt { total publicDebts privateDebts asOf debts { id kind amount registeredOn } }
    distraints { id kind decidedOn period { start end } monthlyAmount }
    debtRestructuring { status appliedOn decidedOn paymentPlan { start end } monthlyPayment }
  }
}`;
const KRONOFOGDEN_FIELDS = ['Person.debtRestructuring', 'Person.distraints', 'Person.enforcementDebt'];

let stack: Stack;
/** A person with debts, a distraint and a debt restructuring, read from Kronofogden's store itself. */
let debtor: string;
let register: Database.Database;

beforeAll(async () => {
  stack = await startStack({ today: '2026-11-24' });
  register = new Database(agencyDbPath(stack.dataDir, 'kronofogden'), { readonly: true });
  debtor = register
    .prepare(
      `SELECT personnummer FROM enforcement_debt
        WHERE personnummer IN (SELECT personnummer FROM distraint) AND personnummer IN (SELECT personnummer FROM debt_restructuring)
        ORDER BY personnummer LIMIT 1`,
    )
    .pluck()
    .get() as string;
  expect(debtor, 'the stack population has a debtor with all three kinds of records').toMatch(/^\d{12}$/);
});

/** The entries of a case, each with its subject decrypted with the stack's audit keys (stored encrypted). */
async function entriesOfCase(caseId: string): Promise<(StoredEntry & { subject: string | null })[]> {
  const keys = parseSubjectKeys(JSON.parse(readFileSync(path.join(stack.certsDir, 'audit-keys.json'), 'utf8')) as { subjectEncryptionKey: string; subjectHmacKey: string });
  const { entries } = await stack.deps.openedAccessLog.store.query({ caseId }, null, 100);
  return entries.map((e) => ({ ...e, subject: e.subjectEnc === null || e.subjectHmac === null ? null : decryptSubject(keys, e.subjectEnc, e.subjectHmac) }));
}

afterAll(async () => {
  register?.close();
  await stack?.close();
});

/** What the register holds about the debtor, as the API should show it (öre, ISO dates). */
function expectedFromRegister(personnummer: string) {
  const debts = register.prepare('SELECT id, kind, amount, registered_on FROM enforcement_debt WHERE personnummer = ? ORDER BY amount DESC, id').all(personnummer) as {
    id: number;
    kind: string;
    amount: number;
    registered_on: string;
  }[];
  const sum = (kind?: string) => debts.filter((d) => kind === undefined || d.kind === kind).reduce((total, d) => total + d.amount, 0);
  const distraints = register
    .prepare('SELECT id, kind, decided_on, period_start, period_end, monthly_amount FROM distraint WHERE personnummer = ? ORDER BY decided_on DESC, id DESC')
    .all(personnummer) as { id: number; kind: string; decided_on: string; period_start: string; period_end: string | null; monthly_amount: number }[];
  const restructuring = register
    .prepare('SELECT status, applied_on, decided_on, plan_start, plan_end, monthly_payment FROM debt_restructuring WHERE personnummer = ? ORDER BY applied_on DESC, id DESC LIMIT 1')
    .get(personnummer) as { status: string; applied_on: string; decided_on: string | null; plan_start: string | null; plan_end: string | null; monthly_payment: number | null };
  return {
    enforcementDebt: {
      total: sum(),
      publicDebts: sum('PUBLIC'),
      privateDebts: sum('PRIVATE'),
      asOf: '2024-12-31',
      debts: debts.map((d) => ({ id: String(d.id), kind: d.kind, amount: d.amount, registeredOn: d.registered_on })),
    },
    distraints: distraints.map((d) => ({
      id: String(d.id),
      kind: d.kind,
      decidedOn: d.decided_on,
      period: { start: d.period_start, end: d.period_end },
      monthlyAmount: d.monthly_amount,
    })),
    debtRestructuring: {
      status: restructuring.status,
      appliedOn: restructuring.applied_on,
      decidedOn: restructuring.decided_on,
      paymentPlan: restructuring.plan_start === null ? null : { start: restructuring.plan_start, end: restructuring.plan_end },
      monthlyPayment: restructuring.monthly_payment,
    },
  };
}

describe('Kronofogden through the gateway', () => {
  it.each([
    ['malmo-stad', 'KFM-MALMO-1'],
    ['forsakringskassan', 'KFM-FK-1'],
  ])('%s, with an agreement for CASE_HANDLING, gets the register values and one released entry per personal value', async (client, caseId) => {
    const response = await stack.client(client, { official: 'handlaggare-5', purpose: 'CASE_HANDLING', caseId, subjects: [debtor] }).query(QUERY, { p: debtor });
    expect(response.errors).toBeUndefined();
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ person: expectedFromRegister(debtor) });

    const entries = await entriesOfCase(caseId);
    expect(entries.map((e) => [e.field, e.owningAgency, e.outcome, e.subject, e.clientAgencyId, e.purpose]).sort()).toEqual(
      KRONOFOGDEN_FIELDS.map((field) => [field, 'kronofogden', 'released', debtor, client, 'CASE_HANDLING']),
    );
  });

  it('a person without any debts gets null and empty values, each logged as released', async () => {
    const clean = stack.sample.persons.find(
      (p) =>
        register.prepare('SELECT 1 FROM enforcement_debt WHERE personnummer = ?').get(p) === undefined &&
        register.prepare('SELECT 1 FROM distraint WHERE personnummer = ?').get(p) === undefined &&
        register.prepare('SELECT 1 FROM debt_restructuring WHERE personnummer = ?').get(p) === undefined,
    )!;
    const response = await stack.client('malmo-stad', { official: 'handlaggare-5', purpose: 'CASE_HANDLING', caseId: 'KFM-CLEAN-1', subjects: [clean] }).query(QUERY, { p: clean });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ person: { enforcementDebt: null, distraints: [], debtRestructuring: null } });
    const entries = await entriesOfCase('KFM-CLEAN-1');
    expect(entries.map((e) => [e.field, e.outcome]).sort()).toEqual(KRONOFOGDEN_FIELDS.map((field) => [field, 'released']));
  });

  // Every refusal: the whole request is refused (403, no data) before Kronofogden is called, and
  // each refused field is logged as a denial with its code.
  const REFUSALS: ReadonlyArray<readonly [client: string, purpose: Purpose, expected: Record<string, 'NO_AGREEMENT' | 'PURPOSE_NOT_ALLOWED'>]> = [
    ['csn', 'CASE_HANDLING', { 'Person.enforcementDebt': 'NO_AGREEMENT', 'Person.distraints': 'NO_AGREEMENT', 'Person.debtRestructuring': 'NO_AGREEMENT' }],
    ['arbetsformedlingen', 'CASE_HANDLING', { 'Person.enforcementDebt': 'NO_AGREEMENT', 'Person.distraints': 'NO_AGREEMENT', 'Person.debtRestructuring': 'NO_AGREEMENT' }],
    ['forsakringskassan', 'PAYMENT_CONTROL', { 'Person.enforcementDebt': 'NO_AGREEMENT', 'Person.distraints': 'NO_AGREEMENT', 'Person.debtRestructuring': 'PURPOSE_NOT_ALLOWED' }],
    ['malmo-stad', 'STATISTICS', { 'Person.enforcementDebt': 'NO_AGREEMENT', 'Person.distraints': 'PURPOSE_NOT_ALLOWED', 'Person.debtRestructuring': 'PURPOSE_NOT_ALLOWED' }],
  ];

  it.each(REFUSALS)('%s for %s is refused before Kronofogden is called, and the denial is logged', async (client, purpose, expected) => {
    const caseId = `KFM-DENY-${client}-${purpose}`;
    const before = stack.queryCounts();
    const response = await stack.client(client, { official: 'handlaggare-6', purpose, caseId, subjects: [debtor] }).query(QUERY, { p: debtor });
    expect(response.status).toBe(403);
    expect(response.data ?? null).toBeNull();
    expect(Object.fromEntries(response.errors!.map((e) => [e.extensions?.['field'], e.extensions?.['code']]))).toEqual(expected);
    for (const error of response.errors!) expect(error.extensions).toMatchObject({ owner: 'kronofogden', purpose, category: 'DEBT' });
    // No store was asked, Kronofogden's least of all.
    expect(stack.queryCounts()).toEqual(before);

    const entries = await entriesOfCase(caseId);
    expect(Object.fromEntries(entries.map((e) => [e.field, e.outcomeCode]))).toEqual(expected);
    for (const entry of entries) expect(entry).toMatchObject({ outcome: 'denied', owningAgency: 'kronofogden', clientAgencyId: client, subject: debtor });
  });
});
