import { addDays, dayNumber, dayOfFollowingMonth, daysBetweenInclusive, isoDate, lastDayOfMonth, maxDate, minDate, monthOf, monthsOf, weekdaysBetween, yearOf, ymd } from './dates.js';
import type { HouseholdDraft, Member } from './household.js';
import type { IdSequences } from './ids.js';
import {
  DATA_WINDOW_START,
  FIRST_DATA_YEAR,
  LAST_DATA_YEAR,
  REFERENCE_DATE,
  ore,
  type BenefitDecisionRecord,
  type BenefitPaymentRecord,
  type BenefitType,
  type SicknessDecisionRecord,
  type SicknessPaymentRecord,
  type TaxedIncomeRecord,
} from './model.js';
import type { Random } from './random.js';

/** Barnbidrag per child and month (kronor), unchanged 2018–2024. */
const CHILD_ALLOWANCE = 1_250;
/** Ceiling of sjukpenninggrundande inkomst (10 prisbasbelopp), kronor per year. */
const SGI_CEILING: Readonly<Record<number, number>> = { 2019: 465_000, 2020: 473_000, 2021: 476_000, 2022: 483_000, 2023: 525_000, 2024: 573_000 };
/** Föräldrapenning on grundnivå, kronor per day. */
const PARENTAL_BENEFIT_FLOOR = 250;
const SICKNESS_SHARE = 0.05;

export interface ForsakringskassanResult {
  readonly benefitDecisions: BenefitDecisionRecord[];
  readonly benefitPayments: BenefitPaymentRecord[];
  readonly sicknessDecisions: SicknessDecisionRecord[];
  readonly sicknessPayments: SicknessPaymentRecord[];
}

/**
 * Försäkringskassan's decisions for a household: child allowance for each child under 16, paid
 * to one parent; parental benefit for the parents of children born from 2019; housing allowance
 * for low-income families and young adults; and sickness benefit for about 5 % of working-age adults.
 */
export function forsakringskassanFor(random: Random, draft: HouseholdDraft, incomeByPerson: ReadonlyMap<string, readonly TaxedIncomeRecord[]>, ids: IdSequences): ForsakringskassanResult {
  const result: ForsakringskassanResult = { benefitDecisions: [], benefitPayments: [], sicknessDecisions: [], sicknessPayments: [] };
  const adults = draft.members.filter((m) => m.role === 'ADULT');
  const children = draft.members.filter((m) => m.role === 'CHILD');
  const decide = decisionWriter(result, ids);

  if (adults.length > 0 && (draft.kind === 'COUPLE_WITH_CHILDREN' || draft.kind === 'SINGLE_PARENT')) {
    for (const child of children) {
      childAllowance(random, child, adults, decide);
      parentalBenefit(random, child, adults, decide);
    }
  }
  housingAllowance(random, draft, adults, children, incomeByPerson, decide);
  for (const adult of adults) {
    if (adult.age >= 20 && adult.age <= 64 && adult.wage > 0 && random.chance(SICKNESS_SHARE)) {
      sicknessBenefit(random, adult, result, ids);
      if (random.chance(0.1)) sicknessBenefit(random, adult, result, ids);
    }
  }
  return result;
}

interface DecisionInput {
  readonly recipient: Member;
  readonly benefit: BenefitType;
  readonly granted: boolean;
  readonly decidedOn: string;
  readonly periodStart: string;
  readonly periodEnd: string | null;
  readonly amount: number;
  readonly unit: 'PER_DAY' | 'PER_MONTH';
  /** Each payment: the month slice it covers, the day it was paid and the amount. */
  readonly payments: readonly { start: string; end: string; paidOn: string; amount: number }[];
}

type Decide = (input: DecisionInput) => void;

function decisionWriter(result: ForsakringskassanResult, ids: IdSequences): Decide {
  return (input) => {
    const id = ids.benefitDecision();
    const personnummer = input.recipient.person.personnummer;
    result.benefitDecisions.push({
      id,
      personnummer,
      benefit: input.benefit,
      outcome: input.granted ? 'GRANTED' : 'REJECTED',
      decidedOn: input.decidedOn,
      periodStart: input.periodStart,
      periodEnd: input.periodEnd,
      amount: input.granted ? input.amount : 0,
      unit: input.unit,
    });
    if (!input.granted) return;
    for (const payment of input.payments) {
      if (payment.amount <= 0 || payment.paidOn > REFERENCE_DATE) continue;
      result.benefitPayments.push({
        id: ids.benefitPayment(),
        decisionId: id,
        personnummer,
        benefit: input.benefit,
        paidOn: payment.paidOn,
        periodStart: payment.start,
        periodEnd: payment.end,
        amount: payment.amount,
      });
    }
  };
}

