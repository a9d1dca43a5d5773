import type { JWK } from 'jose';
import { checkLink, genesisHead, type ChainBreak, type ChainHead, type WalkPosition } from './hashChain.js';
import type { StoredRecord } from './record.js';
import { CHECKPOINT_TYP, checkpointVerifier, differingClaim, PURGE_TYP, type CheckpointVerifier, type StoredCheckpoint, type StoredPurge } from './checkpoint.js';
import type { AccessLogStore } from './store/AccessLogStore.js';
import { MissingTreeNodeError, recordLeafHash, storedRoot } from './logTree.js';
import { parseCheckpoint } from '../transparency/checkpoint.js';
import { nodeHash, nodeKey } from '../transparency/merkle.js';
import { NoteError, openNote, parseNote, type NoteVerifier } from '../transparency/note.js';

/**
 * Verification re-derives everything from the records and the signatures and trusts nothing else
 * in the database: hashes are recomputed, links and seq continuity checked, the query columns
 * compared with the hashed bodies, every checkpoint and purge record's signature verified and
 * compared with the chain at its seq.
 */

export interface ChainVerification {
  readonly chainId: string;
  readonly ok: boolean;
  /** First seq present (after a purge: the anchor's seq + 1). */
  readonly firstSeq: number;
  /** Last seq walked. */
  readonly headSeq: number;
  readonly entries: number;
  readonly checkpoints: number;
  /** Entries after the last valid checkpoint: protected by the hash chain only, not yet by a signature. */
  readonly unanchoredEntries: number;
  readonly firstBreak: ChainBreak | null;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly chains: readonly ChainVerification[];
  /** The first break of the first broken chain (chains in id order). */
  readonly firstBreak: ChainBreak | null;
}

const PAGE = 1000;

function earliest(a: ChainBreak | null, b: ChainBreak | null): ChainBreak | null {
  if (!a) return b;
  if (!b) return a;
  return b.seq < a.seq ? b : a;
}

/** Signature and column checks of the purge records; returns the anchor the chain continues from. */
export async function checkPurges(chainId: string, purges: readonly StoredPurge[], verify: CheckpointVerifier): Promise<{ anchor: WalkPosition; firstBreak: ChainBreak | null }> {
  let anchor: WalkPosition = genesisHead(chainId);
  let firstBreak: ChainBreak | null = null;
  for (const purge of purges) {
    const signed = await verify(purge.jws, PURGE_TYP);
    if (signed?.['type'] !== 'purge') {
      firstBreak = earliest(firstBreak, { chainId, seq: purge.uptoSeq, kind: 'checkpoint-forged', detail: `purge record up to seq ${purge.uptoSeq} has no valid gateway signature` });
      continue;
    }
    const differs = differingClaim(signed, { ...purge }, ['chainId', 'uptoSeq', 'headHash', 'purgedCount', 'time']);
    if (differs) {
      firstBreak = earliest(firstBreak, { chainId, seq: purge.uptoSeq, kind: 'checkpoint-mismatch', detail: `purge record column ${differs} differs from what was signed` });
      continue;
    }
    // A purge record does not say how many records it removed: the next record's index is taken as it is (the hash covers it).
    if (purge.uptoSeq > anchor.seq) anchor = { chainId, seq: purge.uptoSeq, hash: purge.headHash, records: null };
  }
  return { anchor, firstBreak };
}

/** Signature, column and count checks of the checkpoints; returns the valid ones by seq. */
export async function checkCheckpoints(
  chainId: string,
  checkpoints: readonly StoredCheckpoint[],
  anchorSeq: number,
  verify: CheckpointVerifier,
): Promise<{ valid: Map<number, StoredCheckpoint>; firstBreak: ChainBreak | null }> {
  const valid = new Map<number, StoredCheckpoint>();
  let firstBreak: ChainBreak | null = null;
  let previousSeq: number | null = anchorSeq === 0 ? 0 : null;
  for (const checkpoint of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    const signed = await verify(checkpoint.jws, CHECKPOINT_TYP);
    if (signed?.['type'] !== 'checkpoint') {
      firstBreak = earliest(firstBreak, { chainId, seq: checkpoint.seq, kind: 'checkpoint-forged', detail: `checkpoint at seq ${checkpoint.seq} has no valid gateway signature` });
      continue;
    }
    const differs = differingClaim(signed, { ...checkpoint }, ['chainId', 'seq', 'headHash', 'count', 'time']);
    if (differs) {
      firstBreak = earliest(firstBreak, { chainId, seq: checkpoint.seq, kind: 'checkpoint-mismatch', detail: `checkpoint column ${differs} differs from what was signed` });
      continue;
    }
    // Before the anchor, earlier checkpoints were purged; from the anchor on, each count must reach back to its predecessor.
    if (previousSeq !== null && checkpoint.seq > anchorSeq && checkpoint.count !== checkpoint.seq - previousSeq) {
      firstBreak = earliest(firstBreak, {
        chainId,
        seq: checkpoint.seq,
        kind: 'checkpoint-mismatch',
        detail: `checkpoint at seq ${checkpoint.seq} counts ${checkpoint.count} entries since the previous one, but the previous stored checkpoint is at seq ${previousSeq}: a checkpoint was deleted`,
      });
    }
    if (checkpoint.seq >= anchorSeq) previousSeq = checkpoint.seq;
    valid.set(checkpoint.seq, checkpoint);
  }
  return { valid, firstBreak };
}

