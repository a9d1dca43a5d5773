import type { JWK } from 'jose';
import { checkpointVerifier, signCheckpoint, signPurge, type CheckpointSigner } from './checkpoint.js';
import { chainRecords, genesisHead, type ChainBreak, type ChainHead } from './hashChain.js';
import { legacyEntryHash, type LegacyEntry } from './legacyFormat.js';
import { growTree, signTreeHead, treeOrigin, type TreeFrontier } from './logTree.js';
import { draftRecords } from './record.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';
import { checkCheckpoints, checkPurges } from './verify.js';
import type { NoteSigner } from '../transparency/note.js';

/**
 * `npm run audit -- migrate`: moves every chain of the row-per-entry format into records.
 *
 * Each chain is first verified in its old format, against the gateway's public key: row hashes,
 * links, every checkpoint and purge record. A chain that does not verify is refused and left
 * where it is, since moving it would launder whatever was done to it. A verified chain is then
 * written again as records, entry for entry with the same seqs, so audit ids and receipts stay
 * valid: records end at every old checkpoint, where a new checkpoint is signed with the same key
 * (purges still go by those segments), and one more at the head. A chain purged before keeps its
 * anchor: the purge record and the checkpoint at it are signed again over the same head hash.
 * The old tables are left untouched for the operator to keep or drop once the new log verifies.
 * The signatures of the old checkpoints cover the old hashes only; what links the two formats is
 * this verification, run at migration time, and the old tables kept beside the new.
 */

export interface MigrationOptions {
  readonly signer: CheckpointSigner;
  readonly publicJwks: readonly JWK[];
  /** The log's note key: a signed tree head over each migrated chain. */
  readonly treeSigner?: NoteSigner;
  readonly now?: () => Date;
}

export type ChainMigration =
  | { readonly chainId: string; readonly status: 'migrated'; readonly entries: number; readonly records: number; readonly checkpoints: number }
  | { readonly chainId: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly chainId: string; readonly status: 'refused'; readonly firstBreak: ChainBreak };

const PAGE = 2000;

/** Walks a chain in the old format; the first break, or null. */
async function verifyLegacyChain(store: AccessLogStore, chainId: string, publicJwks: readonly JWK[]) {
  const legacy = store.legacyReader();
  const verify = checkpointVerifier(publicJwks);
  const purges = await legacy.purges(chainId);
  const anchored = await checkPurges(chainId, purges, verify);
  const checkpoints = await checkCheckpoints(chainId, await legacy.checkpoints(chainId), anchored.anchor.seq, verify);
  const result = (firstBreak: ChainBreak | null) => ({ firstBreak: anchored.firstBreak ?? checkpoints.firstBreak ?? firstBreak, anchor: anchored.anchor, checkpoints: checkpoints.valid, purges });
  let previous = { seq: anchored.anchor.seq, hash: anchored.anchor.hash };
  const brokenAt = (seq: number, kind: ChainBreak['kind'], detail: string) => result({ chainId, seq, kind, detail });
  for (let fromSeq = previous.seq + 1; ; ) {
    const page = await legacy.rows(chainId, fromSeq, PAGE);
    for (const row of page) {
      if (row.seq !== previous.seq + 1) {
        const kind = previous.seq === anchored.anchor.seq && purges.length === 0 ? 'missing-anchor' : 'seq-gap';
        return brokenAt(previous.seq + 1, kind, `entry ${previous.seq + 1} is missing`);
      }
      if (row.prevHash !== previous.hash) return brokenAt(row.seq, 'prev-hash-mismatch', 'the entry does not follow the one before it');
      if (legacyEntryHash(row) !== row.hash) return brokenAt(row.seq, 'hash-mismatch', 'content does not match the stored hash');
      const checkpoint = checkpoints.valid.get(row.seq);
      if (checkpoint && checkpoint.headHash !== row.hash) return brokenAt(row.seq, 'checkpoint-mismatch', 'the signed checkpoint pins a different head');
      previous = { seq: row.seq, hash: row.hash };
    }
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    fromSeq = last.seq + 1;
  }
  const head = await legacy.head(chainId);
  const pinnedBeyond = [...checkpoints.valid.keys()].some((seq) => seq > previous.seq);
  if (pinnedBeyond || (head !== null && head.seq > previous.seq)) return brokenAt(previous.seq + 1, 'truncated', 'entries a checkpoint or the head pins are gone');
  if (head === null || head.seq !== previous.seq || head.hash !== previous.hash) return brokenAt(previous.seq, 'hash-mismatch', 'the last entry does not match the recorded head');
  return result(null);
}

