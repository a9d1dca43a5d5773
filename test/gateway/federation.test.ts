import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../src/apollo/composeSupergraph.js';
import { referenceSubgraphSources } from '../../src/composition/referenceSubgraphs.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { startStack, type Stack } from '../support/stack.js';

const HEADER_LINES = /^#.*\n/;

describe('composition', () => {
  const composed = composeSupergraph(referenceSubgraphSources('https'));

  it('composes the five agency subgraphs and the exchange subgraph', () => {
    for (const name of ['skatteverket', 'forsakringskassan', 'csn', 'arbetsformedlingen', 'kronofogden', 'exchange']) {
      expect(composed.supergraphSdl).toContain(`@join__graph(name: "${name}"`);
    }
  });

  it.each([
    ['skatteverket', ['name', 'dateOfBirth', 'registeredAddress', 'household', 'protectedIdentity', 'taxedIncome']],
    ['forsakringskassan', ['benefits', 'benefitPayments', 'sicknessBenefit']],
    ['csn', ['studentAid', 'studentLoan']],
    ['arbetsformedlingen', ['jobSeeker', 'activitySupport']],
    ['kronofogden', ['enforcementDebt', 'distraints', 'debtRestructuring']],
  ])('the supergraph holds every Person field of %s, owned by it', (agency, fields) => {
    for (const field of fields) {
      expect(composed.supergraphSdl).toMatch(new RegExp(`\\n  ${field}(\\(.*\\))?: .*@join__field\\(graph: ${agency.toUpperCase()}\\)`));
    }
  });

  it('the committed supergraph and API schema are what `npm run compose` produces', () => {
    expect(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8').replace(HEADER_LINES, '').trim()).toBe(composed.supergraphSdl.trim());
    expect(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8').replace(HEADER_LINES, '').trim()).toBe(composed.apiSchemaSdl.trim());
  });

  it('the API schema has no federation internals', () => {
    expect(composed.apiSchemaSdl).not.toMatch(/join__|link__|_entities|_service/);
  });
});

describe('gateway over the reference subgraphs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  const clientFor = (subjects: readonly string[]) => stack.client('malmo-stad', { official: 'handlaggare-17', purpose: 'CASE_HANDLING', caseId: 'SOC-2026-0042', subjects });

  it('answers one query with fields owned by four agencies', async () => {
    const subject = stack.sample.withBenefits;
    const response = await clientFor([subject]).query<{ person: Record<string, unknown> }>(
      `query Person($p: Personnummer!) {
        person(personnummer: $p) {
          personnummer
          name { givenName familyName }
          taxedIncome { year earnedIncome }
          benefits { benefit amount unit }
          studentAid { grant }
          jobSeeker { status }
        }
      }`,
      { p: subject },
    );
    expect(response.errors).toBeUndefined();
    const person = response.data!.person;
    expect(person['personnummer']).toBe(subject);
    expect(person['name']).toMatchObject({ givenName: expect.any(String), familyName: expect.any(String) });
    expect((person['taxedIncome'] as unknown[]).length).toBeGreaterThan(0);
    expect((person['benefits'] as unknown[]).length).toBeGreaterThan(0);
    expect(person).toHaveProperty('studentAid');
    expect(person).toHaveProperty('jobSeeker');
  });

  it('batches: 50 persons cost the same number of store queries per agency as 5', async () => {
    const query = `query Many($ps: [Personnummer!]!) {
      persons(personnummer: $ps) {
        name { familyName } taxedIncome { year } benefits { benefit payments { amount } } studentAid { grant } jobSeeker { status }
        enforcementDebt { total } distraints { monthlyAmount } debtRestructuring { status }
      }
    }`;
    const measure = async (subjects: readonly string[]) => {
      const before = stack.queryCounts();
      const response = await clientFor(subjects).query<{ persons: unknown[] }>(query, { ps: subjects });
      expect(response.errors).toBeUndefined();
      expect(response.data!.persons).toHaveLength(subjects.length);
      const after = stack.queryCounts();
      return Object.fromEntries(Object.keys(after).map((agency) => [agency, after[agency]! - before[agency]!]));
    };
    const fifty = stack.sample.persons.length >= 10 ? await manyPersons(stack, 50) : [];
    const forFive = await measure(fifty.slice(0, 5));
    const forFifty = await measure(fifty);
    expect(forFifty).toEqual(forFive);
    // One statement per loader level: Skatteverket's person row and income, Försäkringskassan's
    // decisions and their payments (a second level), CSN's aid, Arbetsförmedlingen's registration,
    // Kronofogden's debts, distraints and restructurings.
    expect(forFifty).toEqual({ skatteverket: 2, forsakringskassan: 2, csn: 1, arbetsformedlingen: 1, kronofogden: 3 });
  });

  it.each([
    ['bad check digit', 'INVALID_CHECK_DIGIT'],
    ['bad date', 'INVALID_DATE'],
    ['wrong length', 'WRONG_LENGTH'],
    ['letters', 'NOT_DIGITS'],
  ])('refuses a personnummer with a %s as BAD_USER_INPUT before any agency is asked', async (_, problem) => {
    const valid = stack.sample.withBenefits;
    const invalid = {
      INVALID_CHECK_DIGIT: valid.slice(0, 11) + String((Number(valid[11]) + 1) % 10),
      INVALID_DATE: `${valid.slice(0, 4)}1332${valid.slice(8)}`,
      WRONG_LENGTH: valid.slice(0, 10),
      NOT_DIGITS: `${valid.slice(0, 8)}ABCD`,
    }[problem]!;
    const before = stack.queryCounts();
    for (const asLiteral of [false, true]) {
      const response = asLiteral
        ? await clientFor([valid]).query(`{ person(personnummer: "${invalid}") { name { givenName } } }`)
        : await clientFor([valid]).query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }', { p: invalid });
      expect(response.status).toBe(400);
      expect(response.data ?? null).toBeNull();
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', problem });
      expect(response.errors?.[0]?.message).not.toContain(invalid);
    }
    expect(stack.queryCounts()).toEqual(before);
  });

  it('answers null, not an error, for a valid personnummer nobody has', async () => {
    const unknown = stack.sample.notInRegister;
    const response = await clientFor([unknown]).query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }', { p: unknown });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ person: null });
  });
});

/** Personnummer of `n` registered persons without protected identity, read from Skatteverket's store. */
async function manyPersons(stack: Stack, n: number): Promise<string[]> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(`${stack.dataDir}/skatteverket.db`, { readonly: true });
  try {
    // Working-age adults, so that benefits (and their payments, a second loader level) occur.
    return db
      .prepare("SELECT personnummer FROM person WHERE protected_identity = 'NONE' AND substr(personnummer, 1, 4) BETWEEN '1975' AND '1995' ORDER BY personnummer LIMIT ?")
      .pluck()
      .all(n) as string[];
  } finally {
    db.close();
  }
}
