/**
 * Synthetic access-log entries for the append benchmarks, built as the gateway builds them
 * (src/audit/accessLogEntries.ts: one header and one legal basis per request, shared by reference)
 * about subjects drawn from SUBJECT_POOL distinct valid personnummer: 1 or 2 per request of a few
 * entries, one per 6 entries otherwise (the list-of-50 shape: 300 entries about 50 persons). One
 * subject for everything would flatter the log, which encrypts and keys each distinct subject of a
 * request. The entries are written out rather than spread: on Node 20 an object spread followed by
 * more properties costs several µs per object, which would be measured as the log's.
 */
import { createHash } from 'node:crypto';
import type { AccessLogEntry } from '../src/audit/entry.js';
import { makePersonnummer } from '../src/personnummer/index.js';

/** Distinct synthetic persons the requests are about: days of 1940–2005, serials 0..999. */
export const SUBJECT_POOL = 4000;
const subjects = Array.from({ length: SUBJECT_POOL }, (_, i) => {
  const day = new Date(Date.UTC(1940, 0, 1) + ((i * 7919) % 24_000) * 86_400_000).toISOString().slice(0, 10);
  return makePersonnummer(day, (i * 37) % 1000);
});
if (new Set(subjects).size !== SUBJECT_POOL) throw new Error('the bench subject pool has duplicates');
const FIELDS = ['Person.name', 'Person.address', 'Person.civilStatus', 'Person.income', 'Person.employer', 'Person.benefits'];
const basis = { legalBasis: 'SFS 2001:454 2 kap. 1 §', processingRegisterRef: { recordId: 'FK-REG-17', version: '3' } };
const documentHash = createHash('sha256').update('bench').digest('hex');
let nextSubject = 0;

/** How many distinct persons a request of `entries` entries is about. */
export function subjectsPerRequest(entries: number, request: number): number {
  return entries <= 10 ? Math.min(entries, 1 + (request % 2)) : Math.ceil(entries / FIELDS.length);
}

/** Distinct persons per request, on average over requests. */
export function meanSubjectsPerRequest(entries: number): number {
  return (subjectsPerRequest(entries, 0) + subjectsPerRequest(entries, 1)) / 2;
}

/** One request's entries; `request` numbers the requests (it varies the case and the number of persons). */
export function requestEntries(requestId: string, entries: number, request: number): AccessLogEntry[] {
  const time = new Date().toISOString();
  const clientAgency = { organisationNumber: '202100-5521', id: 'forsakringskassan' };
  const caseId = `case-${request % 97}`;
  const persons = subjectsPerRequest(entries, request);
  const first = nextSubject;
  nextSubject = (nextSubject + persons) % SUBJECT_POOL;
  return Array.from({ length: entries }, (_, i) => ({
    time,
    requestId,
    clientAgency,
    official: 'official-1',
    purpose: 'CASE_HANDLING',
    caseId,
    operationName: 'Bench',
    documentHash,
    legalBasis: basis.legalBasis,
    processingRegisterRef: basis.processingRegisterRef,
    subject: subjects[(first + (i % persons)) % SUBJECT_POOL]!,
    field: FIELDS[Math.floor(i / persons) % FIELDS.length]!,
    owningAgency: 'skatteverket',
    outcome: 'released',
    outcomeCode: null,
  }));
}
