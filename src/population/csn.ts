import { ageOn, yearOf } from './dates.js';
import type { Member } from './household.js';
import type { IdSequences } from './ids.js';
import { FIRST_DATA_YEAR, LAST_DATA_YEAR, REFERENCE_DATE, ore, type StudentAidPeriodRecord, type StudentLoanAccountRecord, type StudyLevel } from './model.js';
import { HIGHER_EDUCATION_INSTITUTIONS } from './places.js';
import type { Random } from './random.js';

/** Studiemedel per full-time week in kronor, roughly CSN's rates of each year. */
const GRANT_PER_WEEK: Readonly<Record<number, number>> = { 2021: 800, 2022: 820, 2023: 845, 2024: 880 };
const LOAN_PER_WEEK: Readonly<Record<number, number>> = { 2021: 1690, 2022: 1735, 2023: 1795, 2024: 1915 };
const WEEKS_PER_TERM = 20;

interface Term {
  readonly start: string;
  readonly end: string;
  readonly year: number;
}

/** Spring and autumn terms of the data years; an autumn term ends in mid-January. */
const TERMS: readonly Term[] = Array.from({ length: LAST_DATA_YEAR - FIRST_DATA_YEAR + 1 }, (_, i) => FIRST_DATA_YEAR + i).flatMap((year): Term[] => [
  { start: `${year}-01-17`, end: `${year}-06-04`, year },
  { start: `${year}-08-28`, end: `${year + 1}-01-14`, year },
]);

export interface StudentAidResult {
  readonly periods: StudentAidPeriodRecord[];
  readonly loanAccount: StudentLoanAccountRecord | null;
  /** Share of each year spent studying full time (0–1), which lowers that year's earnings. */
  readonly studyShareByYear: ReadonlyMap<number, number>;
}

const NO_STUDIES: StudentAidResult = { periods: [], loanAccount: null, studyShareByYear: new Map() };

/**
 * Student aid for one person: most students are 19–27, take consecutive terms at one institution
 * and borrow; some older adults study at komvux. Persons who borrowed before the data years keep
 * a loan account that is being repaid.
 */
export function studentAidFor(random: Random, member: Member, municipalityTown: string, ids: IdSequences): StudentAidResult {
  const { person } = member;
  const age = member.age;
  if (age < 19) return NO_STUDIES;

  let plan: { level: StudyLevel; firstTerm: number; terms: number } | undefined;
  if (age <= 34 && random.chance(age <= 27 ? 0.38 : 0.15)) {
    const eligible = TERMS.map((term, index) => ({ term, index })).filter(({ term }) => ageOn(person.dateOfBirth, term.start) >= 19);
    const first = eligible.length > 0 ? random.pick(eligible) : undefined;
    if (first) {
      const young = ageOn(person.dateOfBirth, first.term.start) <= 21;
      const level = random.weighted<StudyLevel>(
        young
          ? [
              ['HIGHER_EDUCATION', 0.85],
              ['UPPER_SECONDARY', 0.1],
              ['ADULT_EDUCATION', 0.05],
            ]
          : [
              ['HIGHER_EDUCATION', 0.65],
              ['ADULT_EDUCATION', 0.25],
              ['UPPER_SECONDARY', 0.1],
            ],
      );
      plan = { level, firstTerm: first.index, terms: level === 'HIGHER_EDUCATION' ? random.int(2, 10) : random.int(1, 4) };
    }
  } else if (age >= 35 && age <= 55 && random.chance(0.02)) {
    plan = { level: 'ADULT_EDUCATION', firstTerm: random.int(0, TERMS.length - 1), terms: random.int(1, 3) };
  }

  const periods: StudentAidPeriodRecord[] = [];
  const studyShareByYear = new Map<number, number>();
  let loanInWindow = 0;
  let borrowedBefore = 0;
  if (plan) {
    const borrowing = random.weighted([
      [1, 0.65],
      [0.5, 0.1],
      [0, 0.25],
    ] as const);
    const institution = plan.level === 'HIGHER_EDUCATION' ? random.weighted(HIGHER_EDUCATION_INSTITUTIONS) : `Komvux ${municipalityTown}`;
    const pace = random.weighted([
      [100, 0.8],
      [75, 0.08],
      [50, 0.12],
    ] as const);
    for (let index = plan.firstTerm; index < Math.min(TERMS.length, plan.firstTerm + plan.terms); index++) {
      const term = TERMS[index];
      if (!term || term.start > REFERENCE_DATE) break;
      // Some students pause a term; the plan simply continues after it.
      if (index > plan.firstTerm && random.chance(0.08)) continue;
      const grant = ore((GRANT_PER_WEEK[term.year] ?? 0) * WEEKS_PER_TERM * (pace / 100));
      const loan = ore((LOAN_PER_WEEK[term.year] ?? 0) * WEEKS_PER_TERM * (pace / 100) * borrowing);
      periods.push({
        id: ids.studentAidPeriod(),
        personnummer: person.personnummer,
        periodStart: term.start,
        periodEnd: term.end,
        studyLevel: plan.level,
        studyPacePercent: pace,
        institution,
        grant,
        loan,
      });
      loanInWindow += loan;
      studyShareByYear.set(term.year, Math.min(1, (studyShareByYear.get(term.year) ?? 0) + 0.5 * (pace / 100)));
    }
    if (age >= 23 && random.chance(0.4)) borrowedBefore = ore(random.logNormal(60_000, 0.6));
  }

  // Former students repaying loans from before the data years.
  if (periods.length === 0 && age >= 25 && age <= 62 && random.chance(0.3)) {
    const original = random.logNormal(200_000, 0.6);
    const repaidShare = Math.min(1, Math.max(0, (age - 27) / 25 + random.normal() * 0.1));
    borrowedBefore = ore(original * (1 - repaidShare));
  }

  const balance = loanInWindow + borrowedBefore;
  const everBorrowed = loanInWindow > 0 || borrowedBefore > 0 || (periods.length === 0 && age >= 25 && random.chance(0.05));
  if (!everBorrowed) return { periods, loanAccount: null, studyShareByYear };

  const studiesLastYear = periods.some((p) => yearOf(p.periodStart) === LAST_DATA_YEAR);
  // No repayment is due while studying with aid; otherwise an annuity over roughly twenty years.
  const annualRepayment = studiesLastYear || balance === 0 ? 0 : ore(balance / 100 / 20);
  return {
    periods,
    loanAccount: {
      personnummer: person.personnummer,
      balance,
      asOf: REFERENCE_DATE,
      annualRepayment,
      inArrears: annualRepayment > 0 && random.chance(0.03),
    },
    studyShareByYear,
  };
}