/** The parent who receives a payment by default: the mother in a mixed couple, most often. */
function primaryParent(random: Random, adults: readonly Member[]): Member {
  const [first, second] = adults;
  if (!first) throw new RangeError('a household with children has an adult');
  if (!second) return first;
  const mother = first.person.sex === 'FEMALE' ? first : second.person.sex === 'FEMALE' ? second : first;
  const other = mother === first ? second : first;
  return random.chance(0.7) ? mother : other;
}

function childAllowance(random: Random, child: Member, adults: readonly Member[], decide: Decide): void {
  const birth = child.person.dateOfBirth;
  const periodStart = dayOfFollowingMonth(yearOf(birth), monthOf(birth), 1);
  // Paid up to and including the quarter in which the child turns 16.
  const sixteenYear = yearOf(birth) + 16;
  const quarterEndMonth = Math.ceil(monthOf(birth) / 3) * 3;
  const periodEnd = lastDayOfMonth(sixteenYear, quarterEndMonth);
  const decidedOn = addDays(birth, random.int(10, 30));
  if (periodEnd < DATA_WINDOW_START || periodStart > REFERENCE_DATE || decidedOn > REFERENCE_DATE) return;
  const payments = [...monthsOf(maxDate(periodStart, DATA_WINDOW_START), minDate(periodEnd, REFERENCE_DATE))].map((slice) => ({
    start: slice.start,
    end: slice.end,
    paidOn: ymd(slice.year, slice.month, 20),
    amount: ore(CHILD_ALLOWANCE),
  }));
  decide({
    recipient: primaryParent(random, adults),
    benefit: 'CHILD_ALLOWANCE',
    granted: true,
    decidedOn,
    periodStart,
    periodEnd,
    amount: ore(CHILD_ALLOWANCE),
    unit: 'PER_MONTH',
    payments,
  });
}

/** Föräldrapenning: the first parent from the birth, the second parent after; about 80 % of income per day. */
function parentalBenefit(random: Random, child: Member, adults: readonly Member[], decide: Decide): void {
  const birth = child.person.dateOfBirth;
  if (birth < '2019-01-01') return;
  const first = primaryParent(random, adults);
  const second = adults.find((adult) => adult !== first);
  const spans: { parent: Member; start: string; days: number }[] = [{ parent: first, start: addDays(birth, -random.int(0, 10)), days: second ? random.int(180, 400) : random.int(240, 480) }];
  if (second && random.chance(0.9)) {
    const firstSpan = spans[0];
    if (firstSpan) spans.push({ parent: second, start: addDays(firstSpan.start, firstSpan.days), days: random.int(60, 200) });
  }
  for (const span of spans) {
    const periodStart = span.start;
    const periodEnd = addDays(periodStart, span.days - 1);
    const decidedOn = addDays(periodStart, -random.int(5, 30));
    if (periodEnd < DATA_WINDOW_START || decidedOn > REFERENCE_DATE) continue;
    const year = yearOf(periodStart);
    const ceiling = SGI_CEILING[year] ?? SGI_CEILING[LAST_DATA_YEAR] ?? 0;
    const income = span.parent.wage * 1.03 ** (year - FIRST_DATA_YEAR);
    const dailyKronor = Math.max(PARENTAL_BENEFIT_FLOOR, Math.round((0.8 * Math.min(income, ceiling) * 0.97) / 365));
    const dailyAmount = ore(dailyKronor);
    // Parents mostly take benefit on weekdays; a month's claim is paid on the 25th of the next month.
    const payments = [...monthsOf(maxDate(periodStart, DATA_WINDOW_START), minDate(periodEnd, REFERENCE_DATE))].map((slice) => ({
      start: slice.start,
      end: slice.end,
      paidOn: dayOfFollowingMonth(slice.year, slice.month, 25),
      amount: weekdaysBetween(slice.start, slice.end) * dailyAmount,
    }));
    decide({
      recipient: span.parent,
      benefit: 'PARENTAL_BENEFIT',
      granted: random.chance(0.97),
      decidedOn,
      periodStart,
      periodEnd,
      amount: dailyAmount,
      unit: 'PER_DAY',
      payments,
    });
  }
}

