/**
 * Calendar arithmetic on ISO dates through whole day numbers (days since 1970-01-01, UTC), so no
 * time zone or clock ever enters the generated data.
 */

const MS_PER_DAY = 86_400_000;

export function dayNumber(iso: string): number {
  return Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / MS_PER_DAY;
}

export function isoDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

export function addDays(iso: string, days: number): string {
  return isoDate(dayNumber(iso) + days);
}

export function ymd(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function lastDayOfMonth(year: number, month: number): string {
  return ymd(year, month, daysInMonth(year, month));
}

export function yearOf(iso: string): number {
  return Number(iso.slice(0, 4));
}

export function monthOf(iso: string): number {
  return Number(iso.slice(5, 7));
}

/** Whole years between a birth date and a date (the age on that date). */
export function ageOn(dateOfBirth: string, on: string): number {
  let age = yearOf(on) - yearOf(dateOfBirth);
  if (on.slice(5) < dateOfBirth.slice(5)) age -= 1;
  return age;
}

/** Inclusive day count of [start, end]. */
export function daysBetweenInclusive(start: string, end: string): number {
  return dayNumber(end) - dayNumber(start) + 1;
}

/** Monday to Friday days within [start, end], both included. */
export function weekdaysBetween(start: string, end: string): number {
  let count = 0;
  for (let day = dayNumber(start), last = dayNumber(end); day <= last; day++) {
    // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
    if ((day + 3) % 7 < 5) count++;
  }
  return count;
}

export interface MonthSlice {
  readonly year: number;
  readonly month: number;
  /** The part of the month inside the period. */
  readonly start: string;
  readonly end: string;
}

/** The calendar months a period touches, each cut to the period. */
export function* monthsOf(start: string, end: string): Generator<MonthSlice> {
  let year = yearOf(start);
  let month = monthOf(start);
  while (ymd(year, month, 1) <= end) {
    const monthStart = ymd(year, month, 1);
    const monthEnd = lastDayOfMonth(year, month);
    yield {
      year,
      month,
      start: monthStart < start ? start : monthStart,
      end: monthEnd > end ? end : monthEnd,
    };
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
}

/** A day of the month after the given one, e.g. the payment day for a month's claim. */
export function dayOfFollowingMonth(year: number, month: number, day: number): string {
  return month === 12 ? ymd(year + 1, 1, day) : ymd(year, month + 1, day);
}

export function minDate(a: string, b: string): string {
  return a < b ? a : b;
}

export function maxDate(a: string, b: string): string {
  return a > b ? a : b;
}
