import { jobSeekerFor } from './arbetsformedlingen.js';
import { studentAidFor } from './csn.js';
import { forsakringskassanFor } from './forsakringskassan.js';
import { HouseholdGenerator } from './household.js';
import { IdSequences } from './ids.js';
import { taxedIncomeFor } from './income.js';
import type { GeneratedHousehold, TaxedIncomeRecord } from './model.js';
import { Random } from './random.js';

export interface PopulationOptions {
  /** Exactly this many persons are generated. */
  readonly persons: number;
  /** Integer 0..4294967295. */
  readonly seed: number;
}

/**
 * The synthetic population, one household at a time, so a million persons never sit in memory
 * at once. Each household carries every agency's records about its members: the population
 * register first, then studies and job seeking (which shape income), income, and last the
 * benefits that depend on household and income.
 */
export function* generatePopulation(options: PopulationOptions): Generator<GeneratedHousehold> {
  if (!Number.isSafeInteger(options.persons) || options.persons < 1) throw new TypeError('persons must be a positive integer');
  const random = new Random(options.seed);
  const households = new HouseholdGenerator(random);
  const ids = new IdSequences();
  let remaining = options.persons;
  for (let householdId = 1; remaining > 0; householdId++) {
    const draft = households.next(householdId, remaining);
    remaining -= draft.members.length;

    const generated: GeneratedHousehold = {
      household: draft.household,
      persons: draft.members.map((m) => m.person),
      taxedIncome: [],
      benefitDecisions: [],
      benefitPayments: [],
      sicknessDecisions: [],
      sicknessPayments: [],
      studentAidPeriods: [],
      studentLoanAccounts: [],
      jobSeekerRegistrations: [],
      activitySupportPayments: [],
    };
    const incomeByPerson = new Map<string, TaxedIncomeRecord[]>();
    for (const member of draft.members) {
      const studies = studentAidFor(random, member, draft.household.city, ids);
      generated.studentAidPeriods.push(...studies.periods);
      if (studies.loanAccount) generated.studentLoanAccounts.push(studies.loanAccount);

      const jobSeeking = jobSeekerFor(random, member, draft.household.municipalityCode, ids);
      generated.jobSeekerRegistrations.push(...jobSeeking.registrations);
      generated.activitySupportPayments.push(...jobSeeking.payments);

      const income = taxedIncomeFor(random, member, {
        studyShareByYear: studies.studyShareByYear,
        unemployedShareByYear: jobSeeking.unemployedShareByYear,
      });
      incomeByPerson.set(member.person.personnummer, income);
      generated.taxedIncome.push(...income);
    }
    const fk = forsakringskassanFor(random, draft, incomeByPerson, ids);
    generated.benefitDecisions.push(...fk.benefitDecisions);
    generated.benefitPayments.push(...fk.benefitPayments);
    generated.sicknessDecisions.push(...fk.sicknessDecisions);
    generated.sicknessPayments.push(...fk.sicknessPayments);
    yield generated;
  }
}
