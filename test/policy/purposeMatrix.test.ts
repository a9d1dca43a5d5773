import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Purpose } from '../../src/policy/purposes.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * The specification of who may read what, for which purpose, read off the dev agreements
 * (src/config/dev/agreements.json) and the owners' @personal declarations, written out by hand so
 * the test does not reuse the code it checks. `allowed` or the exact denial code.
 */
type Expected = 'allowed' | 'PURPOSE_NOT_ALLOWED' | 'NO_AGREEMENT';
const MATRIX: ReadonlyArray<readonly [client: string, purpose: Purpose, field: string, selection: string, expected: Expected]> = [
  ['malmo-stad', 'CASE_HANDLING', 'Person.name', 'name { givenName }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.taxedIncome', 'taxedIncome { year }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.household', 'household { personnummer }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.benefits', 'benefits { benefit }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.studentAid', 'studentAid { grant }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.jobSeeker', 'jobSeeker { status }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.sicknessBenefit', 'sicknessBenefit { extentPercent }', 'NO_AGREEMENT'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.studentLoan', 'studentLoan { balance }', 'NO_AGREEMENT'],
  ['malmo-stad', 'STATISTICS', 'Person.name', 'name { givenName }', 'PURPOSE_NOT_ALLOWED'],
  ['malmo-stad', 'STATISTICS', 'Person.dateOfBirth', 'dateOfBirth', 'NO_AGREEMENT'],
  ['malmo-stad', 'PAYMENT_CONTROL', 'Person.studentAid', 'studentAid { grant }', 'NO_AGREEMENT'],
  ['malmo-stad', 'PAYMENT_CONTROL', 'Person.taxedIncome', 'taxedIncome { year }', 'allowed'],
  ['forsakringskassan', 'PAYMENT_CONTROL', 'Person.taxedIncome', 'taxedIncome { earnedIncome }', 'allowed'],
  ['forsakringskassan', 'PAYMENT_CONTROL', 'Person.studentAid', 'studentAid { grant }', 'allowed'],
  ['forsakringskassan', 'CASE_HANDLING', 'Person.studentAid', 'studentAid { grant }', 'NO_AGREEMENT'],
  ['forsakringskassan', 'STATISTICS', 'Person.taxedIncome', 'taxedIncome { year }', 'NO_AGREEMENT'],
  ['forsakringskassan', 'INFORMING_THE_INSURED', 'Person.civilStatus', 'civilStatus', 'PURPOSE_NOT_ALLOWED'],
  ['skatteverket', 'STATISTICS', 'Person.benefits', 'benefits { benefit }', 'allowed'],
  ['skatteverket', 'STATISTICS', 'Person.benefitPayments', 'benefitPayments { amount }', 'allowed'],
  ['skatteverket', 'STATISTICS', 'Person.sicknessBenefit', 'sicknessBenefit { extentPercent }', 'PURPOSE_NOT_ALLOWED'],
  ['arbetsformedlingen', 'CASE_HANDLING', 'Person.benefits', 'benefits { benefit }', 'allowed'],
  ['arbetsformedlingen', 'INFORMING_THE_INSURED', 'Person.benefits', 'benefits { benefit }', 'NO_AGREEMENT'],
  ['csn', 'CASE_HANDLING', 'Person.taxedIncome', 'taxedIncome { year }', 'NO_AGREEMENT'],
  // Kronofogden: malmo-stad and forsakringskassan have DEBT for CASE_HANDLING only; debt restructuring is not declared for payment control.
  ['malmo-stad', 'CASE_HANDLING', 'Person.enforcementDebt', 'enforcementDebt { total }', 'allowed'],
  ['malmo-stad', 'CASE_HANDLING', 'Person.debtRestructuring', 'debtRestructuring { status }', 'allowed'],
  ['malmo-stad', 'PAYMENT_CONTROL', 'Person.enforcementDebt', 'enforcementDebt { total }', 'NO_AGREEMENT'],
  ['malmo-stad', 'PAYMENT_CONTROL', 'Person.debtRestructuring', 'debtRestructuring { status }', 'PURPOSE_NOT_ALLOWED'],
  ['forsakringskassan', 'CASE_HANDLING', 'Person.distraints', 'distraints { monthlyAmount }', 'allowed'],
  ['forsakringskassan', 'PAYMENT_CONTROL', 'Person.distraints', 'distraints { monthlyAmount }', 'NO_AGREEMENT'],
  ['csn', 'CASE_HANDLING', 'Person.enforcementDebt', 'enforcementDebt { total }', 'NO_AGREEMENT'],
  ['skatteverket', 'INFORMING_THE_INSURED', 'Person.enforcementDebt', 'enforcementDebt { total }', 'PURPOSE_NOT_ALLOWED'],
];

/** The same field, reached in each form a client can write it. */
const FORMS: ReadonlyArray<readonly [name: string, wrap: (selection: string) => string]> = [
  ['a plain selection', (s) => `query Q($p: Personnummer!) { person(personnummer: $p) { ${s} } }`],
  ['a named fragment', (s) => `query Q($p: Personnummer!) { person(personnummer: $p) { ...F } } fragment F on Person { ${s} }`],
  ['an inline fragment on a union', (s) => `query Q($p: Personnummer!) { lookup(personnummer: $p) { ... on NotInRegister { reason } ... on Person { ${s} } } }`],
  ['an alias', (s) => `query Q($p: Personnummer!) { person(personnummer: $p) { aliased: ${s} } }`],
  ['a field under @skip(if: true)', (s) => `query Q($p: Personnummer!) { person(personnummer: $p) { personnummer ${s.replace(/^(\w+)/, '$1 @skip(if: true)')} } }`],
  ['a variable @include', (s) => `query Q($p: Personnummer!, $on: Boolean!) { person(personnummer: $p) { personnummer ${s.replace(/^(\w+)/, '$1 @include(if: $on)')} } }`],
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ today: '2026-11-24' });
});
afterAll(async () => {
  await stack?.close();
});

