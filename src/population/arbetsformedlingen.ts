import { addDays, ageOn, dayNumber, dayOfFollowingMonth, isoDate, maxDate, minDate, monthsOf, weekdaysBetween } from './dates.js';
import type { Member } from './household.js';
import type { IdSequences } from './ids.js';
import {
  DATA_WINDOW_START,
  FIRST_DATA_YEAR,
  LAST_DATA_YEAR,
  REFERENCE_DATE,
  ore,
  type ActivitySupportKind,
  type ActivitySupportPaymentRecord,
  type JobSeekerRegistrationRecord,
  type JobSeekerStatus,
  type LabourMarketProgramme,
} from './model.js';
import type { Random } from './random.js';

export interface JobSeekerResult {
  readonly registrations: JobSeekerRegistrationRecord[];
  readonly payments: ActivitySupportPaymentRecord[];
  /** Share of each year without work (0–1), which lowers that year's earnings. */
  readonly unemployedShareByYear: ReadonlyMap<number, number>;
}

const NOT_REGISTERED: JobSeekerResult = { registrations: [], payments: [], unemployedShareByYear: new Map() };

/** Highest aktivitetsstöd per day for members of an unemployment fund, and the floor without one, in kronor. */
const ACTIVITY_SUPPORT_MAX = 910;
const ACTIVITY_SUPPORT_BASIC = 223;
const ESTABLISHMENT_ALLOWANCE = 308;
const DEVELOPMENT_ALLOWANCE = [152, 291] as const;

/**
 * Job-seeker registrations: about 7 % of the working-age population is registered at the
 * reference date, more often with low earnings or a samordningsnummer; a few more were
 * registered earlier and have left. Programme participants receive activity support monthly.
 */
export function jobSeekerFor(random: Random, member: Member, municipalityCode: string, ids: IdSequences): JobSeekerResult {
  const { person } = member;
  if (member.age < 18 || member.age > 64) return NOT_REGISTERED;
  const wageFactor = member.wage < 250_000 ? 2 : member.wage < 350_000 ? 1.1 : 0.5;
  const numberFactor = person.identityNumberKind === 'SAMORDNINGSNUMMER' ? 2.5 : 1;
  const current = random.chance(0.066 * wageFactor * numberFactor);
  const earlier = random.chance(current ? 0.15 : 0.03);
  if (!current && !earlier) return NOT_REGISTERED;

  const officeCode = `${municipalityCode}-${String(random.int(1, 4)).padStart(2, '0')}`;
  const registrations: JobSeekerRegistrationRecord[] = [];
  const payments: ActivitySupportPaymentRecord[] = [];
  const unemployed: [start: string, end: string, weight: number][] = [];

  const register = (window: { from: string; to: string }, stillRegistered: boolean): void => {
    const registeredOn = isoDate(random.int(dayNumber(window.from), dayNumber(window.to)));
    const deregisteredOn = stillRegistered ? null : minDate(addDays(registeredOn, random.int(30, 540)), addDays(REFERENCE_DATE, -1));
    const status: JobSeekerStatus = stillRegistered
      ? random.weighted([
          ['OPENLY_UNEMPLOYED', 0.5],
          ['IN_PROGRAMME', 0.35],
          ['PART_TIME_UNEMPLOYED', 0.15],
        ] as const)
      : 'DEREGISTERED';
    const inProgramme = status === 'IN_PROGRAMME' || (status === 'DEREGISTERED' && random.chance(0.4));
    const programme = inProgramme ? programmeFor(random, member, registeredOn) : null;
    registrations.push({
      id: ids.jobSeekerRegistration(),
      personnummer: person.personnummer,
      status,
      registeredOn,
      deregisteredOn,
      officeCode,
      programme,
    });
    const lastDay = deregisteredOn ?? REFERENCE_DATE;
    unemployed.push([registeredOn, lastDay, status === 'PART_TIME_UNEMPLOYED' ? 0.5 : 1]);
    if (programme) {
      const programmeStart = minDate(addDays(registeredOn, random.int(30, 400)), lastDay);
      payments.push(...activitySupport(random, member, programme, programmeStart, lastDay, ids));
    }
  };

  if (earlier) register({ from: DATA_WINDOW_START, to: current ? '2022-06-30' : '2024-06-30' }, false);
  if (current) register({ from: earlier ? '2023-01-01' : DATA_WINDOW_START, to: addDays(REFERENCE_DATE, -30) }, true);

  return { registrations, payments, unemployedShareByYear: shareByYear(unemployed) };
}

