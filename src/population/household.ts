import { dayNumber, isoDate, ymd } from './dates.js';
import { REFERENCE_DATE, type CivilStatus, type HouseholdRecord, type IdentityNumberKind, type PersonRecord, type ProtectedIdentity, type Sex } from './model.js';
import { familyName, givenName, streetAddress } from './names.js';
import { PersonnummerAllocator } from './personnummerAllocator.js';
import { pickMunicipality, postalCode } from './places.js';
import type { Random } from './random.js';

export type HouseholdKind = 'SINGLE' | 'COUPLE' | 'COUPLE_WITH_CHILDREN' | 'SINGLE_PARENT' | 'SHARED';

/** A person as the other generators need them: the register record plus what drives their data. */
export interface Member {
  readonly person: PersonRecord;
  readonly role: 'ADULT' | 'CHILD';
  /** Age on the reference date. */
  readonly age: number;
  /** Annual full-time wage the person would earn in the first data year, in kronor (0 for children). */
  readonly wage: number;
}

export interface HouseholdDraft {
  readonly household: HouseholdRecord;
  readonly kind: HouseholdKind;
  /** Adults first, then children. */
  readonly members: Member[];
}

/** Shares of households by kind, roughly as in the Swedish household statistics (mean size about 2.1). */
const HOUSEHOLD_KINDS: readonly (readonly [HouseholdKind, number])[] = [
  ['SINGLE', 0.39],
  ['COUPLE', 0.27],
  ['COUPLE_WITH_CHILDREN', 0.22],
  ['SINGLE_PARENT', 0.08],
  ['SHARED', 0.04],
];

type AgeBand = readonly [min: number, max: number];
// biome-ignore format: a distribution on one line reads as one
const SINGLE_AGES: readonly (readonly [AgeBand, number])[] = [
  [[18, 19], 0.02], [[20, 29], 0.24], [[30, 44], 0.17], [[45, 64], 0.25], [[65, 79], 0.19], [[80, 94], 0.13],
];
// biome-ignore format: a distribution on one line reads as one
const COUPLE_AGES: readonly (readonly [AgeBand, number])[] = [
  [[21, 34], 0.22], [[35, 54], 0.15], [[55, 69], 0.3], [[70, 84], 0.26], [[85, 92], 0.07],
];
// biome-ignore format: a distribution on one line reads as one
const PARENT_AGES: readonly (readonly [AgeBand, number])[] = [
  [[22, 29], 0.12], [[30, 39], 0.38], [[40, 49], 0.36], [[50, 60], 0.14],
];
// biome-ignore format: a distribution on one line reads as one
const CHILD_COUNTS: readonly (readonly [number, number])[] = [[1, 0.36], [2, 0.42], [3, 0.16], [4, 0.06]];
// biome-ignore format: a distribution on one line reads as one
const SINGLE_PARENT_CHILD_COUNTS: readonly (readonly [number, number])[] = [[1, 0.55], [2, 0.35], [3, 0.1]];

/** Oldest age on the reference date: the register's earliest birth year is 1930. */
const MAX_AGE = 94;
const PROTECTED_HOUSEHOLD_SHARE = 0.005;
const SAMORDNINGSNUMMER_SHARE = 0.01;

interface Sketch {
  readonly role: 'ADULT' | 'CHILD';
  readonly age: number;
  readonly sex: Sex;
  readonly civilStatus: CivilStatus;
  /** Index of the adult whose family name a child takes or a partner shares. */
  readonly nameFrom?: number;
}

export class HouseholdGenerator {
  readonly #allocator = new PersonnummerAllocator();

  constructor(private readonly random: Random) {}

  /** The household with the given id, cut to at most `maxPersons` members (adults are kept first). */
  next(id: number, maxPersons: number): HouseholdDraft {
    const random = this.random;
    const kind = random.weighted(HOUSEHOLD_KINDS);
    const sketches = this.#sketch(kind).slice(0, maxPersons);
    const municipality = pickMunicipality(random);
    const protectedIdentity: ProtectedIdentity = random.chance(PROTECTED_HOUSEHOLD_SHARE)
      ? random.weighted([
          ['SEKRETESSMARKERING', 0.7],
          ['SKYDDAD_FOLKBOKFORING', 0.3],
        ] as const)
      : 'NONE';

    const familyNames: string[] = [];
    const members: Member[] = [];
    for (const sketch of sketches) {
      const inherited = sketch.nameFrom === undefined ? undefined : familyNames[sketch.nameFrom];
      const family = inherited ?? familyName(random);
      familyNames.push(family);
      const kindOfNumber: IdentityNumberKind = random.chance(SAMORDNINGSNUMMER_SHARE) ? 'SAMORDNINGSNUMMER' : 'PERSONNUMMER';
      const allocated = this.#allocator.allocate(random, this.#birthDate(sketch.age), sketch.sex, kindOfNumber);
      members.push({
        person: {
          personnummer: allocated.personnummer,
          givenName: givenName(random, sketch.sex),
          familyName: family,
          dateOfBirth: allocated.dateOfBirth,
          sex: sketch.sex,
          identityNumberKind: kindOfNumber,
          protectedIdentity,
          civilStatus: sketch.civilStatus,
          householdId: id,
        },
        role: sketch.role,
        age: sketch.age,
        wage: sketch.role === 'ADULT' ? this.#wage(sketch.age) : 0,
      });
    }

    const household: HouseholdRecord = {
      id,
      careOf: random.chance(0.015) ? `c/o ${familyName(random)}` : null,
      street: streetAddress(random),
      postalCode: postalCode(random, municipality),
      city: municipality.postalTown,
      municipalityCode: municipality.code,
    };
    return { household, kind, members };
  }

