import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { isValidPersonnummer, parsePersonnummer } from '../src/personnummer/index.js';
import {
  FIRST_DATA_YEAR,
  LAST_DATA_YEAR,
  REFERENCE_DATE,
  STORE_AGENCIES,
  agencyDbPath,
  ensurePopulation,
  generatePopulation,
  readPopulationMeta,
  samplePersons,
  type GeneratedHousehold,
  type PersonRecord,
} from '../src/population/index.js';
import { allContentDigests, fileDigest, generateTestPopulation, type TestPopulation } from './support/population.js';

const PERSONS = 1_500;
const SEED = 20_240_101;

/** A larger population kept in memory only, for shares that need more than a thousand persons. */
function generateInMemory(persons: number, seed: number): GeneratedHousehold[] {
  return [...generatePopulation({ persons, seed })];
}

describe('generated population: determinism', () => {
  let first: TestPopulation;
  let second: TestPopulation;
  let otherSeed: TestPopulation;

  beforeAll(async () => {
    first = await generateTestPopulation(PERSONS, SEED);
    second = await generateTestPopulation(PERSONS, SEED);
    otherSeed = await generateTestPopulation(PERSONS, SEED + 1);
  });
  afterAll(() => {
    for (const population of [first, second, otherSeed]) population?.remove();
  });

  it('writes the same rows for the same seed and size', () => {
    expect(allContentDigests(second.dir)).toEqual(allContentDigests(first.dir));
  });

  it('writes byte-identical files for the same seed and size', () => {
    for (const agency of STORE_AGENCIES) {
      expect(fileDigest(agencyDbPath(second.dir, agency)), agency).toBe(fileDigest(agencyDbPath(first.dir, agency)));
    }
  });

  it('writes different data for another seed', () => {
    const a = allContentDigests(first.dir);
    const b = allContentDigests(otherSeed.dir);
    for (const agency of STORE_AGENCIES) expect(b[agency], agency).not.toBe(a[agency]);
  });

  it('records seed, size and generator version in every store', () => {
    expect(readPopulationMeta(first.dir)).toEqual(expect.objectContaining({ seed: SEED, persons: PERSONS, referenceDate: REFERENCE_DATE }));
    expect(first.report.persons).toBe(PERSONS);
  });

  it('makes a smaller population the prefix of a larger one with the same seed', () => {
    const small = generateInMemory(700, SEED).flatMap((h) => h.persons);
    const large = generateInMemory(1_400, SEED).flatMap((h) => h.persons);
    expect(small).toHaveLength(700);
    expect(large.slice(0, 700)).toEqual(small);
  });

  it('gives the same samples every time', () => {
    expect(samplePersons(second.dir, 20)).toEqual(samplePersons(first.dir, 20));
  });
});

