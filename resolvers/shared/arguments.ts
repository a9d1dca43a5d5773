import { GatewayError } from '../../src/errors/index.js';

/**
 * Argument checks shared by the agency resolvers. A bad argument is the caller's mistake, so it
 * is a BAD_USER_INPUT error naming the argument, never a silently empty answer.
 */

export interface DateRange {
  readonly from: string | null;
  readonly to: string | null;
}

/** Optional inclusive date bounds; `from` after `to` is refused. Dates arrive validated by the Date scalar. */
export function dateRange(from: string | null | undefined, to: string | null | undefined): DateRange {
  const range = { from: from ?? null, to: to ?? null };
  if (range.from !== null && range.to !== null && range.from > range.to) {
    throw GatewayError.field('BAD_USER_INPUT', 'Argument "from" must not be later than "to".', { argument: 'from' });
  }
  return range;
}

/** Whether a day lies within the range, both ends included. */
export function dayInRange(day: string, range: DateRange): boolean {
  return (range.from === null || day >= range.from) && (range.to === null || day <= range.to);
}

/** Whether a period (open when `end` is null) overlaps the range, both ends included. */
export function periodOverlaps(period: { start: string; end: string | null }, range: DateRange): boolean {
  return (range.to === null || period.start <= range.to) && (range.from === null || period.end === null || period.end >= range.from);
}

/** An enum-list filter: absent means everything, an empty list means nothing. */
export function enumFilter<T extends string>(values: readonly T[] | null | undefined): (value: T) => boolean {
  if (values === null || values === undefined) return () => true;
  const allowed = new Set<T>(values);
  return (value) => allowed.has(value);
}