function unchained(row: LegacyEntry) {
  const { chainId: _chain, seq: _seq, prevHash: _prev, hash: _hash, ...rest } = row;
  return rest;
}

/** Migrates every chain of the old format that the new one does not hold yet. */
export async function migrateToRecords(store: AccessLogStore, options: MigrationOptions): Promise<ChainMigration[]> {
  const now = options.now ?? (() => new Date());
  const legacy = store.legacyReader();
  const results: ChainMigration[] = [];
  for (const chainId of await legacy.chains()) {
    const present = await store.lastHead(chainId);
    if (present.seq > 0 || (await store.listPurges(chainId)).length > 0) {
      results.push({ chainId, status: 'skipped', reason: 'the chain is already in the record format' });
      continue;
    }
    const verified = await verifyLegacyChain(store, chainId, options.publicJwks);
    if (verified.firstBreak) {
      results.push({ chainId, status: 'refused', firstBreak: verified.firstBreak });
      continue;
    }
    let head: ChainHead = { ...genesisHead(chainId), seq: verified.anchor.seq, hash: verified.anchor.hash };
    let checkpointSeq = verified.anchor.seq;
    let signed = 0;
    if (verified.anchor.seq > 0) {
      const purge = verified.purges.find((p) => p.uptoSeq === verified.anchor.seq)!;
      const time = now().toISOString();
      const anchorCheckpoint = verified.checkpoints.get(verified.anchor.seq);
      await store.startChainAt(
        await signPurge({ chainId, uptoSeq: purge.uptoSeq, headHash: purge.headHash, purgedCount: purge.purgedCount, time }, options.signer),
        await signCheckpoint(head, anchorCheckpoint?.count ?? purge.purgedCount, time, options.signer),
      );
    }
    let frontier: TreeFrontier = { size: 0, nodes: [] };
    let pending: LegacyEntry[] = [];
    const flush = async (checkpointHere: boolean, last: boolean) => {
      if (pending.length === 0) return;
      const chained = chainRecords(head, draftRecords(pending.map(unchained)));
      const grown = growTree(frontier, chained.records);
      const checkpoint = checkpointHere ? await signCheckpoint(chained.head, chained.head.seq - checkpointSeq, now().toISOString(), options.signer) : undefined;
      const treeHead: StoredTreeHead | undefined =
        last && options.treeSigner ? signTreeHead(chainId, treeOrigin(options.treeSigner.name, chainId), grown.frontier, now().toISOString(), options.treeSigner) : undefined;
      await store.append(chained.records, checkpoint, { nodes: grown.nodes, ...(treeHead ? { head: treeHead } : {}) });
      head = chained.head;
      frontier = grown.frontier;
      if (checkpoint) {
        checkpointSeq = checkpoint.seq;
        signed += 1;
      }
      pending = [];
    };
    const headSeq = (await legacy.head(chainId))!.seq;
    for (let fromSeq = verified.anchor.seq + 1; fromSeq <= headSeq; ) {
      const page = await legacy.rows(chainId, fromSeq, PAGE);
      for (const row of page) {
        pending.push(row);
        // Records end at every old checkpoint, so purge segments stay as they were.
        if (verified.checkpoints.has(row.seq) || row.seq === headSeq) await flush(true, row.seq === headSeq);
        else if (pending.length >= PAGE) await flush(false, false);
      }
      const last = page[page.length - 1];
      if (!last) break;
      fromSeq = last.seq + 1;
    }
    results.push({ chainId, status: 'migrated', entries: head.seq - verified.anchor.seq, records: frontier.size, checkpoints: signed });
  }
  return results;
}