describe('generated population: register contents', () => {
  let households: GeneratedHousehold[] = [];
  let persons: PersonRecord[] = [];
  beforeAll(() => {
    households = generateInMemory(40_000, 7);
    persons = households.flatMap((h) => h.persons);
  });

  it('generates exactly the persons asked for', () => {
    expect(persons).toHaveLength(40_000);
  });

  it('gives every person a valid, unique identity number matching birth date, sex and kind', () => {
    const mismatches = persons.filter((person) => {
      if (!isValidPersonnummer(person.personnummer)) return true;
      const parsed = parsePersonnummer(person.personnummer);
      return parsed.dateOfBirth !== person.dateOfBirth || parsed.sex !== person.sex || parsed.kind !== person.identityNumberKind;
    });
    expect(mismatches).toEqual([]);
    expect(new Set(persons.map((p) => p.personnummer)).size).toBe(persons.length);
  });

  it('gives about 1 % samordningsnummer', () => {
    const share = persons.filter((p) => p.identityNumberKind === 'SAMORDNINGSNUMMER').length / persons.length;
    expect(share).toBeGreaterThan(0.006);
    expect(share).toBeLessThan(0.014);
  });

  it('protects about 0.5 % of persons, with both kinds of protection', () => {
    const protectedPersons = persons.filter((p) => p.protectedIdentity !== 'NONE');
    const share = protectedPersons.length / persons.length;
    expect(share).toBeGreaterThan(0.003);
    expect(share).toBeLessThan(0.008);
    expect(new Set(protectedPersons.map((p) => p.protectedIdentity))).toEqual(new Set(['SEKRETESSMARKERING', 'SKYDDAD_FOLKBOKFORING']));
  });

  it('groups persons into households of 1 to 6 sharing one household id', () => {
    const sizes = new Set(households.map((h) => h.persons.length));
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const strays = households.filter(({ household, persons: members }) => members.some((m) => m.householdId !== household.id));
    expect(strays).toEqual([]);
    expect(new Set(households.map((h) => h.household.id)).size).toBe(households.length);
  });

  it('spreads birth dates over 1930–2024', () => {
    const years = persons.map((p) => Number(p.dateOfBirth.slice(0, 4)));
    expect(Math.min(...years)).toBe(1930);
    expect(Math.max(...years)).toBe(2024);
    const decades = new Set(years.map((y) => Math.floor(y / 10)));
    expect(decades.size).toBe(10);
    const children = years.filter((y) => y > 2006).length / years.length;
    expect(children).toBeGreaterThan(0.15);
    expect(children).toBeLessThan(0.3);
  });

  it('writes well-formed addresses', () => {
    const malformed = households.map((h) => h.household).filter((a) => !/^\d{5}$/.test(a.postalCode) || !/^\d{4}$/.test(a.municipalityCode) || !/^\S+ \d+[A-C]?$/.test(a.street));
    expect(malformed).toEqual([]);
  });

  it('gives taxed income only to adults, in whole öre, with tax around a quarter to a third of income', () => {
    let tax = 0;
    let income = 0;
    const birthYear = new Map(persons.map((p) => [p.personnummer, Number(p.dateOfBirth.slice(0, 4))]));
    const records = households.flatMap((h) => h.taxedIncome);
    const wrong = records.filter(
      (r) =>
        r.year < FIRST_DATA_YEAR ||
        r.year > LAST_DATA_YEAR ||
        !(r.year - (birthYear.get(r.personnummer) ?? Number.NaN) >= 18) ||
        ![r.employmentIncome, r.businessIncome, r.capitalIncome, r.earnedIncome, r.finalTax].every(Number.isSafeInteger) ||
        r.earnedIncome !== r.employmentIncome + r.businessIncome,
    );
    expect(wrong).toEqual([]);
    for (const record of records) {
      tax += record.finalTax;
      income += record.earnedIncome + Math.max(0, record.capitalIncome);
    }
    expect(tax / income).toBeGreaterThan(0.22);
    expect(tax / income).toBeLessThan(0.35);
  });

  it('pays child allowance for children under 16 to an adult of their household', () => {
    const misdirected = households.flatMap(({ persons: members, benefitDecisions }) => {
      const adults = new Set(members.filter((m) => m.dateOfBirth <= '2006-12-31').map((m) => m.personnummer));
      return benefitDecisions.filter((d) => d.benefit === 'CHILD_ALLOWANCE' && (!adults.has(d.personnummer) || d.amount !== 125_000));
    });
    expect(misdirected).toEqual([]);
    const children = persons.filter((p) => p.dateOfBirth > '2009-01-01' && p.dateOfBirth <= '2024-11-30').length;
    const allowances = households.flatMap((h) => h.benefitDecisions).filter((d) => d.benefit === 'CHILD_ALLOWANCE').length;
    expect(allowances).toBeGreaterThanOrEqual(children);
  });

  it('gives sickness benefit to about 5 % of working-age adults, at 25, 50, 75 or 100 %', () => {
    const workingAge = persons.filter((p) => p.dateOfBirth >= '1960-01-01' && p.dateOfBirth <= '2004-12-31').length;
    const decisions = households.flatMap((h) => h.sicknessDecisions);
    const sick = new Set(decisions.map((d) => d.personnummer)).size;
    expect(sick / workingAge).toBeGreaterThan(0.03);
    expect(sick / workingAge).toBeLessThan(0.07);
    expect(new Set(decisions.map((d) => d.extentPercent))).toEqual(new Set([25, 50, 75, 100]));
  });

  it('registers about 7 % of working-age persons as job seekers', () => {
    const workingAge = persons.filter((p) => p.dateOfBirth >= '1960-01-01' && p.dateOfBirth <= '2006-12-31').length;
    const current = new Set(
      households
        .flatMap((h) => h.jobSeekerRegistrations)
        .filter((r) => r.deregisteredOn === null)
        .map((r) => r.personnummer),
    ).size;
    expect(current / workingAge).toBeGreaterThan(0.05);
    expect(current / workingAge).toBeLessThan(0.09);
  });

  it('dates every payment on or before the reference date', () => {
    const wrong = households
      .flatMap((h) => [...h.benefitPayments, ...h.sicknessPayments, ...h.activitySupportPayments])
      .filter((p) => p.paidOn > REFERENCE_DATE || p.periodStart > p.periodEnd || !Number.isSafeInteger(p.amount) || p.amount <= 0);
    expect(wrong).toEqual([]);
  });
});