  #sketch(kind: HouseholdKind): Sketch[] {
    const random = this.random;
    switch (kind) {
      case 'SINGLE': {
        const age = this.#age(SINGLE_AGES);
        const sex: Sex = random.chance(age >= 70 ? 0.65 : 0.48) ? 'FEMALE' : 'MALE';
        return [{ role: 'ADULT', age, sex, civilStatus: singleCivilStatus(random, age) }];
      }
      case 'COUPLE': {
        const [first, second] = this.#couple(this.#age(COUPLE_AGES));
        return [first, second];
      }
      case 'COUPLE_WITH_CHILDREN': {
        const [first, second] = this.#couple(this.#age(PARENT_AGES));
        const youngerParent = Math.min(first.age, second.age);
        return [first, second, ...this.#children(random.weighted(CHILD_COUNTS), youngerParent)];
      }
      case 'SINGLE_PARENT': {
        const age = this.#age(PARENT_AGES);
        const sex: Sex = random.chance(0.75) ? 'FEMALE' : 'MALE';
        const civilStatus = random.weighted([
          ['UNMARRIED', 0.55],
          ['DIVORCED', 0.42],
          ['WIDOWED', 0.03],
        ] as const);
        return [{ role: 'ADULT', age, sex, civilStatus }, ...this.#children(random.weighted(SINGLE_PARENT_CHILD_COUNTS), age)];
      }
      case 'SHARED': {
        const count = random.int(2, 4);
        return Array.from(
          { length: count },
          (): Sketch => ({
            role: 'ADULT',
            age: random.int(19, 29),
            sex: random.chance(0.5) ? 'FEMALE' : 'MALE',
            civilStatus: 'UNMARRIED',
          }),
        );
      }
    }
  }

  #couple(age: number): [Sketch, Sketch] {
    const random = this.random;
    const sameSex = random.chance(0.035);
    const firstSex: Sex = random.chance(0.5) ? 'FEMALE' : 'MALE';
    const secondSex: Sex = sameSex ? firstSex : firstSex === 'FEMALE' ? 'MALE' : 'FEMALE';
    const gap = Math.round(random.normal() * 3.5) + (firstSex === 'FEMALE' && !sameSex ? 2 : 0);
    const partnerAge = Math.min(MAX_AGE, Math.max(19, age + gap));
    // Older couples are more often married; registered partnership (before 2009) only remains for same-sex couples who never converted it.
    const married = random.chance(age < 35 ? 0.35 : age < 55 ? 0.6 : 0.8);
    const civilStatus: CivilStatus = !married ? 'UNMARRIED' : sameSex && age >= 40 && random.chance(0.4) ? 'REGISTERED_PARTNER' : 'MARRIED';
    const sharesName = married && random.chance(0.65);
    return [
      { role: 'ADULT', age, sex: firstSex, civilStatus },
      { role: 'ADULT', age: partnerAge, sex: secondSex, civilStatus, ...(sharesName ? { nameFrom: 0 } : {}) },
    ];
  }

  /** Children born when the parent was 20–45; grown children still living at home are less common. */
  #children(count: number, parentAge: number): Sketch[] {
    const random = this.random;
    const youngest = Math.max(0, parentAge - 45);
    const oldest = Math.min(24, parentAge - 20);
    const children: Sketch[] = [];
    for (let i = 0; i < count && youngest <= oldest; i++) {
      let age = random.int(youngest, oldest);
      if (age >= 19) age = random.int(youngest, oldest);
      children.push({ role: 'CHILD', age, sex: random.chance(0.487) ? 'FEMALE' : 'MALE', civilStatus: 'UNMARRIED', nameFrom: 0 });
    }
    return children;
  }

  #age(bands: readonly (readonly [AgeBand, number])[]): number {
    const [min, max] = this.random.weighted(bands);
    return Math.min(MAX_AGE, this.random.int(min, max));
  }

  /** A birth date giving exactly this age on the reference date. */
  #birthDate(age: number): string {
    const year = Number(REFERENCE_DATE.slice(0, 4)) - age;
    const first = dayNumber(ymd(year, 1, 1));
    const last = Math.min(dayNumber(ymd(year, 12, 31)), dayNumber(REFERENCE_DATE));
    return isoDate(this.random.int(first, last));
  }

  /** Log-normal around a median wage, lower for the young; kronor per year. */
  #wage(age: number): number {
    const ageFactor = age < 23 ? 0.6 : age < 30 ? 0.82 : age < 55 ? 1 : 0.96;
    return Math.round(this.random.logNormal(385_000, 0.42) * ageFactor);
  }
}

function singleCivilStatus(random: Random, age: number): CivilStatus {
  if (age < 30) return random.chance(0.97) ? 'UNMARRIED' : 'DIVORCED';
  if (age < 65)
    return random.weighted([
      ['UNMARRIED', 0.55],
      ['DIVORCED', 0.4],
      ['WIDOWED', 0.05],
    ] as const);
  return random.weighted([
    ['WIDOWED', 0.45],
    ['DIVORCED', 0.3],
    ['UNMARRIED', 0.25],
  ] as const);
}