/**
 * Walks one chain's records in order from its anchor. Pure apart from the records it is fed:
 * call `push` page by page, then `finish`.
 */
export class ChainWalk {
  private previous: WalkPosition;
  private walked = 0;
  private firstRecord = true;
  /** Checkpoint seqs in order, and the first not yet passed. */
  private readonly checkpointSeqs: number[];
  private nextCheckpoint = 0;
  firstBreak: ChainBreak | null = null;

  constructor(
    private readonly anchor: WalkPosition,
    private readonly hasPurgeRecord: boolean,
    private readonly checkpoints: ReadonlyMap<number, StoredCheckpoint>,
  ) {
    this.previous = anchor;
    this.checkpointSeqs = [...checkpoints.keys()].sort((a, b) => a - b);
  }

  get head(): WalkPosition {
    return this.previous;
  }

  /** Entries walked. */
  get entries(): number {
    return this.walked;
  }

  /** Returns false once broken: later records cannot be judged against a broken predecessor. */
  push(record: StoredRecord): boolean {
    if (this.firstBreak) return false;
    if (this.firstRecord && record.firstSeq > this.anchor.seq + 1 && !this.hasPurgeRecord) {
      this.firstBreak = {
        chainId: this.anchor.chainId,
        seq: this.anchor.seq + 1,
        kind: 'missing-anchor',
        detail: `the chain starts at seq ${record.firstSeq} without a signed purge record: entries ${this.anchor.seq + 1}..${record.firstSeq - 1} were deleted`,
      };
      return false;
    }
    this.firstRecord = false;
    const broken = checkLink(this.previous, record);
    if (broken) {
      this.firstBreak = broken;
      return false;
    }
    // A checkpoint pins the end of a record; one that falls inside a record pins nothing that exists.
    const seqs = this.checkpointSeqs;
    while (this.nextCheckpoint < seqs.length && seqs[this.nextCheckpoint]! < record.firstSeq) this.nextCheckpoint += 1;
    for (; this.nextCheckpoint < seqs.length && seqs[this.nextCheckpoint]! <= record.lastSeq; this.nextCheckpoint += 1) {
      const seq = seqs[this.nextCheckpoint]!;
      if (seq !== record.lastSeq || this.checkpoints.get(seq)!.headHash !== record.hash) {
        this.firstBreak = {
          chainId: record.chainId,
          seq,
          kind: 'checkpoint-mismatch',
          detail: `the signed checkpoint at seq ${seq} pins a different head: entries up to seq ${seq} were rewritten`,
        };
        return false;
      }
    }
    this.previous = { chainId: record.chainId, seq: record.lastSeq, hash: record.hash, records: record.index + 1 };
    this.walked += record.lastSeq - record.firstSeq + 1;
    return true;
  }

  /** Checks what should exist beyond the last row: later checkpoints and the recorded head. */
  finish(recordedHead: ChainHead): ChainBreak | null {
    if (this.firstBreak) return this.firstBreak;
    const last = this.previous;
    const beyond = [...this.checkpoints.keys()].filter((seq) => seq > last.seq).sort((a, b) => a - b)[0];
    if (beyond !== undefined) {
      return (this.firstBreak = { chainId: last.chainId, seq: last.seq + 1, kind: 'truncated', detail: `a signed checkpoint pins seq ${beyond} but the chain ends at seq ${last.seq}` });
    }
    if (recordedHead.seq > last.seq) {
      return (this.firstBreak = { chainId: last.chainId, seq: last.seq + 1, kind: 'truncated', detail: `the recorded head is seq ${recordedHead.seq} but the chain ends at seq ${last.seq}` });
    }
    if (recordedHead.seq === last.seq && recordedHead.seq > 0 && recordedHead.hash !== last.hash) {
      return (this.firstBreak = { chainId: last.chainId, seq: last.seq, kind: 'hash-mismatch', detail: 'the last entry does not match the recorded head hash' });
    }
    if (recordedHead.seq < last.seq) {
      return (this.firstBreak = {
        chainId: last.chainId,
        seq: recordedHead.seq + 1,
        kind: 'prev-hash-mismatch',
        detail:
          recordedHead.seq === 0 ? 'the chain has entries but no recorded head: its head record was deleted' : `entries after the recorded head seq ${recordedHead.seq} were not appended by a gateway`,
      });
    }
    return null;
  }
}

