import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { graphql, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArbetsformedlingenSubgraph, type ArbetsformedlingenLoaders } from '../resolvers/arbetsformedlingen/index.js';
import { createCsnSubgraph, type CsnLoaders } from '../resolvers/csn/index.js';
import { createForsakringskassanSubgraph, type ForsakringskassanLoaders } from '../resolvers/forsakringskassan/index.js';
import { createSkatteverketSubgraph, type SkatteverketLoaders } from '../resolvers/skatteverket/index.js';
import { agencyDbPath, samplePersons, type SamplePersons } from '../src/population/index.js';
import type { AgencySubgraph, SubgraphContext } from '../src/subgraph-kit/types.js';
import { generateTestPopulation, type TestPopulation } from './support/population.js';

interface Served<TLoaders> {
  readonly subgraph: AgencySubgraph<TLoaders>;
  readonly schema: GraphQLSchema;
}

interface Run {
  readonly result: ExecutionResult;
  readonly data: Record<string, any>;
  /** Store statements the operation ran. */
  readonly statements: number;
}

function serve<TLoaders>(subgraph: AgencySubgraph<TLoaders>): Served<TLoaders> {
  // Apollo's resolver map is typed for an unknown context; ours is the subgraph's own.
  return { subgraph, schema: buildSubgraphSchema({ typeDefs: subgraph.typeDefs, resolvers: subgraph.resolvers as GraphQLResolverMap<unknown> }) };
}

/** One request: fresh loaders, as the kit creates them per request; no caller (no guard is installed here). */
async function run<TLoaders>(served: Served<TLoaders>, source: string, variableValues: Record<string, unknown> = {}): Promise<Run> {
  const before = served.subgraph.queryCount();
  const contextValue: SubgraphContext<TLoaders> = { caller: null, protectedIdentityAccess: false, categories: new Set(), provided: new Set(), loaders: served.subgraph.createLoaders() };
  const result = await graphql({ schema: served.schema, source, variableValues, contextValue });
  return { result, data: (result.data ?? {}) as Record<string, any>, statements: served.subgraph.queryCount() - before };
}

function errorCodes(result: ExecutionResult): unknown[] {
  return (result.errors ?? []).map((error) => error.extensions['code']);
}

function representations(personnummer: readonly string[]): { __typename: 'Person'; personnummer: string }[] {
  return personnummer.map((p) => ({ __typename: 'Person', personnummer: p }));
}

const ENTITIES = 'query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Person { %s } } }';
const entities = (selection: string): string => ENTITIES.replace('%s', selection);

function isNewestFirst(days: readonly string[]): boolean {
  return days.every((day, i) => i === 0 || (days[i - 1] ?? '') >= day);
}

let population: TestPopulation;
let samples: SamplePersons;
/** 50 persons: the samples with data in every agency, filled up with spread register entries. */
let fifty: string[];

beforeAll(async () => {
  population = await generateTestPopulation(2_000, 11);
  samples = samplePersons(population.dir, 60);
  const special = [samples.withBenefits, samples.withSicknessBenefit, samples.withStudentAid, samples.withStudentLoan, samples.jobSeeker, ...samples.household];
  fifty = [...new Set([...special, ...samples.persons])].slice(0, 50);
});

afterAll(() => population?.remove());

