import { describe, expect, it } from 'vitest';
import { chainRecords, checkLink, genesisHead, GENESIS_HASH, recordHash, type ChainHead } from '../../src/audit/hashChain.js';
import { draftRecords, parseRecordBody, recordColumns, RecordFormatError, type StoredRecord } from '../../src/audit/record.js';
import { purgeableSegments } from '../../src/audit/retention.js';
import { checkpointVerifier, CHECKPOINT_TYP, PURGE_TYP, signCheckpoint, signPurge } from '../../src/audit/checkpoint.js';
import { generateTestKeys, makeEntry, toUnchainedEntry } from './helpers.js';

const protectedSubject = { subjectEnc: 'v1.AAAA', subjectHmac: 'a'.repeat(64) };
const unchained = (n: number) => Array.from({ length: n }, (_, i) => toUnchainedEntry(makeEntry({ requestId: `fixed-${i}` }), protectedSubject));

const chained = (head: ChainHead, n: number, group = false) => chainRecords(head, draftRecords(group ? unchained(n).map((entry) => ({ ...entry, requestId: 'one-request' })) : unchained(n)));

describe('records and their hash chain', () => {
  it('serialises a record canonically: the header once, each subject and tail once, then one fixed-order reference per entry, so the hash of a known record never changes', () => {
    const { records } = chained(genesisHead('replica-a'), 2, true);
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(JSON.parse(record.body)).toEqual([
      'access-log-record-v3',
      'access',
      '2025-01-15T10:00:00.000Z',
      'one-request',
      '202100-5521',
      'forsakringskassan',
      'official-1',
      'CASE_HANDLING',
      'case-1',
      'PersonIncome',
      record.header.documentHash,
      [['v1.AAAA', 'a'.repeat(64)]],
      [['skatteverket', 'released', null, 'SFS 2001:454 2 kap. 1 §', 'FK-REG-17', '3']],
      [
        [0, 'Person.income', 0],
        [0, 'Person.income', 0],
      ],
    ]);
    expect(parseRecordBody(record.body)).toEqual({ header: record.header, items: record.items, itemTexts: record.itemTexts });
    // One spelling only: the same values spelled otherwise are refused.
    expect(() => parseRecordBody(record.body.replace(',[[', ', [['))).toThrow(RecordFormatError);
    expect(record).toMatchObject({ index: 0, firstSeq: 1, lastSeq: 2, prevHash: GENESIS_HASH, hash: recordHash(record) });
    expect(() => parseRecordBody(record.body.replace('"access"', '7'))).toThrow(RecordFormatError);
  });

  it('starts a new record wherever the request header changes', () => {
    expect(chained(genesisHead('c'), 3).records.map((r) => [r.index, r.firstSeq, r.lastSeq])).toEqual([
      [0, 1, 1],
      [1, 2, 2],
      [2, 3, 3],
    ]);
  });

  it('links each record to the previous hash with consecutive seqs and indices', () => {
    const { records, head } = chained(genesisHead('replica-a'), 3);
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);
    expect(records[1]!.prevHash).toBe(records[0]!.hash);
    expect(head).toEqual({ chainId: 'replica-a', seq: 3, hash: records[2]!.hash, records: 3 });
    const more = chained(head, 2, true);
    expect(more.records[0]).toMatchObject({ index: 3, firstSeq: 4, lastSeq: 5, prevHash: records[2]!.hash });
  });

  it('classifies breaks: gap, wrong predecessor, changed content, edited query column', () => {
    const { records } = chained(genesisHead('c'), 4);
    const [r1, r2, r3, r4] = records as [StoredRecord, StoredRecord, StoredRecord, StoredRecord];
    const at = (record: StoredRecord) => ({ chainId: 'c', seq: record.lastSeq, hash: record.hash, records: record.index + 1 });
    expect(checkLink(at(r1), r2)).toBeNull();
    expect(checkLink(at(r1), r3)).toMatchObject({ seq: 2, kind: 'seq-gap' });
    expect(checkLink(at(r2), { ...r4, firstSeq: 3, lastSeq: 3 })).toMatchObject({ seq: 3, kind: 'prev-hash-mismatch' });
    expect(checkLink(at(r2), { ...r3, body: r3.body.replace('official-1', 'x') })).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
    expect(checkLink(at(r2), { ...r3, body: '[' })).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
    expect(checkLink(at(r2), { ...r3, columns: { ...recordColumns(r3.header), official: 'x' } })).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
    expect(checkLink(at(r2), { ...r3, columns: recordColumns(r3.header) })).toBeNull();
    expect(checkLink(at(r3), r3)).toMatchObject({ seq: 3, kind: 'prev-hash-mismatch' });
    // After a purge anchor the index is not known beforehand; the hash still covers it.
    expect(checkLink({ chainId: 'c', seq: 2, hash: r2.hash, records: null }, r3)).toBeNull();
  });
});

describe('purge segments', () => {
  const cps = [5, 10, 15].map((seq) => ({ seq, headHash: `h${seq}` }));
  it.each([
    [
      'all expired',
      0,
      null,
      [
        [1, 5],
        [6, 10],
        [11, 15],
      ],
    ],
    ['blocked inside the second segment', 0, 7, [[1, 5]]],
    [
      'blocked right after a checkpoint',
      0,
      11,
      [
        [1, 5],
        [6, 10],
      ],
    ],
    ['blocked at the first entry', 0, 1, []],
    ['after an earlier purge', 5, 12, [[6, 10]]],
  ] as const)('%s', (_name, anchor, firstKept, expected) => {
    expect(purgeableSegments(anchor, cps, firstKept).map((s) => [s.fromSeq, s.uptoSeq])).toEqual(expected);
  });
});

describe('checkpoint signatures', () => {
  it('verifies with the public key, and refuses another key or a purge record passed off as a checkpoint', async () => {
    const keys = await generateTestKeys();
    const other = await generateTestKeys();
    const checkpoint = await signCheckpoint({ chainId: 'c', seq: 5, hash: 'h'.repeat(64) }, 5, '2025-01-01T00:00:00.000Z', keys.signer);
    const verify = checkpointVerifier([keys.publicJwk]);
    expect(await verify(checkpoint.jws, CHECKPOINT_TYP)).toMatchObject({ type: 'checkpoint', chainId: 'c', seq: 5, headHash: 'h'.repeat(64), count: 5 });
    expect(await checkpointVerifier([other.publicJwk])(checkpoint.jws, CHECKPOINT_TYP)).toBeNull();
    expect(await verify(checkpoint.jws, PURGE_TYP)).toBeNull();
    const purge = await signPurge({ chainId: 'c', uptoSeq: 5, headHash: 'h', purgedCount: 5, time: '2025-01-01T00:00:00.000Z' }, keys.signer);
    expect(await verify(purge.jws, CHECKPOINT_TYP)).toBeNull();
    expect(await verify('garbage', CHECKPOINT_TYP)).toBeNull();
  });
});
