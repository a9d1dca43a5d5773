import type { StoredEntry } from '../audit/entry.js';
import type { AnomalyThresholds } from '../config/auditApiConfig.js';

/**
 * Anomaly flags: patterns in the access log a privacy officer should look at. A flag is a
 * prompt for a human, never a verdict, so each one lists the entries behind it. Pure: entries
 * and thresholds in, flags out. Subjects are compared by their keyed hash; nothing is decrypted.
 *
 * Legal basis of looking at all: GDPR art. 39.1 b (the data protection officer monitors
 * compliance) and art. 32 (logging that is actually followed up is part of appropriate security).
 */

export type AnomalyKind = 'SUBJECTS_OUTSIDE_CASE' | 'MANY_SUBJECTS_IN_CASE' | 'PROTECTED_IDENTITY_READ' | 'VOLUME_BURST' | 'UNUSUAL_HOURS';

export interface AnomalyFlag {
  readonly kind: AnomalyKind;
  readonly clientAgency: string;
  readonly official: string;
  /** The case, for MANY_SUBJECTS_IN_CASE; the local day, for VOLUME_BURST. */
  readonly caseId: string | null;
  readonly day: string | null;
  /** What was measured against the threshold (distinct subjects, entries). */
  readonly value: number;
  readonly threshold: number;
  readonly entries: readonly StoredEntry[];
}

type Key = string;
const officialKey = (entry: StoredEntry): Key => `${entry.clientAgencyId}\u0000${entry.official}`;

function group<T>(items: Iterable<T>, keyOf: (item: T) => Key | null): Map<Key, T[]> {
  const groups = new Map<Key, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === null) continue;
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function distinctSubjects(entries: readonly StoredEntry[]): number {
  return new Set(entries.map((e) => e.subjectHmac).filter((h): h is string => h !== null)).size;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Local date and hour of an entry, in the configured zone (working hours are local). */
export function localClock(timeZone: string): (iso: string) => { day: string; hour: number } {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
  return (iso) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    return { day: `${parts['year']}-${parts['month']}-${parts['day']}`, hour: Number(parts['hour']) };
  };
}

function flag(kind: AnomalyKind, first: StoredEntry, value: number, threshold: number, entries: readonly StoredEntry[], extra: { caseId?: string; day?: string } = {}): AnomalyFlag {
  return { kind, clientAgency: first.clientAgencyId, official: first.official, caseId: extra.caseId ?? null, day: extra.day ?? null, value, threshold, entries };
}

/**
 * `entries`: access entries (kind `access`) in time order. `history`: the same official's
 * earlier entries for the burst baseline may be included in `entries`; a day is compared with
 * the official's other active days in the set.
 */
export function detectAnomalies(entries: readonly StoredEntry[], thresholds: AnomalyThresholds): AnomalyFlag[] {
  const access = entries.filter((e) => e.kind === 'access');
  const flags: AnomalyFlag[] = [];
  const byOfficial = group(access, officialKey);

  // Reading persons who are not subjects of the case: the subgraph withholds the field
  // (SUBJECT_NOT_IN_CASE), so each attempt is in the log even though nothing was released.
  for (const list of byOfficial.values()) {
    const outside = list.filter((e) => e.outcomeCode === 'SUBJECT_NOT_IN_CASE');
    const subjects = distinctSubjects(outside);
    if (outside[0] && subjects >= thresholds.outsideCaseSubjects) flags.push(flag('SUBJECTS_OUTSIDE_CASE', outside[0], subjects, thresholds.outsideCaseSubjects, outside));
  }

  // The case's subjects are named by the client in its own token, so an official can also snoop
  // by listing many persons in one case: a case touching unusually many persons is flagged.
  for (const list of group(access, (e) => `${officialKey(e)}\u0000${e.caseId}`).values()) {
    const subjects = distinctSubjects(list);
    if (list[0] && subjects >= thresholds.subjectsPerCase) flags.push(flag('MANY_SUBJECTS_IN_CASE', list[0], subjects, thresholds.subjectsPerCase, list, { caseId: list[0].caseId }));
  }

  // The log does not say whether a person has protected identity, but the guard's
  // PROTECTED_IDENTITY outcome does: every entry about such a person is then in scope,
  // including reads released under an agreement with protected-identity access.
  const protectedSubjects = new Set(access.filter((e) => e.outcomeCode === 'PROTECTED_IDENTITY' && e.subjectHmac !== null).map((e) => e.subjectHmac));
  if (protectedSubjects.size > 0) {
    for (const list of group(
      access.filter((e) => e.subjectHmac !== null && protectedSubjects.has(e.subjectHmac)),
      officialKey,
    ).values()) {
      if (list[0] && list.length >= thresholds.protectedIdentityReads) flags.push(flag('PROTECTED_IDENTITY_READ', list[0], list.length, thresholds.protectedIdentityReads, list));
    }
  }

  const clock = localClock(thresholds.timeZone);
  for (const list of byOfficial.values()) {
    const local = list.map((entry) => ({ entry, ...clock(entry.time) }));
    // Far above the official's usual volume: a day against the median of their other active days.
    const byDay = group(local, (l) => l.day);
    if (byDay.size > thresholds.burstBaselineDays) {
      for (const [day, dayEntries] of byDay) {
        const others = [...byDay].filter(([d]) => d !== day).map(([, l]) => l.length);
        const usual = median(others);
        const limit = Math.max(thresholds.burstMinEntries, thresholds.burstFactor * usual);
        const first = dayEntries[0];
        if (first && dayEntries.length >= limit) {
          flags.push(
            flag(
              'VOLUME_BURST',
              first.entry,
              dayEntries.length,
              Math.ceil(limit),
              dayEntries.map((l) => l.entry),
              { day },
            ),
          );
        }
      }
    }
    const offHours = local.filter((l) => l.hour < thresholds.workingHours.start || l.hour >= thresholds.workingHours.end).map((l) => l.entry);
    if (offHours[0] && offHours.length >= thresholds.offHoursEntries) flags.push(flag('UNUSUAL_HOURS', offHours[0], offHours.length, thresholds.offHoursEntries, offHours));
  }
  return flags;
}
