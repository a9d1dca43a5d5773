import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidAccessLogEntryError, validateAccessLogEntries, validateAccessLogEntry, type AccessLogEntry } from '../../src/audit/entry.js';
import { chainRecords, recordHash, type ChainHead } from '../../src/audit/hashChain.js';
import { leafBytes } from '../../src/audit/logTree.js';
import { draftEntries, draftRecords, entryCommitment, entryCommitments, parseRecordBody, recordBodyInV2, type ProtectedSubject, type StoredRecord } from '../../src/audit/record.js';
import { DOCUMENT_HASH, SUBJECTS, toUnchainedEntry } from './helpers.js';

/**
 * The write path builds records straight from the gateway's entries (draftEntries) and spells the
 * chain's and the tree's hashes with their constant parts once per batch. The stored format, the
 * hashes, the leaves and the openings must not change by a byte: the verifier, the citizens'
 * reports and the migration read them. These tests hold the fast path to the plain one.
 */

/** A stand-in for subject protection with awkward characters, so every JSON piece's escaping is exercised. */
function fakeProtect(subject: string): ProtectedSubject {
  return { subjectEnc: `v1."${subject}\\é`, subjectHmac: createHash('sha256').update(subject).digest('hex') };
}

const header = {
  time: '2025-01-15T10:00:00.000Z',
  requestId: 'req-1',
  clientAgency: { organisationNumber: '202100-5521', id: 'forsakringskassan' },
  official: 'official-1',
  purpose: 'CASE_HANDLING' as const,
  caseId: 'case "1" \\ §',
  operationName: 'PersonIncome',
  documentHash: DOCUMENT_HASH,
};
const basis = { legalBasis: 'SFS 2001:454 2 kap. 1 § "citat"\n', processingRegisterRef: { recordId: 'FK-REG-17', version: '3' } };

/** One call's entries as the gateway builds them, with header changes, repeated and absent subjects and every outcome. */
function callEntries(): AccessLogEntry[] {
  const released = (subject: string | null, field: string) => ({ ...header, ...basis, subject, field, owningAgency: 'skatteverket', outcome: 'released' as const, outcomeCode: null });
  return [
    released(SUBJECTS[0], 'Person.name'),
    released(SUBJECTS[1], 'Person.name'),
    released(SUBJECTS[0], 'Person.income'),
    { ...released(SUBJECTS[1], 'Person.income'), outcome: 'withheld', outcomeCode: 'PROTECTED_IDENTITY' },
    { ...released(SUBJECTS[0], 'Person.address'), owningAgency: 'lantmateriet', legalBasis: 'other basis' },
    // Equal values in a new object: still the same header.
    { ...released(SUBJECTS[0], 'Person.civilStatus'), clientAgency: { ...header.clientAgency } },
    { ...released(null, 'Query.accessLog'), kind: 'audit-query', operationName: null },
    { ...released(SUBJECTS[2], '*'), requestId: 'req-2', outcome: 'denied', outcomeCode: 'RATE_LIMITED' },
    { ...released(SUBJECTS[2], 'Person.name'), requestId: 'req-2', kind: 'access' },
    { ...released(SUBJECTS[0], 'Person.name'), time: '2025-01-15T10:00:00.001Z' },
  ];
}

