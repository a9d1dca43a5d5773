import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { entriesOfCase } from '../support/accessLogEntries.js';

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

  it('withholds every personal field of a person asked for by argument outside the case', async () => {
    const [inCase, outside] = [stack.sample.withBenefits, stack.sample.withStudentAid];
    const response = await caseHandling([inCase], 'SB-1').query<{ person: Record<string, unknown> }>(
      'query ($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } taxedIncome { year } benefits { benefit } studentAid { grant } } }',
      { p: outside },
    );
    expect(response.status).toBe(200);
    expect(response.data!.person).toEqual({ personnummer: outside, name: null, taxedIncome: null, benefits: null, studentAid: null });
    expect(codesAt(response.errors)).toEqual(
      new Map([
        ['person.name', 'SUBJECT_NOT_IN_CASE'],
        ['person.taxedIncome', 'SUBJECT_NOT_IN_CASE'],
        ['person.benefits', 'SUBJECT_NOT_IN_CASE'],
        ['person.studentAid', 'SUBJECT_NOT_IN_CASE'],
      ]),
    );
  });

  it('releases the subject and withholds the others in a list', async () => {
    const [inCase, outside] = [stack.sample.withBenefits, stack.sample.jobSeeker];
    const response = await caseHandling([inCase], 'SB-2').query<{ persons: Array<{ name: unknown }> }>(
      'query ($ps: [Personnummer!]!) { persons(personnummer: $ps) { name { givenName } } }',
      { ps: [inCase, outside] },
    );
    expect(response.data!.persons[0]!.name).not.toBeNull();
    expect(response.data!.persons[1]!.name).toBeNull();
    expect(codesAt(response.errors)).toEqual(new Map([['persons.1.name', 'SUBJECT_NOT_IN_CASE']]));
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

  it('withholds through a union too', async () => {
    const response = await caseHandling([stack.sample.withBenefits], 'SB-6').query<{ lookup: { name: unknown } }>(
      'query ($p: Personnummer!) { lookup(personnummer: $p) { ... on Person { name { givenName } } } }',
      { p: stack.sample.withStudentAid },
    );
    expect(response.data!.lookup.name).toBeNull();
    expect(codesAt(response.errors)).toEqual(new Map([['lookup.name', 'SUBJECT_NOT_IN_CASE']]));
  });

  it('logs every withheld field as withheld, with its code', async () => {
    const [head, ...members] = stack.sample.household;
    await caseHandling([head!], 'SB-7').query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } household { name { givenName } } } }', { p: head });
    const entries = await entriesOfCase(stack, 'SB-7');
    const withheld = entries.filter((e) => e.outcome === 'withheld');
    expect(withheld.map((e) => e.subject).sort()).toEqual([...members].sort());
    expect(withheld.every((e) => e.outcomeCode === 'SUBJECT_NOT_IN_CASE' && e.field === 'Person.name')).toBe(true);
    expect(entries.filter((e) => e.outcome === 'released').map((e) => `${e.subject} ${e.field}`).sort()).toEqual([`${head} Person.household`, `${head} Person.name`].sort());
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