export async function verifyChain(store: AccessLogStore, chainId: string, verify: CheckpointVerifier): Promise<ChainVerification> {
  const purges = await checkPurges(chainId, await store.listPurges(chainId), verify);
  const storedCheckpoints = await store.listCheckpoints(chainId);
  const checkpoints = await checkCheckpoints(chainId, storedCheckpoints, purges.anchor.seq, verify);
  const walk = new ChainWalk(purges.anchor, purges.anchor.seq > 0, checkpoints.valid);
  let fromSeq = purges.anchor.seq + 1;
  let indexBreak: ChainBreak | null = null;
  for (;;) {
    const page = await store.readRecords(chainId, fromSeq, PAGE);
    let more = true;
    let walked = 0;
    for (const record of page) {
      if (!(more = walk.push(record))) break;
      walked += 1;
    }
    // Every record that holds, found again through its subjects' index rows: a deleted row would hide it from the person's report.
    const unindexed: StoredRecord | null = indexBreak === null ? await store.firstUnindexedRecord(page.slice(0, walked)) : null;
    if (unindexed) {
      indexBreak = { chainId, seq: unindexed.firstSeq, kind: 'index-mismatch', detail: `a subject of the record at seq ${unindexed.firstSeq} is missing from the subject index` };
    }
    const last = page[page.length - 1];
    if (!more || !last || page.length < PAGE) break;
    fromSeq = last.lastSeq + 1;
  }
  const walkBreak = walk.finish(await store.lastHead(chainId));
  const anchorCheckpoint = checkpoints.valid.get(purges.anchor.seq);
  const anchorBreak: ChainBreak | null =
    anchorCheckpoint && anchorCheckpoint.headHash !== purges.anchor.hash
      ? { chainId, seq: purges.anchor.seq, kind: 'checkpoint-mismatch', detail: 'the checkpoint at the purge anchor pins a different head than the purge record' }
      : null;
  const firstBreak = earliest(earliest(earliest(earliest(purges.firstBreak, checkpoints.firstBreak), anchorBreak), walkBreak), indexBreak);
  const lastValidCheckpoint = Math.max(purges.anchor.seq, ...[...checkpoints.valid.keys()].filter((seq) => seq <= walk.head.seq));
  return {
    chainId,
    ok: firstBreak === null,
    firstSeq: purges.anchor.seq + 1,
    headSeq: walk.head.seq,
    entries: walk.entries,
    checkpoints: storedCheckpoints.length,
    unanchoredEntries: walk.head.seq - lastValidCheckpoint,
    firstBreak,
  };
}

/** Verifies every chain in the store against the gateway's public signing key(s). */
export async function verifyAccessLog(store: AccessLogStore, publicJwks: readonly JWK[]): Promise<VerificationReport> {
  const verify = checkpointVerifier(publicJwks);
  const chains: ChainVerification[] = [];
  for (const chainId of await store.listChains()) chains.push(await verifyChain(store, chainId, verify));
  const firstBroken = chains.find((chain) => !chain.ok);
  return { ok: firstBroken === undefined, chains, firstBreak: firstBroken?.firstBreak ?? null };
}

/**
 * Every stored internal node of the tree of `size` against its two children: a head's root folds
 * only the highest nodes, so a rewritten lower one would otherwise go unseen until a proof used it.
 */
async function firstBrokenNode(store: AccessLogStore, chainId: string, size: number): Promise<string | null> {
  for (let level = 1; 2 ** level <= size; level++) {
    const count = Math.floor(size / 2 ** level);
    for (let from = 0; from < count; from += PAGE) {
      const parents = Array.from({ length: Math.min(PAGE, count - from) }, (_, i) => ({ level, index: from + i }));
      const children = parents.flatMap((p) => [
        { level: level - 1, index: 2 * p.index },
        { level: level - 1, index: 2 * p.index + 1 },
      ]);
      const nodes = await store.readTreeNodes(chainId, [...parents, ...children]);
      for (const parent of parents) {
        const [left, right, hash] = [nodes.get(nodeKey(children[2 * (parent.index - from)]!)), nodes.get(nodeKey(children[2 * (parent.index - from) + 1]!)), nodes.get(nodeKey(parent))];
        if (!left || !right || !hash) return `the tree of size ${size} lacks node level ${level} index ${parent.index} or a child of it`;
        if (!hash.equals(nodeHash(left, right))) return `tree node level ${level} index ${parent.index} is not the hash of its children: it was changed`;
      }
    }
  }
  return null;
}

