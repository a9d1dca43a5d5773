import { describe, expect, it } from 'vitest';
import { validateAccessLogEntry, InvalidAccessLogEntryError, type AccessLogEntry } from '../../src/audit/entry.js';
import { makeEntry, SUBJECTS } from './helpers.js';

describe('access-log entry validation', () => {
  it('accepts released, withheld and denied entries and audit queries without a subject', () => {
    expect(() => validateAccessLogEntry(makeEntry())).not.toThrow();
    expect(() => validateAccessLogEntry(makeEntry({ outcome: 'withheld', outcomeCode: 'PROTECTED_IDENTITY' }))).not.toThrow();
    expect(() => validateAccessLogEntry(makeEntry({ outcome: 'denied', outcomeCode: 'PURPOSE_NOT_ALLOWED', operationName: null }))).not.toThrow();
    expect(() => validateAccessLogEntry(makeEntry({ kind: 'audit-query', subject: null, field: 'Query.accessLog' }))).not.toThrow();
  });

  const wrongTen = `${SUBJECTS[0].slice(2, 8)}-${SUBJECTS[0].slice(8)}`;
  const CASES: ReadonlyArray<[string, Partial<AccessLogEntry> | Record<string, unknown>]> = [
    ['kind', { kind: 'read' }],
    ['time', { time: '2025-01-15T10:00:00Z' }],
    ['time', { time: '2025-01-15 10:00:00.000' }],
    ['requestId', { requestId: '' }],
    ['clientAgency.organisationNumber', { clientAgency: { organisationNumber: '2021005521', id: 'fk' } }],
    ['clientAgency.id', { clientAgency: { organisationNumber: '202100-5521', id: '' } }],
    ['official', { official: '' }],
    ['purpose', { purpose: 'MARKETING' }],
    ['legalBasis', { legalBasis: '' }],
    ['processingRegisterRef.recordId', { processingRegisterRef: { recordId: '', version: '1' } }],
    ['processingRegisterRef.version', { processingRegisterRef: { recordId: 'R', version: '' } }],
    ['caseId', { caseId: '' }],
    ['subject', { subject: '19850314-1234' }],
    ['subject', { subject: wrongTen }],
    ['subject', { subject: `${SUBJECTS[0].slice(0, 8)}-${SUBJECTS[0].slice(8)}` }],
    ['field', { field: 'income' }],
    ['owningAgency', { owningAgency: '' }],
    ['outcome', { outcome: 'allowed' }],
    ['outcomeCode', { outcome: 'released', outcomeCode: 'PURPOSE_NOT_ALLOWED' }],
    ['outcomeCode', { outcome: 'denied', outcomeCode: null }],
    ['operationName', { operationName: '' }],
    ['documentHash', { documentHash: 'ABC' }],
  ];

  it.each(CASES)('names %s when it is malformed, never echoing a personnummer', (property, override) => {
    let caught: unknown;
    try {
      validateAccessLogEntry({ ...makeEntry(), ...override } as AccessLogEntry);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidAccessLogEntryError);
    expect(caught).toMatchObject({ property });
    expect((caught as Error).message).not.toMatch(/\d{6}-?\d{4}/);
  });
});
