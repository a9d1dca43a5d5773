import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { entriesOfCase } from '../support/accessLogEntries.js';
import { makePersonnummer } from '../../src/personnummer/index.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const codesAt = (errors: readonly { path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] | undefined) =>
  new Map((errors ?? []).map((e) => [e.path?.join('.'), e.extensions?.['code']]));

describe('subject binding: personal fields only of the persons the case concerns', () => {
  const caseHandling = (subjects: string[], caseId: string) => stack.client('malmo-stad', { official: 'tjm-2', purpose: 'CASE_HANDLING', caseId, subjects });

  // A personnummer is personal data, and so is the answer to "is this number registered?": a
  // number outside the case refuses the whole operation before any agency is asked, whatever
  // form it comes in, and the person asked about sees the attempt in their own access history.
  const outsideForms = [
    { name: 'a variable', query: 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }', variables: (o: string) => ({ p: o }) },
    { name: 'a literal', query: (o: string) => `{ person(personnummer: "${o}") { name { givenName } } }`, variables: () => ({}) },
    { name: 'the hyphenated form', query: 'query ($p: Personnummer!) { person(personnummer: $p) { sex } }', variables: (o: string) => ({ p: `${o.slice(0, 8)}-${o.slice(8)}` }) },
    { name: 'a list beside a subject', query: 'query ($ps: [Personnummer!]!) { persons(personnummer: $ps) { sex } }', variables: (o: string, s: string) => ({ ps: [s, o] }) },
    { name: 'a variable default the request does not send', query: (o: string) => `query ($p: Personnummer! = "${o}") { person(personnummer: $p) { sex } }`, variables: () => ({}) },
    { name: 'a union lookup', query: 'query ($p: Personnummer!) { lookup(personnummer: $p) { __typename ... on Person { sex } } }', variables: (o: string) => ({ p: o }) },
    { name: 'a field skipped by @skip', query: 'query ($p: Personnummer!, $s: Boolean = true) { a: person(personnummer: $p) @skip(if: $s) { sex } }', variables: (o: string) => ({ p: o }) },
    { name: 'a fragment with an alias', query: 'query ($p: Personnummer!) { ...F } fragment F on Query { other: person(personnummer: $p) { personnummer } }', variables: (o: string) => ({ p: o }) },
  ];

  it.each(outsideForms)('refuses a personnummer outside the case given as $name, before any agency is asked, and logs the attempt', async ({ name, query, variables }) => {
    const [inCase, outside] = [stack.sample.withBenefits, stack.sample.withStudentAid];
    const caseId = `SB-OUT-${outsideForms.findIndex((f) => f.name === name)}`;
    const before = stack.queryCounts();
    const response = await caseHandling([inCase], caseId).query(typeof query === 'string' ? query : query(outside), variables(outside, inCase));
    expect(response.status).toBe(403);
    expect(response.data).toBeUndefined();
    expect(response.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBJECT_NOT_IN_CASE']);
    expect(JSON.stringify(response)).not.toContain(outside);
    expect(stack.queryCounts()).toEqual(before);
    const entries = await entriesOfCase(stack, caseId);
    expect(entries.map((e) => [e.subject, e.outcome, e.outcomeCode])).toEqual([[outside, 'denied', 'SUBJECT_NOT_IN_CASE']]);
  });

  it('answers a registered non-subject and an unregistered number alike: no register-membership oracle', async () => {
    const unregistered = makePersonnummer('1901-01-01', 999);
    const query = 'query ($p: Personnummer!) { lookup(personnummer: $p) { __typename } }';
    const [a, b] = await Promise.all([
      caseHandling([stack.sample.withBenefits], 'SB-ORACLE-1').query(query, { p: stack.sample.withStudentAid }),
      caseHandling([stack.sample.withBenefits], 'SB-ORACLE-2').query(query, { p: unregistered }),
    ]);
    expect([a.status, a.data, a.errors?.map((e) => [e.extensions?.['code'], e.message])]).toEqual([b.status, b.data, b.errors?.map((e) => [e.extensions?.['code'], e.message])]);
  });

  it('lets a caller ask about its own subjects, in any form, and a subject outside the register says so', async () => {
    const unregistered = makePersonnummer('1901-01-01', 999);
    const response = await caseHandling([stack.sample.withBenefits, unregistered], 'SB-IN').query<{ lookup: { __typename: string }; persons: unknown[] }>(
      'query ($p: Personnummer!, $ps: [Personnummer!]!) { lookup(personnummer: $p) { __typename } persons(personnummer: $ps) { sex } }',
      { p: unregistered, ps: [`${stack.sample.withBenefits.slice(0, 8)}-${stack.sample.withBenefits.slice(8)}`] },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.lookup.__typename).toBe('NotInRegister');
    expect(response.data!.persons).toHaveLength(1);
  });

  it("withholds household members reached through Skatteverket's own relation", async () => {
    const [head, ...members] = stack.sample.household;
    const response = await caseHandling([head!], 'SB-3').query<{ person: { household: Array<{ personnummer: string; name: unknown; taxedIncome: unknown }> } }>(
      'query ($p: Personnummer!) { person(personnummer: $p) { household { personnummer name { givenName } taxedIncome { year } } } }',
      { p: head },
    );
    const household = response.data!.person.household;
    expect(household.map((m) => m.personnummer).sort()).toEqual([...members].sort());
    expect(household.every((m) => m.name === null && m.taxedIncome === null)).toBe(true);
    expect([...codesAt(response.errors).values()]).toEqual(Array(members.length * 2).fill('SUBJECT_NOT_IN_CASE'));
  });

  it("logs each household member's personnummer the response discloses as disclosed to that member", async () => {
    const [head, ...members] = stack.sample.household;
    await caseHandling([head!], 'SB-KEYS').query('query ($p: Personnummer!) { person(personnummer: $p) { household { personnummer } alias: household { personnummer } } }', { p: head });
    const entries = await entriesOfCase(stack, 'SB-KEYS');
    const keys = entries.filter((e) => e.field === 'Person.personnummer');
    // Each member's number went out twice (two aliases): two entries each, basis the household agreement.
    expect(keys.map((e) => e.subject).sort()).toEqual([...members, ...members].sort());
    expect(keys.every((e) => e.outcome === 'released' && e.owningAgency === 'skatteverket' && e.legalBasis !== 'unknown')).toBe(true);
    expect(entries.filter((e) => e.field === 'Person.household').map((e) => e.subject)).toEqual([head, head]);
  });

  it('withholds fields of another agency on a person reached through a relation (entity join)', async () => {
    const [head, ...members] = stack.sample.household;
    const response = await caseHandling([head!], 'SB-4').query<{ person: { household: Array<{ benefits: unknown; jobSeeker: unknown }> } }>(
      'query ($p: Personnummer!) { person(personnummer: $p) { household { benefits { benefit } jobSeeker { status } } } }',
      { p: head },
    );
    expect(response.data!.person.household.every((m) => m.benefits === null && m.jobSeeker === null)).toBe(true);
    const codes = [...codesAt(response.errors).entries()];
    expect(codes).toHaveLength(members.length * 2);
    expect(codes.every(([path, code]) => /^person\.household\.\d+\.(benefits|jobSeeker)$/.test(path ?? '') && code === 'SUBJECT_NOT_IN_CASE')).toBe(true);
  });

  it('releases household members that are subjects of the case too', async () => {
    const household = [...stack.sample.household];
    const response = await caseHandling(household, 'SB-5').query<{ person: { household: Array<{ name: unknown; benefits: unknown }> } }>(
      'query ($p: Personnummer!) { person(personnummer: $p) { household { name { givenName } benefits { benefit } } } }',
      { p: household[0] },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.person.household.every((m) => m.name !== null && m.benefits !== null)).toBe(true);
  });

  it('logs every withheld field as withheld, with its code', async () => {
    const [head, ...members] = stack.sample.household;
    await caseHandling([head!], 'SB-7').query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } household { name { givenName } } } }', { p: head });
    const entries = await entriesOfCase(stack, 'SB-7');
    const withheld = entries.filter((e) => e.outcome === 'withheld');
    expect(withheld.map((e) => e.subject).sort()).toEqual([...members].sort());
    expect(withheld.every((e) => e.outcomeCode === 'SUBJECT_NOT_IN_CASE' && e.field === 'Person.name')).toBe(true);
    expect(
      entries
        .filter((e) => e.outcome === 'released')
        .map((e) => `${e.subject} ${e.field}`)
        .sort(),
    ).toEqual([`${head} Person.household`, `${head} Person.name`].sort());
  });
});