/**
 * A full verification run's start and end (the audit console's kept verification,
 * src/audit-api/keptLogVerification.ts), and a request joining a running one. `finished` names
 * the chains that did not verify; `failed` is a run that could not complete (the store failed).
 * Chain ids and error classes only: nothing personal.
 */
export type LogVerificationEvent =
  | { readonly kind: 'started'; readonly chains: number }
  | { readonly kind: 'joined' }
  | { readonly kind: 'finished'; readonly chains: number; readonly ok: boolean; readonly broken: readonly string[] }
  | { readonly kind: 'failed'; readonly error: string };

export interface TreeVerification {
  readonly chainId: string;
  readonly ok: boolean;
  /** Records whose leaf hash was compared with the stored tree. */
  readonly leaves: number;
  readonly treeHeads: number;
  /**
   * The newest checkpoint (tree size) whose every leaf was compared with its record and whose
   * signed root was recomputed from the stored tree: what "verified up to checkpoint N" may say.
   * Null when the tree does not verify or has no checkpoint yet. A checkpoint signed while the
   * leaves were being read may be newer than the last leaf read; it is not counted.
   */
  readonly verifiedSize: number | null;
  /** The first thing wrong, or null. */
  readonly problem: string | null;
}

/**
 * The chain's Merkle tree against its records and its signed heads: every present record's leaf
 * hash is the stored leaf at its index, and every tree head is signed by the log (when its key is
 * given), names this chain, and is the root of the stored tree at its size. A rewritten node
 * shows up as a head whose root no longer folds out of the stored nodes. Cost: one read per
 * record (paged) and O(log n) per tree head.
 */
export async function verifyTree(store: AccessLogStore, chainId: string, log: NoteVerifier | null): Promise<TreeVerification> {
  let leaves = 0;
  // The tree size the leaf walk covers: the last record read is leaf `index`, so the tree up to it has index + 1 leaves (purged records included: their leaves stay in the tree).
  let walkedSize = 0;
  const result = (problem: string | null, treeHeads = 0, verifiedSize: number | null = null): TreeVerification => ({
    chainId,
    ok: problem === null,
    leaves,
    treeHeads,
    verifiedSize: problem === null ? verifiedSize : null,
    problem,
  });
  for (let fromSeq = 1; ; ) {
    const page = await store.readRecords(chainId, fromSeq, PAGE);
    const stored = await store.readTreeNodes(
      chainId,
      page.map((record) => ({ level: 0, index: record.index })),
    );
    for (const record of page) {
      const leaf = stored.get(nodeKey({ level: 0, index: record.index }));
      if (!leaf) return result(`the record ending at seq ${record.lastSeq} has no leaf in the tree`);
      if (!leaf.equals(recordLeafHash(record))) return result(`the tree's leaf ${record.index} is not the hash of the record ending at seq ${record.lastSeq}`);
      leaves += 1;
      walkedSize = record.index + 1;
    }
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    fromSeq = last.lastSeq + 1;
  }
  const broken = await firstBrokenNode(store, chainId, (await store.lastHead(chainId)).records);
  if (broken) return result(broken);
  const heads = await store.listTreeHeads(chainId, Number.MAX_SAFE_INTEGER);
  for (const head of heads) {
    let text: string;
    try {
      text = log ? openNote(head.note, [log]).text : parseNote(head.note).text;
    } catch (error) {
      if (error instanceof NoteError) return result(`the tree head at size ${head.size} is not signed by the log key`, heads.length);
      throw error;
    }
    const checkpoint = parseCheckpoint(text);
    if (!checkpoint.origin.endsWith(`/${chainId}`) || checkpoint.size !== head.size || checkpoint.rootHash.toString('base64') !== head.rootHash) {
      return result(`the tree head at size ${head.size} does not match its signed checkpoint`, heads.length);
    }
    let root: Buffer;
    try {
      root = await storedRoot(store, chainId, head.size);
    } catch (error) {
      if (error instanceof MissingTreeNodeError) return result(`the stored tree lacks a node of size ${head.size}`, heads.length);
      throw error;
    }
    if (!root.equals(checkpoint.rootHash)) return result(`the stored tree at size ${head.size} is not the one the log signed: its nodes were changed`, heads.length);
  }
  const covered = heads.filter((head) => head.size <= walkedSize).reduce<number | null>((newest, head) => (newest === null || head.size > newest ? head.size : newest), null);
  return result(null, heads.length, covered);
}