describe('Skatteverket subgraph', () => {
  let served: Served<SkatteverketLoaders>;
  let skatteverket: AgencySubgraph<SkatteverketLoaders>;
  beforeAll(() => {
    skatteverket = createSkatteverketSubgraph({ dbPath: agencyDbPath(population.dir, 'skatteverket') });
    served = serve(skatteverket);
  });
  afterAll(() => skatteverket?.close());

  it('answers Query.person from the register, with the household in one more batch per level', async () => {
    const [subject, ...others] = samples.household;
    const { result, data, statements } = await run(
      served,
      `query ($p: Personnummer!) { person(personnummer: $p) {
        personnummer name { givenName familyName } dateOfBirth sex identityNumberKind protectedIdentity civilStatus
        registeredAddress { street postalCode city municipalityCode }
        household { personnummer name { givenName } registeredAddress { street } }
      } }`,
      { p: subject },
    );
    expect(result.errors).toBeUndefined();
    expect(data['person']).toMatchObject({ personnummer: subject, protectedIdentity: 'NONE', identityNumberKind: 'PERSONNUMMER' });
    expect(data['person'].registeredAddress.postalCode).toMatch(/^\d{5}$/);
    expect(data['person'].registeredAddress.municipalityCode).toMatch(/^\d{4}$/);
    expect(data['person'].household.map((m: { personnummer: string }) => m.personnummer)).toEqual(others);
    // The household shares one registered address.
    for (const member of data['person'].household) expect(member.registeredAddress.street).toBe(data['person'].registeredAddress.street);
    // Level 1: person, household. Level 2: the members' person rows.
    expect(statements).toBe(3);
  });

  it('accepts the hyphenated form of a personnummer', async () => {
    const subject = samples.household[0] ?? '';
    const hyphenated = `${subject.slice(0, 8)}-${subject.slice(8)}`;
    const { data } = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { personnummer } }`, { p: hyphenated });
    expect(data['person']).toEqual({ personnummer: subject });
  });

  it('returns null, not an error, for a number not in the register', async () => {
    const { result, data, statements } = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } } }`, {
      p: samples.notInRegister,
    });
    expect(result.errors).toBeUndefined();
    expect(data['person']).toBeNull();
    expect(statements).toBe(1);
  });

  it('answers Query.persons in the order asked, null for unknown numbers, in one statement', async () => {
    const asked = [samples.persons[3] ?? '', samples.notInRegister, samples.persons[1] ?? ''];
    const { result, data, statements } = await run(served, `query ($p: [Personnummer!]!) { persons(personnummer: $p) { personnummer dateOfBirth } }`, {
      p: asked,
    });
    expect(result.errors).toBeUndefined();
    expect(data['persons'].map((p: { personnummer: string } | null) => p?.personnummer ?? null)).toEqual([asked[0], null, asked[2]]);
    expect(statements).toBe(1);
  });

  it('resolves 50 entity references with one statement per loader and level', async () => {
    const { result, data, statements } = await run(served, entities('personnummer name { familyName } civilStatus household { personnummer dateOfBirth } taxedIncome { year earnedIncome finalTax }'), {
      representations: representations(fifty),
    });
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toHaveLength(50);
    expect(data['_entities'].map((e: { personnummer: string }) => e.personnummer)).toEqual(fifty);
    for (const entity of data['_entities']) {
      expect(entity.name.familyName).toEqual(expect.any(String));
      expect(isNewestFirst(entity.taxedIncome.map((t: { year: number }) => String(t.year)))).toBe(true);
    }
    // Level 1: person (name, civilStatus), household, taxedIncome. Level 2: person for the members.
    expect(statements).toBe(4);
  });

  it('gives entity fields null for a number not in the register', async () => {
    const { result, data } = await run(served, entities('personnummer name { givenName } household { personnummer } taxedIncome { year }'), {
      representations: representations([samples.notInRegister]),
    });
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toEqual([{ personnummer: samples.notInRegister, name: null, household: null, taxedIncome: null }]);
  });

  it('lists taxed income newest first, or the one year asked for', async () => {
    const adult = samples.withBenefits;
    const all = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { taxedIncome { year earnedIncome } } }`, { p: adult });
    const years = all.data['person'].taxedIncome.map((t: { year: number }) => t.year);
    expect(years.length).toBeGreaterThan(1);
    expect([...years].sort().reverse()).toEqual(years);
    const one = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { taxedIncome(year: 2023) { year } } }`, { p: adult });
    expect(one.data['person'].taxedIncome).toEqual([{ year: 2023 }]);
    const none = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { taxedIncome(year: 2001) { year } } }`, { p: adult });
    expect(none.data['person'].taxedIncome).toEqual([]);
  });

  it.each([1899, 2101])('refuses taxedIncome(year: %i) with BAD_USER_INPUT', async (year) => {
    const { result } = await run(served, `query ($p: Personnummer!, $y: Int) { person(personnummer: $p) { taxedIncome(year: $y) { year } } }`, {
      p: samples.withBenefits,
      y: year,
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions['argument']).toBe('year');
  });

  it('refuses a malformed personnummer argument with BAD_USER_INPUT', async () => {
    const { result } = await run(served, `{ person(personnummer: "191212121213") { personnummer } }`);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a malformed entity representation with BAD_USER_INPUT', async () => {
    const { result } = await run(served, entities('personnummer'), { representations: representations(['19121212121']) });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('tells protected identities apart for the personal-field guard', async () => {
    const loaders = skatteverket.createLoaders();
    await expect(skatteverket.isProtectedIdentity?.(samples.protectedIdentity, loaders)).resolves.toBe(true);
    await expect(skatteverket.isProtectedIdentity?.(samples.withBenefits, loaders)).resolves.toBe(false);
    await expect(skatteverket.isProtectedIdentity?.(samples.notInRegister, loaders)).resolves.toBe(false);
  });

  it('reports a samordningsnummer as such', async () => {
    const { data } = await run(served, `query ($p: Personnummer!) { person(personnummer: $p) { identityNumberKind } }`, { p: samples.samordningsnummer });
    expect(data['person']).toEqual({ identityNumberKind: 'SAMORDNINGSNUMMER' });
  });

  it('serves its SDL through _service', async () => {
    const { data } = await run(served, '{ _service { sdl } }');
    expect(data['_service'].sdl).toContain('@personal');
  });
});

describe('Försäkringskassan subgraph', () => {
  let served: Served<ForsakringskassanLoaders>;
  let subgraph: AgencySubgraph<ForsakringskassanLoaders>;
  beforeAll(() => {
    subgraph = createForsakringskassanSubgraph({ dbPath: agencyDbPath(population.dir, 'forsakringskassan') });
    served = serve(subgraph);
  });
  afterAll(() => subgraph?.close());

  it('resolves 50 entity references with one statement per loader and level, payments under decisions included', async () => {
    const { result, data, statements } = await run(
      served,
      entities(`personnummer
        benefits { id benefit outcome decidedOn period { start end } amount unit payments { id paidOn amount } }
        benefitPayments(from: "2023-01-01", to: "2023-12-31") { id benefit paidOn amount }
        sicknessBenefit { id outcome extentPercent dailyAmount period { start end } payments { id paidOn amount } }`),
      { representations: representations(fifty) },
    );
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toHaveLength(50);
    const decisions = data['_entities'].flatMap((e: { benefits: unknown[] }) => e.benefits);
    expect(decisions.length).toBeGreaterThan(1);
    // Level 1: decisions, payments by person, sickness decisions. Level 2: payments by decision, sickness payments.
    expect(statements).toBe(5);
  });

  it('lists a parent’s decisions newest first, excluding sickness benefit, with their payments', async () => {
    const { data } = await run(served, entities('benefits { benefit outcome decidedOn amount unit payments { paidOn amount period { start end } } }'), {
      representations: representations([samples.withBenefits]),
    });
    const benefits = data['_entities'][0].benefits as { benefit: string; decidedOn: string; outcome: string; amount: number; unit: string; payments: { paidOn: string; amount: number }[] }[];
    const types = new Set(benefits.map((b) => b.benefit));
    expect([...types]).toEqual(expect.arrayContaining(['CHILD_ALLOWANCE', 'PARENTAL_BENEFIT']));
    for (const type of types) expect(['CHILD_ALLOWANCE', 'PARENTAL_BENEFIT', 'HOUSING_ALLOWANCE']).toContain(type);
    expect(isNewestFirst(benefits.map((b) => b.decidedOn))).toBe(true);
    const childAllowance = benefits.find((b) => b.benefit === 'CHILD_ALLOWANCE');
    expect(childAllowance).toMatchObject({ outcome: 'GRANTED', amount: 125_000, unit: 'PER_MONTH' });
    expect(childAllowance?.payments.every((p) => p.amount === 125_000)).toBe(true);
    expect(isNewestFirst(childAllowance?.payments.map((p) => p.paidOn) ?? [])).toBe(true);
  });

  it('filters decisions by type', async () => {
    const { data } = await run(served, entities('benefits(types: [PARENTAL_BENEFIT]) { benefit } none: benefits(types: []) { benefit }'), {
      representations: representations([samples.withBenefits]),
    });
    expect(data['_entities'][0].benefits.length).toBeGreaterThan(0);
    expect(data['_entities'][0].benefits.every((b: { benefit: string }) => b.benefit === 'PARENTAL_BENEFIT')).toBe(true);
    expect(data['_entities'][0].none).toEqual([]);
  });

  it('includes payments paid on either end of the period', async () => {
    const all = await run(served, entities('benefitPayments { paidOn }'), { representations: representations([samples.withBenefits]) });
    const days: string[] = all.data['_entities'][0].benefitPayments.map((p: { paidOn: string }) => p.paidOn);
    expect(isNewestFirst(days)).toBe(true);
    const first = days[days.length - 1] ?? '';
    const last = days[0] ?? '';
    const inclusive = await run(served, entities('benefitPayments(from: $from, to: $to) { paidOn }').replace('($representations: [_Any!]!)', '($representations: [_Any!]!, $from: Date, $to: Date)'), {
      representations: representations([samples.withBenefits]),
      from: first,
      to: last,
    });
    expect(inclusive.data['_entities'][0].benefitPayments).toHaveLength(days.length);
    const single = await run(served, entities('benefitPayments(from: $day, to: $day) { paidOn }').replace('($representations: [_Any!]!)', '($representations: [_Any!]!, $day: Date)'), {
      representations: representations([samples.withBenefits]),
      day: last,
    });
    expect(single.data['_entities'][0].benefitPayments.map((p: { paidOn: string }) => p.paidOn)).toEqual(days.filter((d) => d === last));
  });

  it('refuses a period whose start is after its end with BAD_USER_INPUT', async () => {
    const { result } = await run(served, entities('benefitPayments(from: "2024-02-01", to: "2024-01-01") { id }'), {
      representations: representations([samples.withBenefits]),
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions['argument']).toBe('from');
  });

  it('lists sickness benefit with extent and nested payments', async () => {
    const { data } = await run(served, entities('sicknessBenefit { outcome extentPercent dailyAmount payments { amount period { start end } } }'), {
      representations: representations([samples.withSicknessBenefit]),
    });
    const decisions = data['_entities'][0].sicknessBenefit as { outcome: string; extentPercent: number; dailyAmount: number; payments: { amount: number }[] }[];
    const granted = decisions.find((d) => d.outcome === 'GRANTED' && d.payments.length > 0);
    expect(granted).toBeDefined();
    expect([25, 50, 75, 100]).toContain(granted?.extentPercent);
    expect(granted?.payments.every((p) => p.amount % (granted?.dailyAmount ?? 1) === 0)).toBe(true);
  });

  it('answers empty lists for a person without decisions', async () => {
    const { result, data } = await run(served, entities('benefits { id } benefitPayments { id } sicknessBenefit { id }'), {
      representations: representations([samples.notInRegister]),
    });
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toEqual([{ benefits: [], benefitPayments: [], sicknessBenefit: [] }]);
  });
});

describe('CSN subgraph', () => {
  let served: Served<CsnLoaders>;
  let subgraph: AgencySubgraph<CsnLoaders>;
  beforeAll(() => {
    subgraph = createCsnSubgraph({ dbPath: agencyDbPath(population.dir, 'csn') });
    served = serve(subgraph);
  });
  afterAll(() => subgraph?.close());

  it('resolves 50 entity references with one statement per loader', async () => {
    const { result, data, statements } = await run(
      served,
      entities('personnummer studentAid { id period { start end } studyLevel studyPacePercent institution grant loan } studentLoan { balance asOf annualRepayment inArrears }'),
      { representations: representations(fifty) },
    );
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toHaveLength(50);
    expect(statements).toBe(2);
  });

  it('lists student aid newest first and filters periods overlapping the dates asked for', async () => {
    const all = await run(served, entities('studentAid { period { start end } grant loan }'), { representations: representations([samples.withStudentAid]) });
    const periods = all.data['_entities'][0].studentAid as { period: { start: string; end: string }; grant: number; loan: number }[];
    expect(periods.length).toBeGreaterThan(0);
    expect(isNewestFirst(periods.map((p) => p.period.start))).toBe(true);
    expect(periods.some((p) => p.loan > 0)).toBe(true);
    const newest = periods[0]?.period;
    const overlapping = await run(served, entities('studentAid(from: $day, to: $day) { period { start end } }').replace('($representations: [_Any!]!)', '($representations: [_Any!]!, $day: Date)'), {
      representations: representations([samples.withStudentAid]),
      day: newest?.end,
    });
    expect(overlapping.data['_entities'][0].studentAid).toEqual([{ period: newest }]);
  });

  it('gives a loan account to a borrower and null to a person who never borrowed', async () => {
    const { data } = await run(served, entities('studentLoan { balance annualRepayment asOf inArrears }'), {
      representations: representations([samples.withStudentLoan, samples.notInRegister]),
    });
    expect(data['_entities'][0].studentLoan.balance).toBeGreaterThan(0);
    expect(data['_entities'][0].studentLoan.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data['_entities'][1].studentLoan).toBeNull();
  });

  it('refuses studentAid(from > to) with BAD_USER_INPUT', async () => {
    const { result } = await run(served, entities('studentAid(from: "2024-01-02", to: "2024-01-01") { id }'), {
      representations: representations([samples.withStudentAid]),
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('Arbetsförmedlingen subgraph', () => {
  let served: Served<ArbetsformedlingenLoaders>;
  let subgraph: AgencySubgraph<ArbetsformedlingenLoaders>;
  beforeAll(() => {
    subgraph = createArbetsformedlingenSubgraph({ dbPath: agencyDbPath(population.dir, 'arbetsformedlingen') });
    served = serve(subgraph);
  });
  afterAll(() => subgraph?.close());

  it('resolves 50 entity references with one statement per loader', async () => {
    const { result, data, statements } = await run(
      served,
      entities('personnummer jobSeeker { status registeredOn deregisteredOn officeCode programme } activitySupport { id kind paidOn days dailyAmount amount period { start end } }'),
      { representations: representations(fifty) },
    );
    expect(result.errors).toBeUndefined();
    expect(data['_entities']).toHaveLength(50);
    expect(statements).toBe(2);
  });

  it('shows the current registration and activity support, newest first, amount = days × daily amount', async () => {
    const { data } = await run(served, entities('jobSeeker { status programme deregisteredOn } activitySupport { paidOn days dailyAmount amount }'), {
      representations: representations([samples.jobSeeker]),
    });
    const entity = data['_entities'][0];
    expect(entity.jobSeeker).toMatchObject({ status: 'IN_PROGRAMME', deregisteredOn: null });
    expect(entity.jobSeeker.programme).toEqual(expect.any(String));
    const payments = entity.activitySupport as { paidOn: string; days: number; dailyAmount: number; amount: number }[];
    expect(payments.length).toBeGreaterThan(0);
    expect(isNewestFirst(payments.map((p) => p.paidOn))).toBe(true);
    for (const payment of payments) expect(payment.amount).toBe(payment.days * payment.dailyAmount);
  });

  it('includes activity support paid on either end of the period', async () => {
    const all = await run(served, entities('activitySupport { paidOn }'), { representations: representations([samples.jobSeeker]) });
    const days: string[] = all.data['_entities'][0].activitySupport.map((p: { paidOn: string }) => p.paidOn);
    const day = days[0] ?? '';
    const single = await run(served, entities('activitySupport(from: $day, to: $day) { paidOn }').replace('($representations: [_Any!]!)', '($representations: [_Any!]!, $day: Date)'), {
      representations: representations([samples.jobSeeker]),
      day,
    });
    expect(single.data['_entities'][0].activitySupport).toEqual([{ paidOn: day }]);
  });

  it('answers null and an empty list for a person never registered', async () => {
    const { data } = await run(served, entities('jobSeeker { status } activitySupport { id }'), { representations: representations([samples.notInRegister]) });
    expect(data['_entities']).toEqual([{ jobSeeker: null, activitySupport: [] }]);
  });

  it('refuses activitySupport(from > to) with BAD_USER_INPUT', async () => {
    const { result } = await run(served, entities('activitySupport(from: "2024-03-01", to: "2023-03-01") { id }'), {
      representations: representations([samples.jobSeeker]),
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });
});
