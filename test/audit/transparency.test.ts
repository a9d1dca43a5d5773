import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  compactRange,
  consistencyProofRanges,
  EMPTY_ROOT,
  foldRange,
  hashRanges,
  inclusionProofRanges,
  leafHash,
  MissingTreeNodeError,
  nodeKey,
  nodesFor,
  rootFromLeaves,
  verifyConsistency,
  verifyInclusion,
  type TreeNode,
} from '../../src/transparency/merkle.js';
import {
  addSignatures,
  formatSignerKey,
  formatVerifierKey,
  generateSeed,
  noteSigner,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  signNote,
} from '../../src/transparency/note.js';
import { formatCheckpoint, parseCheckpoint } from '../../src/transparency/checkpoint.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');

// RFC 6962 / 9162 test data as published by transparency-dev/merkle (testonly/constants.go).
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** Every complete subtree's hash, by level then index (NodeHashes() of the same file). */
const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** A stored tree as the stores keep it: every node appendLeaves emits, by nodeKey. */
function storedTree(leaves: readonly Buffer[]): { nodes: Map<string, Buffer>; frontier: TreeNode[] } {
  const nodes = new Map<string, Buffer>();
  const appended = appendLeaves([], 0, leaves);
  for (const node of appended.nodes) nodes.set(nodeKey(node), node.hash);
  return { nodes, frontier: appended.frontier };
}

const treeHead = (nodes: Map<string, Buffer>, size: number) => hashRanges([[0, size]], nodes)[0]!;
const inclusion = (nodes: Map<string, Buffer>, index: number, size: number) => hashRanges(inclusionProofRanges(index, size), nodes);
const consistency = (nodes: Map<string, Buffer>, m: number, n: number) => hashRanges(consistencyProofRanges(m, n), nodes);