function programmeFor(random: Random, member: Member, registeredOn: string): LabourMarketProgramme {
  if (member.person.identityNumberKind === 'SAMORDNINGSNUMMER' || random.chance(0.08)) return 'ESTABLISHMENT_PROGRAMME';
  if (ageOn(member.person.dateOfBirth, registeredOn) < 25) return 'JOB_GUARANTEE_FOR_YOUTH';
  return random.chance(0.6) ? 'JOB_AND_DEVELOPMENT_GUARANTEE' : 'PREPARATORY_EDUCATION';
}

function activitySupport(random: Random, member: Member, programme: LabourMarketProgramme, start: string, end: string, ids: IdSequences): ActivitySupportPaymentRecord[] {
  const young = ageOn(member.person.dateOfBirth, start) < 25;
  let kind: ActivitySupportKind;
  let dailyKronor: number;
  if (programme === 'ESTABLISHMENT_PROGRAMME') {
    kind = 'ESTABLISHMENT_ALLOWANCE';
    dailyKronor = ESTABLISHMENT_ALLOWANCE;
  } else if (young) {
    kind = 'DEVELOPMENT_ALLOWANCE';
    dailyKronor = random.chance(0.7) ? DEVELOPMENT_ALLOWANCE[1] : DEVELOPMENT_ALLOWANCE[0];
  } else {
    kind = 'ACTIVITY_SUPPORT';
    // Members of an unemployment fund get 80 % of their former daily earnings up to the ceiling.
    dailyKronor = random.chance(0.8) ? Math.max(ACTIVITY_SUPPORT_BASIC, Math.min(ACTIVITY_SUPPORT_MAX, Math.round((0.8 * member.wage) / 260))) : ACTIVITY_SUPPORT_BASIC;
  }
  const dailyAmount = ore(dailyKronor);
  const payments: ActivitySupportPaymentRecord[] = [];
  for (const slice of monthsOf(maxDate(start, DATA_WINDOW_START), end)) {
    // Paid after the time report for the month; later payments are outside the snapshot.
    const paidOn = dayOfFollowingMonth(slice.year, slice.month, 5);
    if (paidOn > REFERENCE_DATE) break;
    const days = weekdaysBetween(slice.start, slice.end);
    if (days === 0) continue;
    payments.push({
      id: ids.activitySupportPayment(),
      personnummer: member.person.personnummer,
      kind,
      periodStart: slice.start,
      periodEnd: slice.end,
      paidOn,
      days,
      dailyAmount,
      amount: days * dailyAmount,
    });
  }
  return payments;
}

function shareByYear(spans: readonly (readonly [string, string, number])[]): Map<number, number> {
  const shares = new Map<number, number>();
  for (let year = FIRST_DATA_YEAR; year <= LAST_DATA_YEAR; year++) {
    const first = dayNumber(`${year}-01-01`);
    const last = dayNumber(`${year}-12-31`);
    let share = 0;
    for (const [start, end, weight] of spans) {
      const from = Math.max(first, dayNumber(start));
      const to = Math.min(last, dayNumber(end));
      if (to >= from) share += ((to - from + 1) / (last - first + 1)) * weight;
    }
    if (share > 0) shares.set(year, Math.min(1, share));
  }
  return shares;
}