describe.each(FORMS)('purpose check, field reached through %s', (_form, wrap) => {
  it.each(MATRIX)('%s for %s: %s is %s', async (client, purpose, field, selection, expected) => {
    const subject = stack.sample.withBenefits;
    const before = stack.queryCounts();
    const response = await stack.client(client, { official: 'tjm-1', purpose, caseId: 'CASE-1', subjects: [subject] }).query(wrap(selection), { p: subject, on: false });
    if (expected === 'allowed') {
      expect(response.errors ?? []).toEqual([]);
      expect(response.status).toBe(200);
      return;
    }
    expect(response.status).toBe(403);
    expect(response.data ?? null).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.extensions).toMatchObject({ code: expected, field, purpose, owner: expect.any(String) });
    // Refused before any data was fetched: no agency store was asked.
    expect(stack.queryCounts()).toEqual(before);
  });
});

describe('purpose check', () => {
  it('denies a nested field owned by another subgraph than its parent', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-1', purpose: 'CASE_HANDLING', caseId: 'C', subjects: [subject] })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { household { sicknessBenefit { extentPercent } } } }', { p: subject });
    expect(response.status).toBe(403);
    expect(response.errors?.map((e) => e.extensions?.['code'])).toEqual(['NO_AGREEMENT']);
    expect(response.errors?.[0]?.extensions).toMatchObject({ field: 'Person.sicknessBenefit', owner: 'forsakringskassan' });
  });

  it('returns one error per denied field and no partial data', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-1', purpose: 'STATISTICS', caseId: 'C', subjects: [subject] })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } registeredAddress { city } dateOfBirth sex } }', { p: subject });
    expect(response.data ?? null).toBeNull();
    expect(new Map(response.errors!.map((e) => [e.extensions?.['field'], e.extensions?.['code']]))).toEqual(
      new Map([
        ['Person.name', 'PURPOSE_NOT_ALLOWED'],
        ['Person.registeredAddress', 'PURPOSE_NOT_ALLOWED'],
        ['Person.dateOfBirth', 'NO_AGREEMENT'],
        ['Person.sex', 'NO_AGREEMENT'],
      ]),
    );
  });

  it('names an expired agreement as the reason', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('csn', { official: 'csn-7', purpose: 'CASE_HANDLING', caseId: 'C', subjects: [subject] })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { taxedIncome { year } } }', { p: subject });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'NO_AGREEMENT', reason: 'AGREEMENT_EXPIRED', owner: 'skatteverket' });
  });

  it('lets non-personal fields through for any purpose', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-1', purpose: 'STATISTICS', caseId: 'C', subjects: [subject] })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { personnummer } }', { p: subject });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ person: { personnummer: subject } });
  });
});

describe('purpose catalogue', () => {
  it('tells a caller which fields it may request for its purpose, with the agreement behind each', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('forsakringskassan', { official: 'fk-1', purpose: 'PAYMENT_CONTROL', caseId: 'C', subjects: [subject] })
      .query<{ myPermissions: Array<{ field: string; owner: string; agreementId: string }>; myAgreements: Array<{ id: string; inForce: boolean }> }>(
        '{ myPermissions { field owner category purpose agreementId legalBasis } myAgreements { id inForce } }',
      );
    expect(response.errors).toBeUndefined();
    const fields = response.data!.myPermissions.map((p) => p.field);
    expect(fields).toContain('Person.taxedIncome');
    expect(fields).toContain('Person.studentAid');
    expect(fields).not.toContain('Person.studentLoan');
    expect(fields).not.toContain('Person.sicknessBenefit');
    expect(response.data!.myPermissions.find((p) => p.field === 'Person.taxedIncome')?.agreementId).toBe('AGR-FK-SKV-2024-07');
    expect(response.data!.myAgreements.map((a) => a.id).sort()).toEqual(['AGR-FK-AF-2024-07', 'AGR-FK-CSN-2024-07', 'AGR-FK-KFM-2025-01', 'AGR-FK-SKV-2024-07']);
  });

  it('answers for another purpose when asked', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-1', purpose: 'CASE_HANDLING', caseId: 'C', subjects: [subject] })
      .query<{ myPermissions: unknown[] }>('{ myPermissions(purpose: STATISTICS) { field } }');
    expect(response.errors).toBeUndefined();
    expect(response.data!.myPermissions).toEqual([]);
  });
});