describe('RFC 9162 Merkle tree', () => {
  const leaves = INPUTS.map((input) => leafHash(input));
  const { nodes } = storedTree(leaves);

  it('gives the published tree head for every size 0..8, from the leaves and from stored nodes', () => {
    for (let size = 0; size <= 8; size++) {
      expect(hex(rootFromLeaves(leaves.slice(0, size)))).toBe(ROOTS[size]);
      expect(hex(size === 0 ? EMPTY_ROOT : treeHead(nodes, size))).toBe(ROOTS[size]);
    }
  });

  it('stores exactly the published complete-subtree hashes', () => {
    for (const [level, hashes] of NODE_HASHES.entries()) {
      for (const [index, expected] of hashes.entries()) expect(hex(nodes.get(`${level}/${index}`)!)).toBe(expected);
    }
    expect(nodes.size).toBe(NODE_HASHES.flat().length);
  });

  it('generates the published inclusion and consistency proofs', () => {
    expect(inclusion(nodes, 0, 8).map(hex)).toEqual([NODE_HASHES[0]![1], NODE_HASHES[1]![1], NODE_HASHES[2]![1]]);
    expect(inclusion(nodes, 5, 8).map(hex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(consistency(nodes, 2, 8).map(hex)).toEqual(['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']);
    expect(consistency(nodes, 6, 8).map(hex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(consistency(nodes, 2, 5).map(hex)).toEqual(['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']);
    expect(verifyConsistency(6, 8, unhex(ROOTS[6]!), unhex(ROOTS[8]!), consistency(nodes, 6, 8))).toBe(true);
    expect(verifyConsistency(6, 8, unhex(ROOTS[5]!), unhex(ROOTS[8]!), consistency(nodes, 6, 8))).toBe(false);
  });

  it('reads O(log n) stored nodes for a proof', () => {
    const size = 1_000_003;
    const log = Math.ceil(Math.log2(size));
    for (const index of [0, 1, 500_000, size - 1]) expect(nodesFor(inclusionProofRanges(index, size)).length).toBeLessThanOrEqual(2 * log);
    for (const m of [1, 7, 999_999]) expect(nodesFor(consistencyProofRanges(m, size)).length).toBeLessThanOrEqual(2 * log);
    expect(compactRange(size).length).toBeLessThanOrEqual(log);
  });

  it('says which node is missing rather than returning a wrong proof', () => {
    const partial = new Map(nodes);
    partial.delete('1/3');
    expect(() => inclusion(partial, 5, 8)).toThrow(MissingTreeNodeError);
  });

  const leafArb = fc.uint8Array({ maxLength: 24 });
  const treeArb = fc.array(leafArb, { minLength: 1, maxLength: 80 }).map((inputs) => inputs.map((input) => leafHash(input)));
  const flip = (hash: Buffer, bit: number) => {
    const copy = Buffer.from(hash);
    copy[bit % 32]! ^= 1 << (bit % 8);
    return copy;
  };

  it('every inclusion proof verifies; a tampered leaf, index, root or proof does not', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), fc.nat(), (tree, pick, bit) => {
        const { nodes: stored } = storedTree(tree);
        const size = tree.length;
        const root = rootFromLeaves(tree);
        const index = pick % size;
        const proof = inclusion(stored, index, size);
        expect(verifyInclusion(tree[index]!, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(flip(tree[index]!, bit), index, size, proof, root)).toBe(false);
        expect(verifyInclusion(tree[index]!, index, size, proof, flip(root, bit))).toBe(false);
        if (size > 1) {
          const other = (index + 1 + (pick % (size - 1))) % size;
          if (!tree[other]!.equals(tree[index]!)) expect(verifyInclusion(tree[index]!, other, size, proof, root)).toBe(false);
          const at = bit % proof.length;
          expect(
            verifyInclusion(
              tree[index]!,
              index,
              size,
              proof.map((p, i) => (i === at ? flip(p, bit) : p)),
              root,
            ),
          ).toBe(false);
          expect(verifyInclusion(tree[index]!, index, size, proof.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(tree[index]!, index, size, [...proof, root], root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof between m ≤ n verifies; a tampered one, a wrong root or a forked tree does not', () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), fc.nat(), leafArb, (tree, pick, bit, other) => {
        const { nodes: stored } = storedTree(tree);
        const n = tree.length;
        const m = pick % (n + 1);
        const oldRoot = rootFromLeaves(tree.slice(0, m));
        const newRoot = rootFromLeaves(tree);
        const proof = consistency(stored, m, n);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
        if (m > 0) expect(verifyConsistency(m, n, flip(oldRoot, bit), newRoot, proof)).toBe(false);
        if (m > 0 && m < n) {
          expect(verifyConsistency(m, n, oldRoot, flip(newRoot, bit), proof)).toBe(false);
          const at = bit % proof.length;
          expect(
            verifyConsistency(
              m,
              n,
              oldRoot,
              newRoot,
              proof.map((p, i) => (i === at ? flip(p, bit) : p)),
            ),
          ).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
          // A history that changed one leaf before m: its head can never be proved to extend the old one.
          const forked = [...tree];
          const changed = pick % m;
          forked[changed] = leafHash(Buffer.concat([other, Buffer.from([1, 2, 3])]));
          if (!forked[changed]!.equals(tree[changed]!)) {
            const forkedProof = consistency(storedTree(forked).nodes, m, n);
            expect(verifyConsistency(m, n, oldRoot, rootFromLeaves(forked), forkedProof)).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('appending in batches gives the same nodes as appending one by one', () => {
    fc.assert(
      fc.property(treeArb, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }), (tree, cuts) => {
        const whole = storedTree(tree);
        let frontier: TreeNode[] = [];
        let size = 0;
        const nodes = new Map<string, Buffer>();
        let at = 0;
        for (const cut of [...cuts, tree.length]) {
          const batch = tree.slice(at, at + cut);
          at += batch.length;
          const appended = appendLeaves(frontier, size, batch);
          for (const node of appended.nodes) nodes.set(nodeKey(node), node.hash);
          frontier = appended.frontier;
          size = appended.size;
          expect(hex(foldRange(frontier.map((node) => node.hash)))).toBe(hex(rootFromLeaves(tree.slice(0, size))));
          if (at >= tree.length) break;
        }
        expect([...nodes.keys()].sort()).toEqual([...whole.nodes.keys()].sort());
      }),
      { numRuns: 100 },
    );
  });
});

describe('C2SP signed notes', () => {
  // The example key and note of golang.org/x/mod/sumdb/note's own tests.
  const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
  const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const NOTE = `${TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

  it('reproduces the reference note byte for byte and opens it', () => {
    const signer = parseSignerKey(SKEY);
    expect(formatVerifierKey(signer.verifier)).toBe(VKEY);
    expect(signNote(TEXT, [signer])).toBe(NOTE);
    const opened = openNote(NOTE, [parseVerifierKey(VKEY)]);
    expect(opened.text).toBe(TEXT);
    expect(opened.verifiedBy.map((v) => v.name)).toEqual(['PeterNeumann']);
  });

  it('refuses an edited text, a mangled key, and a note no known key signed', () => {
    const verifier = parseVerifierKey(VKEY);
    expect(() => openNote(NOTE.replace('cryptography', 'cryptographY'), [verifier])).toThrow(expect.objectContaining({ code: 'NOTE_SIGNATURE_INVALID' }));
    expect(() => parseVerifierKey(VKEY.replace('c74f20a3', 'c74f20a4'))).toThrow(expect.objectContaining({ code: 'NOTE_KEY_MALFORMED' }));
    expect(() => parseVerifierKey(VKEY.slice(0, -2))).toThrow(expect.objectContaining({ code: 'NOTE_KEY_MALFORMED' }));
    const stranger = noteSigner('someone.example/log', SIG_ED25519, generateSeed());
    expect(() => openNote(NOTE, [stranger.verifier])).toThrow(expect.objectContaining({ code: 'NOTE_UNVERIFIED' }));
    expect(() => parseNote(TEXT)).toThrow(expect.objectContaining({ code: 'NOTE_MALFORMED' }));
  });

  it('round-trips generated signer and verifier keys', () => {
    const seed = generateSeed();
    const skey = formatSignerKey('gateway.example/access-log/a', SIG_ED25519, seed);
    const signer = parseSignerKey(skey);
    const verifier = parseVerifierKey(formatVerifierKey(signer.verifier));
    expect(openNote(signNote('hello\n', [signer]), [verifier]).text).toBe('hello\n');
  });

  it('checkpoints: formats and parses origin, size and root; refuses a malformed one', () => {
    const head = { origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64') };
    expect(formatCheckpoint(head)).toBe('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    expect(parseCheckpoint(formatCheckpoint(head))).toEqual(head);
    for (const bad of ['o\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n', 'o\n12\nAAAA\n', 'o\n12\n', 'o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextra\n']) {
      expect(() => parseCheckpoint(bad)).toThrow(expect.objectContaining({ code: 'NOTE_MALFORMED' }));
    }
  });

  it('cosignature/v1: signs the timestamped message with key id type 0x04, and a changed time fails', () => {
    const log = noteSigner('log.example/a', SIG_ED25519, generateSeed());
    const witness = noteSigner('witness.example/w1', SIG_COSIGNATURE_V1, generateSeed(), () => new Date('2026-12-01T12:00:00Z'));
    const checkpoint = signNote(formatCheckpoint({ origin: 'log.example/a', size: 3, rootHash: Buffer.alloc(32, 7) }), [log]);
    const text = parseNote(checkpoint).text;
    const cosigned = addSignatures(checkpoint, [{ name: witness.name, keyId: witness.keyId, signature: witness.sign(text) }]);
    const opened = openNote(cosigned, [log.verifier, witness.verifier]);
    expect(opened.verifiedBy.map((v) => v.name)).toEqual(['log.example/a', 'witness.example/w1']);
    const signature = parseNote(cosigned).signatures[1]!.signature;
    expect(signature.readBigUInt64BE(0)).toBe(BigInt(Date.parse('2026-12-01T12:00:00Z') / 1000));
    expect(witness.keyId.equals(noteSigner('witness.example/w1', SIG_ED25519, Buffer.alloc(32)).keyId)).toBe(false);
    const tampered = Buffer.from(signature);
    tampered[7]! ^= 1;
    expect(witness.verifier.verify(text, tampered)).toBe(false);
    expect(witness.verifier.verify(text, signature)).toBe(true);
  });
});