describe('drafting records straight from entries', () => {
  it('makes the same drafts, byte for byte, as flattening each entry first', () => {
    const entries = callEntries();
    const protectedOnce = new Map<string, ProtectedSubject>();
    const protect = (subject: string) => protectedOnce.get(subject) ?? protectedOnce.set(subject, fakeProtect(subject)).get(subject)!;
    const plain = draftRecords(entries.map((entry) => toUnchainedEntry(entry, entry.subject === null ? null : protect(entry.subject))));
    const fast = draftEntries(entries, protect);
    expect(plain.length).toBe(4);
    expect(fast).toEqual(plain);
  });

  it('protects each distinct subject of a call once', () => {
    const seen: string[] = [];
    draftEntries(callEntries(), (subject) => {
      seen.push(subject);
      return fakeProtect(subject);
    });
    expect(seen).toEqual([SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]]);
  });

  it('chains records with the hash recordHash gives, and leaves with the commitments entryCommitment gives', () => {
    const head: ChainHead = { chainId: 'chain "a"', seq: 41, hash: 'f'.repeat(64), records: 7 };
    const { records, head: next } = chainRecords(head, draftEntries(callEntries(), fakeProtect));
    expect(next).toMatchObject({ seq: 41 + 10, records: 11, hash: records[3]!.hash });
    for (const record of records) {
      expect(record.hash).toBe(recordHash(record));
      const commitments = entryCommitments(record.chainId, record.firstSeq, record.itemTexts);
      expect(commitments).toEqual(record.itemTexts.map((text, i) => entryCommitment(record.chainId, record.firstSeq + i, text)));
      expect(JSON.parse(leafBytes(record))[9]).toEqual(commitments);
    }
  });

  const place = { chainId: 'chain "a"', seq: 41, hash: 'f'.repeat(64), records: 7 };
  const digestOf = (records: readonly StoredRecord[]) => {
    const digest = createHash('sha256');
    for (const record of records) digest.update(`${record.body}\n${record.hash}\n${leafBytes(record)}\n`);
    return digest.digest('hex');
  };

  it('writes exactly the bytes the v3 format has had since it was introduced', () => {
    // Computed when v3 bodies were introduced (2026-12-02): bodies, record hashes and leaves of the call above.
    expect(digestOf(chainRecords(place, draftEntries(callEntries(), fakeProtect)).records)).toBe(GOLDEN_V3);
  });

  it('spells a record of several entries about few persons and owners in fewer bytes than v2', () => {
    const [draft] = draftEntries(callEntries(), fakeProtect);
    expect(draft!.items.length).toBe(6);
    expect(draft!.body.length).toBeLessThan(0.6 * recordBodyInV2(draft!.header, draft!.items).length);
  });

  it('reads the same records spelled in v2 as the v2 code wrote them, and opens their entries to the same commitments', () => {
    const drafts = draftEntries(callEntries(), fakeProtect);
    const asV2 = drafts.map((draft) => ({ ...draft, body: recordBodyInV2(draft.header, draft.items) }));
    // Computed with the v2 code (main at 88f86c0): the bytes stored v2 records have.
    expect(digestOf(chainRecords(place, asV2).records)).toBe(GOLDEN_V2);
    for (const [i, draft] of drafts.entries()) {
      expect(parseRecordBody(asV2[i]!.body)).toEqual({ header: draft.header, items: draft.items, itemTexts: draft.itemTexts });
      expect(parseRecordBody(draft.body)).toEqual({ header: draft.header, items: draft.items, itemTexts: draft.itemTexts });
      // The bodies differ, the entries a report opens do not.
      expect(entryCommitments('c', 1, parseRecordBody(asV2[i]!.body).itemTexts)).toEqual(entryCommitments('c', 1, draft.itemTexts));
    }
  });
});

const GOLDEN_V2 = '7589ca30e356e431ee29a0e583aa7de7eac89db7dfe7ab014b0982f23dd5b783';
const GOLDEN_V3 = '3972d3d7f95dc8186d45a94d1a3ae1450fd4cbe0818f17c5571e30a138eab550';

describe('validating a call of entries', () => {
  const base = () => callEntries();
  const wrongTen = `${SUBJECTS[0].slice(2, 8)}-${SUBJECTS[0].slice(8)}`;
  const BAD: ReadonlyArray<Record<string, unknown>> = [
    { kind: 'read' },
    { time: '2025-01-15T10:00:00Z' },
    { requestId: '' },
    { clientAgency: { organisationNumber: '2021005521', id: 'forsakringskassan' } },
    { clientAgency: { organisationNumber: '202100-5521', id: '' } },
    { official: '' },
    { purpose: 'MARKETING' },
    { legalBasis: '' },
    { processingRegisterRef: { recordId: '', version: '3' } },
    { processingRegisterRef: { recordId: 'FK-REG-17', version: '' } },
    { caseId: '' },
    { subject: wrongTen },
    { field: 'income' },
    { field: '*' },
    { owningAgency: '' },
    { outcome: 'allowed' },
    { outcomeCode: 'PURPOSE_NOT_ALLOWED' },
    { outcome: 'denied' },
    { operationName: '' },
    { documentHash: 'ABC' },
    // Two faults: the first in the checks' order is named, as for one entry alone.
    { official: '', field: 'income' },
    { documentHash: 'ABC', outcome: 'allowed' },
  ];

  it('accepts a call of good entries', () => {
    expect(() => validateAccessLogEntries(base())).not.toThrow();
  });

  it.each(BAD.flatMap((override) => [0, 1, 5, 9].map((at) => [at, override] as const)))('rejects entry %i of a call as it rejects the entry alone: %j', (at, override) => {
    const entries = base();
    const bad = { ...entries[at]!, ...override } as AccessLogEntry;
    entries[at] = bad;
    let alone: unknown;
    try {
      validateAccessLogEntry(bad);
    } catch (error) {
      alone = error;
    }
    expect(alone).toBeInstanceOf(InvalidAccessLogEntryError);
    expect(() => validateAccessLogEntries(entries)).toThrow(alone as Error);
    let inCall: unknown;
    try {
      validateAccessLogEntries(entries);
    } catch (error) {
      inCall = error;
    }
    expect(inCall).toMatchObject({ property: (alone as InvalidAccessLogEntryError).property, message: (alone as Error).message });
  });
});