describe('protected identity', () => {
  const query = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } registeredAddress { city } } }';

  it('withholds the address of a protected person when no agreement allows it, and logs the withholding', async () => {
    const subject = stack.sample.protectedIdentity;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-3', purpose: 'CASE_HANDLING', caseId: 'PI-1', subjects: [subject] })
      .query<{ person: { name: unknown; registeredAddress: unknown } }>(query, { p: subject });
    expect(response.data!.person.name).not.toBeNull();
    expect(response.data!.person.registeredAddress).toBeNull();
    expect(codesAt(response.errors)).toEqual(new Map([['person.registeredAddress', 'PROTECTED_IDENTITY']]));
    const entries = await entriesOfCase(stack, 'PI-1');
    expect(entries.find((e) => e.field === 'Person.registeredAddress')).toMatchObject({ outcome: 'withheld', outcomeCode: 'PROTECTED_IDENTITY', subject });
  });

  it('releases it when the agreement explicitly allows protected identities', async () => {
    const subject = stack.sample.protectedIdentity;
    const response = await stack
      .client('forsakringskassan', { official: 'fk-9', purpose: 'PAYMENT_CONTROL', caseId: 'PI-2', subjects: [subject] })
      .query<{ person: { registeredAddress: { city: string } | null } }>(query, { p: subject });
    expect(response.errors).toBeUndefined();
    expect(response.data!.person.registeredAddress?.city).toEqual(expect.any(String));
  });

  it('does not withhold the address of persons without protected identity', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-3', purpose: 'CASE_HANDLING', caseId: 'PI-3', subjects: [subject] })
      .query<{ person: { registeredAddress: unknown } }>(query, { p: subject });
    expect(response.errors).toBeUndefined();
    expect(response.data!.person.registeredAddress).not.toBeNull();
  });
});
