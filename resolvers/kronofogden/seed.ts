import { agencyRandom, type AgencySeed } from '../../src/population/agencySeed.js';
import { addDays, ageOn, dayNumber, isoDate, maxDate, minDate } from '../../src/population/dates.js';
import { DATA_WINDOW_START, REFERENCE_DATE, ore, type GeneratedHousehold, type PersonRecord } from '../../src/population/model.js';
import type { Random } from '../../src/population/random.js';

/**
 * Kronofogden's register, seeded from the synthetic population. Kronofogden came after the four
 * built-in agencies, so its records are drawn here from a stream of its own (agencyRandom): the
 * other agencies' data stays exactly what it was, and the same seed gives the same register.
 *
 * Shapes, roughly as Kronofogden reports them: a few per cent of adults have debts in
 * enforcement, more with low income; about half of those with earnings have their wage
 * distrained; some with large debts apply for debt restructuring, mostly granted with a five-year
 * payment plan.
 */
export const seed: AgencySeed = {
  tables: `
    CREATE TABLE enforcement_debt (
      id INTEGER PRIMARY KEY,
      personnummer TEXT NOT NULL,
      kind TEXT NOT NULL,
      amount INTEGER NOT NULL,
      registered_on TEXT NOT NULL
    );
    CREATE TABLE distraint (
      id INTEGER PRIMARY KEY,
      personnummer TEXT NOT NULL,
      kind TEXT NOT NULL,
      decided_on TEXT NOT NULL,
      period_start TEXT NOT NULL,
      period_end TEXT,
      monthly_amount INTEGER NOT NULL
    );
    CREATE TABLE debt_restructuring (
      id INTEGER PRIMARY KEY,
      personnummer TEXT NOT NULL,
      status TEXT NOT NULL,
      applied_on TEXT NOT NULL,
      decided_on TEXT,
      plan_start TEXT,
      plan_end TEXT,
      monthly_payment INTEGER
    );`,
  indexes: `
    CREATE INDEX enforcement_debt_person ON enforcement_debt (personnummer);
    CREATE INDEX distraint_person ON distraint (personnummer, decided_on);
    CREATE INDEX debt_restructuring_person ON debt_restructuring (personnummer, applied_on);`,
  inserter(db, population) {
    const random = agencyRandom(population);
    const ids = { debt: 0, distraint: 0, restructuring: 0 };
    const debt = db.prepare('INSERT INTO enforcement_debt (id, personnummer, kind, amount, registered_on) VALUES (?, ?, ?, ?, ?)');
    const distraint = db.prepare('INSERT INTO distraint (id, personnummer, kind, decided_on, period_start, period_end, monthly_amount) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const restructuring = db.prepare(
      `INSERT INTO debt_restructuring (id, personnummer, status, applied_on, decided_on, plan_start, plan_end, monthly_payment)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return (household) => {
      for (const person of household.persons) {
        const record = debtorRecord(random, person, latestEarnedIncome(household, person.personnummer));
        if (!record) continue;
        for (const d of record.debts) debt.run((ids.debt += 1), person.personnummer, d.kind, d.amount, d.registeredOn);
        for (const d of record.distraints) {
          distraint.run((ids.distraint += 1), person.personnummer, d.kind, d.decidedOn, d.periodStart, d.periodEnd, d.monthlyAmount);
        }
        const r = record.restructuring;
        if (r) restructuring.run((ids.restructuring += 1), person.personnummer, r.status, r.appliedOn, r.decidedOn, r.planStart, r.planEnd, r.monthlyPayment);
      }
    };
  },
};

interface DebtorRecord {
  readonly debts: { kind: 'PUBLIC' | 'PRIVATE'; amount: number; registeredOn: string }[];
  readonly distraints: { kind: 'WAGE' | 'BENEFIT'; decidedOn: string; periodStart: string; periodEnd: string | null; monthlyAmount: number }[];
  readonly restructuring: {
    status: 'APPLIED' | 'GRANTED' | 'REJECTED' | 'COMPLETED';
    appliedOn: string;
    decidedOn: string | null;
    planStart: string | null;
    planEnd: string | null;
    monthlyPayment: number | null;
  } | null;
}

/** Kronor: debts from this sum up are large enough that some debtors apply for debt restructuring. */
const RESTRUCTURING_THRESHOLD = 100_000;
/** Decisions are dated at least this many days before the reference date, so their effects fall inside the data window. */
const LAST_DECISION = addDays(REFERENCE_DATE, -30);

function latestEarnedIncome(household: GeneratedHousehold, personnummer: string): number {
  let latest: { year: number; earnedIncome: number } | null = null;
  for (const income of household.taxedIncome) {
    if (income.personnummer === personnummer && (!latest || income.year > latest.year)) latest = income;
  }
  return latest?.earnedIncome ?? 0;
}

function randomDay(random: Random, from: string, to: string): string {
  return isoDate(random.int(dayNumber(from), dayNumber(maxDate(from, to))));
}

/** A person's debts, distraints and restructuring; null for the great majority without debts. */
function debtorRecord(random: Random, person: PersonRecord, earnedIncome: number): DebtorRecord | null {
  // One draw per person whatever the outcome, so that who is a debtor does not shift with the
  // ages of the persons before.
  const draw = random.float();
  if (ageOn(person.dateOfBirth, REFERENCE_DATE) < 18) return null;
  const lowIncome = earnedIncome < ore(200_000);
  if (draw >= (lowIncome ? 0.08 : 0.025)) return null;

  const debts: DebtorRecord['debts'] = [];
  for (let i = random.int(1, 5); i > 0; i--) {
    const kind = random.chance(0.6) ? 'PUBLIC' : 'PRIVATE';
    const kronor = Math.max(500, random.logNormal(kind === 'PUBLIC' ? 30_000 : 15_000, 1.1));
    debts.push({ kind, amount: ore(kronor), registeredOn: randomDay(random, DATA_WINDOW_START, LAST_DECISION) });
  }
  const total = debts.reduce((sum, d) => sum + d.amount, 0);
  const firstRegistered = debts.map((d) => d.registeredOn).sort()[0] ?? DATA_WINDOW_START;

  const distraints: DebtorRecord['distraints'] = [];
  // A pensioner's or a person without earnings' income is a pension or benefit, distrained at its payer.
  const wageEarner = earnedIncome > 0 && ageOn(person.dateOfBirth, REFERENCE_DATE) < 66;
  if (random.chance(earnedIncome > 0 ? 0.5 : 0.15)) {
    const decidedOn = randomDay(random, firstRegistered, minDate(addDays(firstRegistered, 365), LAST_DECISION));
    const periodStart = addDays(decidedOn, 14);
    const end = random.chance(0.4) ? addDays(periodStart, random.int(90, 720)) : null;
    distraints.push({
      kind: wageEarner ? 'WAGE' : 'BENEFIT',
      decidedOn,
      periodStart,
      // An end after the reference date is not known yet: the distraint is still running.
      periodEnd: end !== null && end < REFERENCE_DATE ? end : null,
      monthlyAmount: ore(random.int(8, 60) * 100),
    });
  }

  let restructuring: DebtorRecord['restructuring'] = null;
  if (total >= ore(RESTRUCTURING_THRESHOLD) && random.chance(0.4)) {
    const appliedOn = randomDay(random, firstRegistered, LAST_DECISION);
    let status = random.weighted([
      ['GRANTED', 0.65],
      ['REJECTED', 0.15],
      ['APPLIED', 0.2],
    ] as const) as NonNullable<DebtorRecord['restructuring']>['status'];
    const decidedOn = status === 'APPLIED' ? null : minDate(addDays(appliedOn, random.int(60, 240)), LAST_DECISION);
    const planStart = status === 'GRANTED' && decidedOn ? addDays(decidedOn, 30) : null;
    // Plans normally run five years; one that was shortened (a change of circumstances) may have ended.
    let planEnd = planStart ? addDays(planStart, 5 * 365) : null;
    if (planStart && random.chance(0.1)) {
      const shortened = addDays(planStart, random.int(180, 720));
      if (shortened < REFERENCE_DATE) {
        planEnd = shortened;
        status = 'COMPLETED';
      }
    }
    restructuring = { status, appliedOn, decidedOn, planStart, planEnd, monthlyPayment: planStart ? ore(random.int(5, 40) * 100) : null };
  }
  return { debts, distraints, restructuring };
}
