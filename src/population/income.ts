import { yearOf } from './dates.js';
import type { Member } from './household.js';
import { FIRST_DATA_YEAR, LAST_DATA_YEAR, ore, type TaxedIncomeRecord } from './model.js';
import type { Random } from './random.js';

/** Skiktgräns for state income tax (taxable income, kronor) per year. */
const STATE_TAX_THRESHOLD: Readonly<Record<number, number>> = { 2021: 523_200, 2022: 540_700, 2023: 598_500, 2024: 613_900 };
const MUNICIPAL_TAX_RATE = 0.3235;
const STATE_TAX_RATE = 0.2;
const CAPITAL_TAX_RATE = 0.3;
/** A flat stand-in for grundavdrag; the model aims at plausible totals, not the tax tables. */
const BASIC_DEDUCTION = 25_000;
const WAGE_GROWTH = 1.03;
const RETIREMENT_AGE = 66;

export interface IncomeDrivers {
  readonly studyShareByYear: ReadonlyMap<number, number>;
  readonly unemployedShareByYear: ReadonlyMap<number, number>;
}

/**
 * Taxed income per year for a person who is 18 or older that year: earnings from the person's
 * wage level (lower in years of study or unemployment), pension after 66, business income for
 * the self-employed, and capital income that is negative for many mortgage holders.
 */
export function taxedIncomeFor(random: Random, member: Member, drivers: IncomeDrivers): TaxedIncomeRecord[] {
  const { person } = member;
  const birthYear = yearOf(person.dateOfBirth);
  if (LAST_DATA_YEAR - birthYear < 18) return [];

  const selfEmployed = member.age >= 25 && member.age <= 70 && random.chance(0.09);
  const outsideLabourForce = random.chance(0.05);
  const pensionShare = 0.5 + random.float() * 0.2;
  const capitalKind = random.weighted([
    ['GAIN', 0.35],
    ['DEFICIT', 0.25],
    ['NONE', 0.4],
  ] as const);
  const capitalScale = capitalKind === 'GAIN' ? random.logNormal(4_000, 1.4) : capitalKind === 'DEFICIT' ? 2_000 + random.float() * 60_000 : 0;
  const businessScale = selfEmployed ? random.logNormal(180_000, 0.7) : 0;

  const records: TaxedIncomeRecord[] = [];
  for (let year = FIRST_DATA_YEAR; year <= LAST_DATA_YEAR; year++) {
    const ageThatYear = year - birthYear;
    if (ageThatYear < 18) continue;
    const growth = WAGE_GROWTH ** (year - FIRST_DATA_YEAR);
    const noise = 0.92 + random.float() * 0.16;

    let employment: number;
    if (ageThatYear >= RETIREMENT_AGE) {
      // Pension is taxed as income from employment (inkomst av tjänst).
      employment = member.wage * pensionShare * growth;
    } else if (outsideLabourForce) {
      employment = random.chance(0.5) ? random.float() * 40_000 : 0;
    } else {
      const studying = drivers.studyShareByYear.get(year) ?? 0;
      const unemployed = drivers.unemployedShareByYear.get(year) ?? 0;
      // Students keep summer and part-time jobs; unemployment and activity support replace part of the wage.
      employment = member.wage * growth * noise * (1 - 0.85 * studying) * (1 - 0.55 * unemployed);
      if (selfEmployed) employment *= 0.3;
    }
    const business = selfEmployed && ageThatYear < RETIREMENT_AGE + 4 ? businessScale * growth * noise : 0;
    const capital = capitalKind === 'GAIN' ? capitalScale * noise : capitalKind === 'DEFICIT' ? -capitalScale * noise : 0;

    // Assessed income is rounded down to whole hundreds of kronor.
    const employmentKronor = Math.floor(employment / 100) * 100;
    const businessKronor = Math.floor(business / 100) * 100;
    const capitalKronor = Math.trunc(capital / 100) * 100;
    if (employmentKronor === 0 && businessKronor === 0 && capitalKronor === 0) continue;
    const earned = employmentKronor + businessKronor;
    const retired = ageThatYear >= RETIREMENT_AGE;
    const finalTax = finalTaxFor(year, earned, retired ? 0 : employmentKronor, capitalKronor);
    records.push({
      personnummer: person.personnummer,
      year,
      employmentIncome: ore(employmentKronor),
      businessIncome: ore(businessKronor),
      capitalIncome: ore(capitalKronor),
      earnedIncome: ore(earned),
      finalTax: ore(finalTax),
    });
  }
  return records;
}

/** Municipal and state tax on earned income, less a job tax credit, plus 30 % on capital (a deficit reduces tax). */
function finalTaxFor(year: number, earned: number, wages: number, capital: number): number {
  const taxable = Math.max(0, earned - BASIC_DEDUCTION);
  const municipal = taxable * MUNICIPAL_TAX_RATE;
  const state = STATE_TAX_RATE * Math.max(0, taxable - (STATE_TAX_THRESHOLD[year] ?? Number.POSITIVE_INFINITY));
  const jobTaxCredit = Math.min(0.035 * wages, 30_000);
  return Math.max(0, Math.round(municipal + state - jobTaxCredit + CAPITAL_TAX_RATE * capital));
}
