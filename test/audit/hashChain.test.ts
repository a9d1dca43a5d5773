import { describe, expect, it } from 'vitest';
import { toUnchainedEntry } from '../../src/audit/entry.js';
import { canonicalEntryBytes, chainEntries, checkLink, entryHash, genesisHead, GENESIS_HASH } from '../../src/audit/hashChain.js';
import { purgeableSegments } from '../../src/audit/retention.js';
import { checkpointVerifier, CHECKPOINT_TYP, PURGE_TYP, signCheckpoint, signPurge } from '../../src/audit/checkpoint.js';
import { generateTestKeys, makeEntry } from './helpers.js';

const protectedSubject = { subjectEnc: 'v1.AAAA', subjectHmac: 'a'.repeat(64) };
const unchained = (n: number) => Array.from({ length: n }, (_, i) => toUnchainedEntry(makeEntry({ requestId: `fixed-${i}` }), protectedSubject));

describe('hash chain', () => {
  it('serialises a row canonically: a fixed column order, so the hash of a known row never changes', () => {
    const { rows } = chainEntries(genesisHead('replica-a'), unchained(1));
    const row = rows[0]!;
    expect(JSON.parse(canonicalEntryBytes(row))).toEqual([
      'access-log-entry-v1',
      'replica-a',
      1,
      GENESIS_HASH,
      'access',
      '2025-01-15T10:00:00.000Z',
      'fixed-0',
      '202100-5521',
      'forsakringskassan',
      'official-1',
      'CASE_HANDLING',
      'SFS 2001:454 2 kap. 1 §',
      'FK-REG-17',
      '3',
      'case-1',
      'v1.AAAA',
      'a'.repeat(64),
      'Person.income',
      'skatteverket',
      'released',
      null,
      'PersonIncome',
      row.documentHash,
    ]);
    // Property order of the object must not matter.
    const reordered = Object.fromEntries(Object.entries(row).reverse()) as typeof row;
    expect(entryHash(reordered)).toBe(row.hash);
  });

  it('links each entry to the previous hash with consecutive seqs', () => {
    const { rows, head } = chainEntries(genesisHead('replica-a'), unchained(3));
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    expect(rows[1]!.prevHash).toBe(rows[0]!.hash);
    expect(head).toEqual({ chainId: 'replica-a', seq: 3, hash: rows[2]!.hash });
    const more = chainEntries(head, unchained(1));
    expect(more.rows[0]).toMatchObject({ seq: 4, prevHash: rows[2]!.hash });
  });

  it('classifies breaks: gap, wrong predecessor, changed content', () => {
    const { rows } = chainEntries(genesisHead('c'), unchained(4));
    const [r1, r2, r3, r4] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const at = (row: typeof r1) => ({ chainId: 'c', seq: row.seq, hash: row.hash });
    expect(checkLink(at(r1), r2)).toBeNull();
    expect(checkLink(at(r1), r3)).toMatchObject({ seq: 2, kind: 'seq-gap' });
    expect(checkLink(at(r2), { ...r4, seq: 3 })).toMatchObject({ seq: 3, kind: 'prev-hash-mismatch' });
    expect(checkLink(at(r2), { ...r3, official: 'x' })).toMatchObject({ seq: 3, kind: 'hash-mismatch' });
    expect(checkLink(at(r3), r3)).toMatchObject({ seq: 3, kind: 'prev-hash-mismatch' });
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
