import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { entriesOfCase, tally } from '../support/accessLogEntries.js';
import { createRawClient } from '../support/rawClient.js';

/**
 * Entries are derived from the response (resolvers do not run in a federated gateway), so these
 * tests count the personal values of each response independently, from its JSON and the field
 * names, and compare with the committed log: exactly one `released` entry per personal value,
 * naming its subject and field, and nothing for non-personal fields.
 */
const PERSONAL_FIELDS = new Set([
  'name',
  'dateOfBirth',
  'sex',
  'identityNumberKind',
  'protectedIdentity',
  'registeredAddress',
  'civilStatus',
  'household',
  'taxedIncome',
  'benefits',
  'benefitPayments',
  'sicknessBenefit',
  'studentAid',
  'studentLoan',
  'jobSeeker',
  'activitySupport',
]);

/** Walks a response: every object with `personnummer` is a person; its keys (alias → field) that are personal count once. */
function expectedFromResponse(data: unknown, aliases: Record<string, string> = {}): Map<string, number> {
  const counts = new Map<string, number>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    const subject = object['personnummer'];
    for (const [key, child] of Object.entries(object)) {
      const field = aliases[key] ?? key;
      if (typeof subject === 'string' && PERSONAL_FIELDS.has(field)) {
        const tallyKey = `${subject}|Person.${field}|released|`;
        counts.set(tallyKey, (counts.get(tallyKey) ?? 0) + 1);
      }
      visit(child);
    }
  };
  visit(data);
  return counts;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('access log: one entry per personal value released', () => {
  it.each([
    {
      name: 'fragments over three owning agencies',
      query: `query Fragments($p: Personnummer!) { person(personnummer: $p) { ...Identity ...Money } }
        fragment Identity on Person { personnummer name { givenName } dateOfBirth }
        fragment Money on Person { personnummer taxedIncome { year } benefits { benefit payments { amount } } studentAid { grant } }`,
      variables: (s: Stack) => ({ p: s.sample.withBenefits }),
      subjects: (s: Stack) => [s.sample.withBenefits],
      aliases: {},
    },
    {
      name: 'aliases, including the same field twice',
      query: `query Aliases($p: Personnummer!) { person(personnummer: $p) { personnummer fornamn: name { givenName } efternamn: name { familyName } inkomst2023: taxedIncome(year: 2023) { earnedIncome } inkomst2022: taxedIncome(year: 2022) { earnedIncome } } }`,
      variables: (s: Stack) => ({ p: s.sample.withBenefits }),
      subjects: (s: Stack) => [s.sample.withBenefits],
      aliases: { fornamn: 'name', efternamn: 'name', inkomst2023: 'taxedIncome', inkomst2022: 'taxedIncome' },
    },
    {
      name: 'many persons across four agencies, with a resolved null',
      query: `query Many($ps: [Personnummer!]!) { persons(personnummer: $ps) { personnummer name { familyName } jobSeeker { status } studentAid { grant } benefits { benefit } } }`,
      variables: (s: Stack) => ({ ps: [...s.sample.persons] }),
      subjects: (s: Stack) => [...s.sample.persons],
      aliases: {},
    },
    {
      name: 'a household where every member is a subject, through a nested entity join',
      query: `query Household($p: Personnummer!) { person(personnummer: $p) { personnummer household { personnummer name { givenName } benefits { benefit } studentAid { grant } } } }`,
      variables: (s: Stack) => ({ p: s.sample.household[0] }),
      subjects: (s: Stack) => [...s.sample.household],
      aliases: {},
    },
  ])('$name', async ({ name, query, variables, subjects, aliases }) => {
    const caseId = `EXACT-${name.slice(0, 20)}`;
    const response = await stack.client('malmo-stad', { official: 'tjm-5', purpose: 'CASE_HANDLING', caseId, subjects: subjects(stack) }).query(query, variables(stack));
    expect(response.errors).toBeUndefined();
    const expected = expectedFromResponse(response.data, aliases);
    expect([...expected.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const entries = await entriesOfCase(stack, caseId);
    expect(tally(entries)).toEqual(expected);
    expect(new Set(entries.map((e) => e.requestId))).toEqual(new Set([response.extensions?.['requestId']]));
    // Markers the gateway added to learn the subjects never reach the client.
    expect(JSON.stringify(response.data)).not.toContain('_audit_');
  });

  it('logs nothing for an operation without personal fields', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('malmo-stad', { official: 'tjm-5', purpose: 'CASE_HANDLING', caseId: 'EXACT-none', subjects: [subject] })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { personnummer } }', { p: subject });
    expect(response.errors).toBeUndefined();
    expect(await entriesOfCase(stack, 'EXACT-none')).toEqual([]);
  });

  it('records what an entry must say: who, why, on which basis, for which request', async () => {
    const subject = stack.sample.withBenefits;
    const response = await stack
      .client('forsakringskassan', { official: 'fk-kontroll-3', purpose: 'PAYMENT_CONTROL', caseId: 'EXACT-fields', subjects: [subject] })
      .query('query Kontroll($p: Personnummer!) { person(personnummer: $p) { taxedIncome { earnedIncome } } }', { p: subject });
    const [entry] = await entriesOfCase(stack, 'EXACT-fields');
    expect(entry).toMatchObject({
      requestId: response.extensions?.['requestId'],
      clientAgencyId: 'forsakringskassan',
      clientAgencyOrgNumber: '202100-5521',
      official: 'fk-kontroll-3',
      purpose: 'PAYMENT_CONTROL',
      processingRegisterRecordId: 'FK-RPU-0007',
      processingRegisterVersion: '12',
      subject,
      field: 'Person.taxedIncome',
      owningAgency: 'skatteverket',
      outcome: 'released',
      operationName: 'Kontroll',
      documentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(entry!.legalBasis).toContain('socialförsäkringsbalken');
    // At rest the personnummer is encrypted, with a keyed hash beside it.
    expect(entry!.subjectEnc).not.toContain(subject);
    expect(entry!.subjectHmac).toMatch(/^[0-9a-f]{64}$/);
  });

  it('logs a denied operation: each denied field, for each subject of the case, with its code', async () => {
    const subjects = [stack.sample.withBenefits, stack.sample.jobSeeker];
    const response = await stack
      .client('malmo-stad', { official: 'tjm-5', purpose: 'STATISTICS', caseId: 'EXACT-denied', subjects })
      .query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } dateOfBirth } }', { p: subjects[0] });
    expect(response.status).toBe(403);
    const entries = await entriesOfCase(stack, 'EXACT-denied');
    expect(tally(entries)).toEqual(
      new Map(
        subjects.flatMap((s) => [
          [`${s}|Person.name|denied|PURPOSE_NOT_ALLOWED`, 1],
          [`${s}|Person.dateOfBirth|denied|NO_AGREEMENT`, 1],
        ]),
      ),
    );
  });

  it('returns the request id in a header and in the response extensions', async () => {
    const subject = stack.sample.withBenefits;
    const client = createRawClient(stack.certsDir, 'malmo-stad', stack.gateway.url);
    try {
      const response = await client.send({
        body: JSON.stringify({ query: '{ __typename }' }),
        claims: { official: 'tjm-5', purpose: 'CASE_HANDLING', caseId: 'EXACT-raw', subjects: [subject] },
      });
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.json?.extensions?.requestId).toBe(response.headers['x-request-id']);
    } finally {
      await client.close();
    }
  });
});
