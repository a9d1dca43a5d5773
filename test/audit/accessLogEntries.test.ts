import { describe, expect, it } from 'vitest';
import { accessLogEntries, UNKNOWN_BASIS, type LegalBasis } from '../../src/audit/accessLogEntries.js';
import { validateAccessLogEntry } from '../../src/audit/entry.js';
import type { CallerContext } from '../../src/identity/callerContext.js';
import { DOCUMENT_HASH, SUBJECTS } from './helpers.js';

/**
 * The one builder of a partner request's entries: every entry carries the request's caller and
 * operation, the value's own subject, field, owner and outcome, and the legal basis of the field
 * that decided it, and nothing else. Written out key by key (not spread), so each key is asserted.
 */
const caller: CallerContext = {
  agency: { id: 'malmo-stad', organisationNumber: '212000-1124', name: 'Malmö stad' },
  official: 'official-7',
  purpose: 'CASE_HANDLING',
  caseId: 'CASE-1',
  subjects: [SUBJECTS[0], SUBJECTS[1]],
  requestId: 'request-1',
  certificateThumbprint: 'thumbprint',
  tokenId: 'token-1',
};
const operation = { operationName: 'Persons', documentHash: DOCUMENT_HASH };
const NAME_BASIS: LegalBasis = { legalBasis: 'SFS 2001:454 2 kap. 1 §', processingRegisterRef: { recordId: 'SKV-1', version: '3' } };
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const requestPart = {
  requestId: 'request-1',
  clientAgency: { organisationNumber: '212000-1124', id: 'malmo-stad' },
  official: 'official-7',
  purpose: 'CASE_HANDLING',
  caseId: 'CASE-1',
  operationName: 'Persons',
  documentHash: DOCUMENT_HASH,
};

describe('accessLogEntries', () => {
  it('builds one entry per value with its subject, field, owner, outcome and its field’s legal basis', () => {
    const entries = accessLogEntries(caller, operation, {
      kind: 'accessed',
      accessed: [
        { subject: SUBJECTS[0], coordinate: 'Person.name', owner: 'skatteverket', basis: 'Person.name', outcome: 'released', code: null },
        { subject: SUBJECTS[1], coordinate: 'Person.benefits', owner: 'forsakringskassan', basis: 'Person.benefits', outcome: 'withheld', code: 'AGENCY_UNAVAILABLE' },
        { subject: SUBJECTS[2], coordinate: 'Person.personnummer', owner: 'gateway', basis: null, outcome: 'released', code: null },
      ],
      basisOf: (coordinate) => (coordinate === 'Person.name' ? NAME_BASIS : undefined),
    });
    expect(entries).toHaveLength(3);
    const [time] = entries.map((e) => e.time);
    expect(time).toMatch(ISO_MS_UTC);
    expect(entries.every((e) => e.time === time)).toBe(true);
    expect(entries).toEqual([
      { time, ...requestPart, ...NAME_BASIS, subject: SUBJECTS[0], field: 'Person.name', owningAgency: 'skatteverket', outcome: 'released', outcomeCode: null },
      // A field whose decision is not known is said plainly rather than given another field's basis.
      { time, ...requestPart, ...UNKNOWN_BASIS, subject: SUBJECTS[1], field: 'Person.benefits', owningAgency: 'forsakringskassan', outcome: 'withheld', outcomeCode: 'AGENCY_UNAVAILABLE' },
      { time, ...requestPart, ...UNKNOWN_BASIS, subject: SUBJECTS[2], field: 'Person.personnummer', owningAgency: 'gateway', outcome: 'released', outcomeCode: null },
    ]);
    // Exactly the entry's keys, none left over from the builder's inputs (the value's `coordinate`, `owner`, `basis`, `code`).
    for (const entry of entries) expect(Object.keys(entry).sort()).toEqual(Object.keys(entries[0]!).sort());
    expect(Object.keys(entries[0]!)).not.toContain('coordinate');
    for (const entry of entries) expect(() => validateAccessLogEntry(entry)).not.toThrow();
  });

  it('builds a denial’s entries for every subject of the case, or for the one person it names', () => {
    const entries = accessLogEntries(caller, operation, {
      kind: 'denied',
      denials: [
        { field: 'Person.sicknessBenefit', owningAgency: 'forsakringskassan', outcomeCode: 'NO_AGREEMENT' },
        { field: 'Query.person', owningAgency: 'gateway', outcomeCode: 'SUBJECT_NOT_IN_CASE', subject: SUBJECTS[2] },
      ],
    });
    const denied = { legalBasis: 'none (denied before disclosure)', processingRegisterRef: { recordId: 'none', version: '0' }, outcome: 'denied' };
    expect(entries.map(({ time: _time, ...rest }) => rest)).toEqual([
      { ...requestPart, ...denied, subject: SUBJECTS[0], field: 'Person.sicknessBenefit', owningAgency: 'forsakringskassan', outcomeCode: 'NO_AGREEMENT' },
      { ...requestPart, ...denied, subject: SUBJECTS[1], field: 'Person.sicknessBenefit', owningAgency: 'forsakringskassan', outcomeCode: 'NO_AGREEMENT' },
      { ...requestPart, ...denied, subject: SUBJECTS[2], field: 'Query.person', owningAgency: 'gateway', outcomeCode: 'SUBJECT_NOT_IN_CASE' },
    ]);
    for (const entry of entries) expect(() => validateAccessLogEntry(entry)).not.toThrow();
  });

  it('gives a denial in a case without subjects one entry without a subject', () => {
    const entries = accessLogEntries({ ...caller, subjects: [] }, operation, { kind: 'denied', denials: [{ field: '*', owningAgency: 'gateway', outcomeCode: 'RATE_LIMITED' }] });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ subject: null, field: '*', outcome: 'denied', outcomeCode: 'RATE_LIMITED' });
  });
});