describe('stores on disk', () => {
  let population: TestPopulation;
  beforeAll(async () => {
    population = await generateTestPopulation(PERSONS, SEED);
  });
  afterAll(() => population?.remove());

  it('refers only to persons in the population register', () => {
    const db = new Database(agencyDbPath(population.dir, 'skatteverket'), { readonly: true });
    try {
      db.prepare('ATTACH DATABASE ? AS fk').run(agencyDbPath(population.dir, 'forsakringskassan'));
      db.prepare('ATTACH DATABASE ? AS csn').run(agencyDbPath(population.dir, 'csn'));
      db.prepare('ATTACH DATABASE ? AS af').run(agencyDbPath(population.dir, 'arbetsformedlingen'));
      for (const table of [
        'main.taxed_income',
        'fk.benefit_decision',
        'fk.benefit_payment',
        'fk.sickness_decision',
        'fk.sickness_payment',
        'csn.student_aid_period',
        'csn.student_loan_account',
        'af.job_seeker_registration',
        'af.activity_support_payment',
      ]) {
        const orphans = db.prepare(`SELECT count(*) FROM ${table} WHERE personnummer NOT IN (SELECT personnummer FROM main.person)`).pluck().get();
        expect(orphans, table).toBe(0);
      }
    } finally {
      db.close();
    }
  });

  it('indexes personnummer and household id', () => {
    const db = new Database(agencyDbPath(population.dir, 'skatteverket'), { readonly: true });
    try {
      const plan = db
        .prepare("EXPLAIN QUERY PLAN SELECT * FROM person WHERE personnummer IN (SELECT value FROM json_each('[]'))")
        .all()
        .map((row) => (row as { detail: string }).detail)
        .join('\n');
      expect(plan).toContain('USING INDEX person_personnummer');
      const indexes = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").pluck().all();
      expect(indexes).toEqual(expect.arrayContaining(['person_personnummer', 'person_household', 'taxed_income_person_year']));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('ensurePopulation keeps matching stores and regenerates mismatching ones', async () => {
    const before = allContentDigests(population.dir);
    expect((await ensurePopulation({ dir: population.dir, persons: PERSONS, seed: SEED })).status).toBe('existing');
    expect(allContentDigests(population.dir)).toEqual(before);

    const regenerated = await ensurePopulation({ dir: population.dir, persons: 300, seed: SEED });
    expect(regenerated.status).toBe('generated');
    expect(readPopulationMeta(population.dir)).toEqual(expect.objectContaining({ persons: 300, seed: SEED }));
  });

  it('ensurePopulation generates into a directory that does not exist yet', async () => {
    const dir = path.join(population.dir, 'nested', 'data');
    expect(readPopulationMeta(dir)).toBeNull();
    expect((await ensurePopulation({ dir, persons: 200, seed: 3 })).status).toBe('generated');
    expect(readPopulationMeta(dir)).toEqual(expect.objectContaining({ persons: 200, seed: 3 }));
  });
});
