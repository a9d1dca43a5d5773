import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessLogEntry } from '../../src/audit/entry.js';
import { makePersonnummer } from '../../src/personnummer/index.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient } from './auditClient.js';

/**
 * Anomaly flags over a generated history, written through the gateway's own AccessLog with
 * chosen times (March 2024, Stockholm is UTC+1), so nothing depends on when the test runs:
 * two officials of Malmö stad with the same ordinary week, one of whom then snoops.
 */

const DOCUMENT_HASH = createHash('sha256').update('query Snoop { person { name } }').digest('hex');
const person = (serial: number) => makePersonnummer('1970-01-01', serial);

function entry(official: string, time: string, overrides: Partial<AccessLogEntry> = {}): AccessLogEntry {
  return {
    time,
    requestId: `req-${official}-${time}`,
    clientAgency: { organisationNumber: '212000-1124', id: 'malmo-stad' },
    official,
    purpose: 'CASE_HANDLING',
    legalBasis: '11 kap. 11 § socialtjänstlagen (2001:453)',
    processingRegisterRef: { recordId: 'MALMO-SOC-FR-0142', version: '3' },
    caseId: `SOC-${official}-1`,
    subject: person(1),
    field: 'Person.name',
    owningAgency: 'skatteverket',
    outcome: 'released',
    outcomeCode: null,
    operationName: 'Person',
    documentHash: DOCUMENT_HASH,
    ...overrides,
  };
}

/** Ten reads a day at 10:xx local time on five working days, three persons of one case. */
function ordinaryWeek(official: string, subjectBase: number): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const day of ['04', '05', '06', '07', '08']) {
    for (let i = 0; i < 10; i++) {
      entries.push(entry(official, `2024-03-${day}T09:${String(i * 5).padStart(2, '0')}:00.000Z`, { subject: person(subjectBase + (i % 3)) }));
    }
  }
  return entries;
}

/** One late evening: 60 persons in one case, 200 reads, 5 persons outside the case, one with protected identity. */
function snooping(official: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (let i = 0; i < 200; i++) {
    const seconds = String(i % 60).padStart(2, '0');
    entries.push(entry(official, `2024-03-12T22:${String(Math.floor(i / 60) + 10)}:${seconds}.000Z`, { caseId: 'SOC-WIDE-9', subject: person(500 + (i % 60)) }));
  }
  for (let i = 0; i < 5; i++) {
    entries.push(entry(official, `2024-03-12T22:50:0${i}.000Z`, { caseId: 'SOC-WIDE-9', subject: person(700 + i), outcome: 'withheld', outcomeCode: 'SUBJECT_NOT_IN_CASE' }));
  }
  entries.push(entry(official, '2024-03-12T22:55:00.000Z', { caseId: 'SOC-WIDE-9', subject: person(800), field: 'Person.registeredAddress', outcome: 'withheld', outcomeCode: 'PROTECTED_IDENTITY' }));
  entries.push(entry(official, '2024-03-12T22:55:01.000Z', { caseId: 'SOC-WIDE-9', subject: person(800), field: 'Person.name' }));
  return entries;
}

interface Flag {
  kind: string;
  official: string;
  value: number;
  threshold: number;
  entryCount: number;
  entries: Array<{ subject: string; caseId: string; time: string }>;
}

let stack: Stack;
let imy: ReturnType<typeof auditClient>;
let skatteverket: ReturnType<typeof auditClient>;

beforeAll(async () => {
  stack = await startStack({ persons: 400 });
  await stack.deps.accessLog.record([...ordinaryWeek('tjm-normal', 100), ...ordinaryWeek('tjm-snoop', 200), ...snooping('tjm-snoop')]);
  imy = auditClient(stack, { official: 'imy-insp-1' });
  skatteverket = auditClient(stack, { official: 'dso-skv-1' });
});

afterAll(async () => {
  imy?.close();
  skatteverket?.close();
  await stack?.close();
});

const ANOMALIES = `query ($from: String, $to: String) { anomalies(from: $from, to: $to) { complete flags { kind official value threshold entryCount entries { subject caseId time } } } }`;

async function flags(client: typeof imy): Promise<Flag[]> {
  const answer = await client.graphql<{ anomalies: { complete: boolean; flags: Flag[] } }>(ANOMALIES, { from: '2024-03-01', to: '2024-04-01' });
  expect(answer.errors).toBeUndefined();
  expect(answer.data!.anomalies.complete).toBe(true);
  return answer.data!.anomalies.flags;
}

describe('anomaly flags', () => {
  it('flags the generated snooping pattern, each flag with the entries behind it', async () => {
    const snoop = (await flags(imy)).filter((f) => f.official === 'tjm-snoop');
    const byKind = Object.fromEntries(snoop.map((f) => [f.kind, f]));
    expect(Object.keys(byKind).sort()).toEqual(['MANY_SUBJECTS_IN_CASE', 'PROTECTED_IDENTITY_READ', 'SUBJECTS_OUTSIDE_CASE', 'UNUSUAL_HOURS', 'VOLUME_BURST']);
    expect(byKind['SUBJECTS_OUTSIDE_CASE']).toMatchObject({ value: 5, entryCount: 5 });
    expect(new Set(byKind['SUBJECTS_OUTSIDE_CASE']!.entries.map((e) => e.subject))).toEqual(new Set([700, 701, 702, 703, 704].map(person)));
    expect(byKind['MANY_SUBJECTS_IN_CASE']).toMatchObject({ value: 66 });
    expect(byKind['PROTECTED_IDENTITY_READ']!.entries.map((e) => e.subject)).toEqual([person(800), person(800)]);
    expect(byKind['VOLUME_BURST']).toMatchObject({ value: 207, entryCount: 207 });
    expect(byKind['UNUSUAL_HOURS']!.entryCount).toBe(207);
    expect(byKind['UNUSUAL_HOURS']!.entries.every((e) => e.time.startsWith('2024-03-12T22:'))).toBe(true);
  });

  it('does not flag the ordinary week of either official', async () => {
    const all = await flags(imy);
    expect(all.filter((f) => f.official === 'tjm-normal')).toEqual([]);
    expect(all.every((f) => f.entries.every((e) => e.time.startsWith('2024-03-12')))).toBe(true);
  });

  it('evaluates a privacy officer only over its scope: Skatteverket owns these fields and sees the same flags', async () => {
    const own = await flags(skatteverket);
    expect(own.map((f) => f.kind).sort()).toEqual((await flags(imy)).map((f) => f.kind).sort());
    const csn = auditClient(stack, { official: 'dso-csn-1' });
    try {
      expect(await flags(csn)).toEqual([]);
    } finally {
      csn.close();
    }
  });
});