/** Bostadsbidrag, decided per calendar year for families with children and for 18–28-year-olds with low income. */
function housingAllowance(
  random: Random,
  draft: HouseholdDraft,
  adults: readonly Member[],
  children: readonly Member[],
  incomeByPerson: ReadonlyMap<string, readonly TaxedIncomeRecord[]>,
  decide: Decide,
): void {
  const applicant = adults[0];
  if (!applicant) return;
  const youngSingle = draft.kind === 'SINGLE' && applicant.age <= 30;
  if (children.length === 0 && !youngSingle) return;
  const applies = random.chance(0.55);
  for (let year = FIRST_DATA_YEAR; year <= LAST_DATA_YEAR; year++) {
    const childrenThatYear = children.filter((c) => year - yearOf(c.person.dateOfBirth) < 18 && yearOf(c.person.dateOfBirth) <= year).length;
    const ageThatYear = year - yearOf(applicant.person.dateOfBirth);
    let monthlyKronor: number;
    let limit: number;
    if (childrenThatYear > 0) {
      limit = adults.length === 1 ? 330_000 : 420_000;
      monthlyKronor = Math.min(5_300, 1_300 + 900 * childrenThatYear + random.int(0, 1_200));
    } else if (youngSingle && ageThatYear >= 18 && ageThatYear <= 28) {
      limit = 110_000;
      monthlyKronor = random.int(600, 1_300);
    } else {
      continue;
    }
    const householdIncome = adults.reduce((sum, adult) => {
      const record = incomeByPerson.get(adult.person.personnummer)?.find((r) => r.year === year);
      return sum + (record ? record.earnedIncome / 100 : 0);
    }, 0);
    if (householdIncome >= limit || !applies) continue;
    const periodStart = `${year}-01-01`;
    const periodEnd = `${year}-12-31`;
    const amount = ore(monthlyKronor);
    const payments = [...monthsOf(periodStart, minDate(periodEnd, REFERENCE_DATE))].map((slice) => ({
      start: slice.start,
      end: slice.end,
      paidOn: ymd(slice.year, slice.month, 27),
      amount,
    }));
    decide({
      recipient: applicant,
      benefit: 'HOUSING_ALLOWANCE',
      granted: random.chance(0.94),
      decidedOn: `${year - 1}-12-${String(random.int(1, 20)).padStart(2, '0')}`,
      periodStart,
      periodEnd,
      amount,
      unit: 'PER_MONTH',
      payments,
    });
  }
}

/** Sjukpenning at an extent of 25–100 %; a period still running on the reference date has no end yet. */
function sicknessBenefit(random: Random, adult: Member, result: ForsakringskassanResult, ids: IdSequences): void {
  const periodStart = isoDate(random.int(dayNumber(DATA_WINDOW_START), dayNumber(REFERENCE_DATE) - 14));
  const days = Math.min(364, 14 + Math.round(random.exponential(75)));
  const plannedEnd = addDays(periodStart, days - 1);
  const periodEnd = plannedEnd > REFERENCE_DATE ? null : plannedEnd;
  const extentPercent = random.weighted([
    [100, 0.55],
    [50, 0.25],
    [75, 0.08],
    [25, 0.12],
  ] as const);
  const granted = random.chance(0.93);
  const year = yearOf(periodStart);
  const ceiling = SGI_CEILING[year] ?? 0;
  const income = adult.wage * 1.03 ** (year - FIRST_DATA_YEAR);
  const dailyAmount = granted ? ore(((0.8 * Math.min(income, ceiling) * 0.97) / 365) * (extentPercent / 100)) : 0;
  const id = ids.sicknessDecision();
  result.sicknessDecisions.push({
    id,
    personnummer: adult.person.personnummer,
    outcome: granted ? 'GRANTED' : 'REJECTED',
    decidedOn: minDate(addDays(periodStart, random.int(10, 40)), REFERENCE_DATE),
    periodStart,
    periodEnd,
    extentPercent,
    dailyAmount,
  });
  if (!granted) return;
  for (const slice of monthsOf(periodStart, minDate(plannedEnd, REFERENCE_DATE))) {
    const paidOn = dayOfFollowingMonth(slice.year, slice.month, 10);
    if (paidOn > REFERENCE_DATE) break;
    result.sicknessPayments.push({
      id: ids.sicknessPayment(),
      decisionId: id,
      personnummer: adult.person.personnummer,
      paidOn,
      periodStart: slice.start,
      periodEnd: slice.end,
      amount: daysBetweenInclusive(slice.start, slice.end) * dailyAmount,
    });
  }
}
