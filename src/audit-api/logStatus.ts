import type { AccessLogStore } from '../audit/index.js';
import type { StoredTreeHead } from '../audit/store/AccessLogStore.js';
import type { KeptTree } from './keptLogVerification.js';
import { NoteError, parseNote, type NoteVerifier } from '../transparency/note.js';

/**
 * The log's verification state as the console's badge shows it: per chain, whether its Merkle
 * tree verifies against its rows and its signed checkpoints, the newest checkpoint, the newest
 * one with the witness quorum, and who cosigned it. The tree check is the kept one
 * (keptLogVerification.ts: full, at most one at a time, redone when older than
 * AUDIT_VERIFY_MAX_AGE_MS); the checkpoints and cosignatures are read fresh on every request
 * (the newest 64 tree heads: cheap). Nothing personal is returned.
 */

export interface TreeStatus {
  readonly chainId: string;
  /** The tree's leaves match the rows, and every checkpoint is signed by the log and is the root of the stored tree at its size. */
  readonly ok: boolean;
  readonly problem: string | null;
  /** When the kept tree verification of this chain finished (ISO 8601). */
  readonly verifiedAt: string;
  /** The checkpoint (tree size) up to which that verification checked every leaf and the signed root; null when it failed or there was no checkpoint yet. */
  readonly verifiedSize: number | null;
  /** The newest signed checkpoint: its size and time (null before the first). */
  readonly checkpointSize: number | null;
  readonly checkpointTime: string | null;
  /** The newest checkpoint with the quorum (what citizen reports prove against); null if none of the newest has it. */
  readonly cosignedSize: number | null;
  readonly cosignedTime: string | null;
  /**
   * The checkpoint whose cosigners `witnesses` lists: the one with the quorum, or else the most
   * cosigned of the newest (the newest of those): how far the witnesses got.
   */
  readonly witnessedSize: number | null;
  /** Witnesses (by name) whose cosignature verifies on checkpoint `witnessedSize`. */
  readonly witnesses: readonly string[];
  /** See QUORUM_GRACE_MS. */
  readonly quorumMet: boolean;
}

export interface TransparencyStatus {
  readonly ok: boolean;
  readonly quorum: number;
  /** The configured witnesses' names. */
  readonly witnesses: readonly string[];
  readonly trees: readonly TreeStatus[];
}

export interface LogStatusKeys {
  /** Every key of every witness (a rotated witness has several, under one name). */
  readonly witnesses: readonly NoteVerifier[];
  readonly quorum: number;
}

/**
 * How long the newest checkpoint may wait for its cosignatures while an older one has them.
 * Witnesses answer within AUDIT_WITNESS_TIMEOUT_MS (5 s by default), so under load the newest
 * checkpoint lacking the quorum is normal; the quorum counts as missing once the newest checkpoint
 * that has it is older than this and is not the newest.
 */
export const QUORUM_GRACE_MS = 60_000;

/** As many heads as a citizen report searches for one with the quorum (reportProofs.ts). */
const HEADS_SEARCHED = 64;

/** Witness names whose cosignature on the head verifies: one vote per witness, whichever of its keys. */
export function cosigners(head: StoredTreeHead, witnesses: readonly NoteVerifier[]): string[] {
  let parsed: ReturnType<typeof parseNote>;
  try {
    parsed = parseNote(head.note);
  } catch (error) {
    if (error instanceof NoteError) return [];
    throw error;
  }
  const names = witnesses.filter((key) => parsed.signatures.some((s) => s.name === key.name && s.keyId.equals(key.keyId) && key.verify(parsed.text, s.signature))).map((key) => key.name);
  return [...new Set(names)];
}

export async function treeStatus(store: AccessLogStore, tree: KeptTree, keys: LogStatusKeys, now: Date): Promise<TreeStatus> {
  const chainId = tree.chainId;
  const heads = await store.listTreeHeads(chainId, HEADS_SEARCHED);
  const newest = heads[0];
  const counted = heads.map((head) => ({ head, names: cosigners(head, keys.witnesses) }));
  const cosigned = counted.find((c) => c.names.length >= keys.quorum);
  const witnessed = cosigned ?? counted.reduce<(typeof counted)[number] | undefined>((best, c) => (best === undefined || c.names.length > best.names.length ? c : best), undefined);
  const quorumMet = newest === undefined || (cosigned !== undefined && (cosigned.head === newest || now.getTime() - Date.parse(cosigned.head.time) <= QUORUM_GRACE_MS));
  return {
    chainId,
    ok: tree.ok,
    problem: tree.problem,
    verifiedAt: tree.verifiedAt,
    verifiedSize: tree.verifiedSize,
    checkpointSize: newest?.size ?? null,
    checkpointTime: newest?.time ?? null,
    cosignedSize: cosigned?.head.size ?? null,
    cosignedTime: cosigned?.head.time ?? null,
    witnessedSize: witnessed?.head.size ?? null,
    witnesses: witnessed?.names ?? [],
    quorumMet,
  };
}

/** `kept`: the kept tree verification of each chain; the heads and cosignatures are read now. */
export async function transparencyStatus(store: AccessLogStore, kept: ReadonlyMap<string, KeptTree>, keys: LogStatusKeys, now: Date): Promise<TransparencyStatus> {
  const trees: TreeStatus[] = [];
  for (const tree of kept.values()) trees.push(await treeStatus(store, tree, keys, now));
  return { ok: trees.every((t) => t.ok && t.quorumMet), quorum: keys.quorum, witnesses: [...new Set(keys.witnesses.map((w) => w.name))], trees };
}
