import type { StoredEntry } from './entry.js';
import { formatCheckpoint } from '../transparency/checkpoint.js';
import {
  appendLeaves,
  compactRange,
  consistencyProofRanges,
  foldRange,
  hashRanges,
  inclusionProofRanges,
  leafHash,
  MissingTreeNodeError,
  nodeKey,
  nodesFor,
  type TreeNode,
} from '../transparency/merkle.js';
import { signNote, type NoteSigner } from '../transparency/note.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';

/**
 * The access log as a transparency log: one RFC 9162 Merkle tree per chain, leaf i the entry at
 * seq i + 1. What a leaf is, is said here and nowhere else (`leafBytes`): today one stored
 * entry's canonical bytes, the same bytes its chain hash covers; a later storage format (one
 * record per request) changes this one function and the tree, proofs and verifier stay.
 */

/** Tags the leaf format; a new format is a new tag, never a silent change. */
export const LEAF_FORMAT = 'access-log-leaf-v1';

/**
 * The bytes a leaf hashes: what a citizen may see of one entry (when, which agency, which field,
 * why, under which law, the outcome), its place (chain, seq), and the entry's chain hash, which
 * commits to everything else in the row. The official, the case and the request stay out of the
 * citizen's report, yet cannot be changed without changing the leaf; they cannot be guessed from
 * the hash either, since it covers the subject's ciphertext with its random IV.
 */
export function leafBytes(row: StoredEntry): string {
  const { chainId, seq, kind, time, clientAgencyId, purpose, legalBasis, field, owningAgency, outcome, outcomeCode } = row;
  return leafText({ chainId, seq, kind, time, clientAgencyId, purpose, legalBasis, field, owningAgency, outcome, outcomeCode, entryHash: row.hash });
}

/** What leafBytes shows, read back by an offline verifier. */
export interface LeafView {
  readonly chainId: string;
  readonly seq: number;
  readonly kind: string;
  readonly time: string;
  readonly clientAgencyId: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly field: string;
  readonly owningAgency: string;
  readonly outcome: string;
  readonly outcomeCode: string | null;
  readonly entryHash: string;
}

/** Null unless `bytes` is exactly what leafBytes writes. */
export function readLeaf(bytes: string): LeafView | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 13 || parsed[0] !== LEAF_FORMAT) return null;
  const [, chainId, seq, kind, time, clientAgencyId, purpose, legalBasis, field, owningAgency, outcome, outcomeCode, entryHash] = parsed as unknown[];
  const strings = [chainId, kind, time, clientAgencyId, purpose, legalBasis, field, owningAgency, outcome, entryHash];
  if (!strings.every((value) => typeof value === 'string') || !Number.isSafeInteger(seq) || (outcomeCode !== null && typeof outcomeCode !== 'string')) return null;
  const view = { chainId, seq, kind, time, clientAgencyId, purpose, legalBasis, field, owningAgency, outcome, outcomeCode, entryHash } as LeafView;
  // Canonical spelling only: one leaf, one byte string.
  return leafText(view) === bytes ? view : null;
}

/** The one spelling of a leaf, written by leafBytes and checked by readLeaf. */
function leafText(view: LeafView): string {
  return JSON.stringify([
    LEAF_FORMAT,
    view.chainId,
    view.seq,
    view.kind,
    view.time,
    view.clientAgencyId,
    view.purpose,
    view.legalBasis,
    view.field,
    view.owningAgency,
    view.outcome,
    view.outcomeCode,
    view.entryHash,
  ]);
}

export function entryLeafHash(row: StoredEntry): Buffer {
  return leafHash(leafBytes(row));
}

/** The tree's origin line: the log operator's name, then the chain, so each replica's tree has its own identity. */
export function treeOrigin(logName: string, chainId: string): string {
  return `${logName}/${chainId}`;
}

/** The right edge of a chain's tree as the writer keeps it in memory. */
export interface TreeFrontier {
  readonly size: number;
  readonly nodes: readonly TreeNode[];
}

export function frontierRoot(frontier: TreeFrontier): Buffer {
  return foldRange(frontier.nodes.map((node) => node.hash));
}

/** Grows the tree by one leaf per row; rows are the next ones of the chain, in seq order. */
export function growTree(frontier: TreeFrontier, rows: readonly StoredEntry[]): { frontier: TreeFrontier; nodes: TreeNode[] } {
  const grown = appendLeaves(frontier.nodes, frontier.size, rows.map(entryLeafHash));
  return { frontier: { size: grown.size, nodes: grown.frontier }, nodes: grown.nodes };
}

/** Signs the tree head as a C2SP checkpoint with the log's Ed25519 key. */
export function signTreeHead(chainId: string, origin: string, frontier: TreeFrontier, time: string, signer: NoteSigner): StoredTreeHead {
  const rootHash = frontierRoot(frontier);
  const note = signNote(formatCheckpoint({ origin, size: frontier.size, rootHash }), [signer]);
  return { chainId, size: frontier.size, rootHash: rootHash.toString('base64'), time, note };
}

/** The stored tree does not (yet) cover what is asked: a chain older than the tree, or a bug. */
export class TreeStateError extends Error {
  readonly code = 'TREE_INCOMPLETE';
  constructor(message: string) {
    super(message);
    this.name = 'TreeStateError';
  }
}

/** Reads the chain's frontier at `size`: O(log n) stored nodes. Null when any is missing. */
export async function loadFrontier(store: AccessLogStore, chainId: string, size: number): Promise<TreeFrontier | null> {
  const addresses = compactRange(size);
  const found = await store.readTreeNodes(chainId, addresses);
  const nodes: TreeNode[] = [];
  for (const address of addresses) {
    const hash = found.get(nodeKey(address));
    if (!hash) return null;
    nodes.push({ ...address, hash });
  }
  return { size, nodes };
}

const BUILD_PAGE = 2000;

/**
 * Builds the tree of a chain written before the tree existed, from its entries, up to `size`:
 * the migration of the present format, run by the writer when it finds the tree missing. A
 * chain whose first entries were purged before cannot be rebuilt: their hashes are gone.
 */
export async function buildTreeFromEntries(store: AccessLogStore, chainId: string, size: number): Promise<TreeFrontier> {
  let frontier: TreeFrontier = { size: 0, nodes: [] };
  while (frontier.size < size) {
    const rows = await store.readChain(chainId, frontier.size + 1, Math.min(BUILD_PAGE, size - frontier.size));
    if (rows.length === 0 || rows[0]!.seq !== frontier.size + 1) {
      throw new TreeStateError(`Chain ${chainId}: entry ${frontier.size + 1} is not stored, so its Merkle tree cannot be built (purged before the tree existed?).`);
    }
    const grown = growTree(
      frontier,
      rows.filter((row, i) => row.seq === frontier.size + 1 + i),
    );
    await store.writeTreeNodes(chainId, grown.nodes);
    frontier = grown.frontier;
  }
  return frontier;
}

/** The inclusion proof of leaf `index` in the chain's tree of `size`: O(log n) node reads. */
export async function proveInclusion(store: AccessLogStore, chainId: string, index: number, size: number): Promise<Buffer[]> {
  const ranges = inclusionProofRanges(index, size);
  return hashRanges(ranges, await store.readTreeNodes(chainId, nodesFor(ranges)));
}

/** The consistency proof between the chain's trees of `oldSize` and `newSize`: O(log n) node reads. */
export async function proveConsistency(store: AccessLogStore, chainId: string, oldSize: number, newSize: number): Promise<Buffer[]> {
  const ranges = consistencyProofRanges(oldSize, newSize);
  return hashRanges(ranges, await store.readTreeNodes(chainId, nodesFor(ranges)));
}

/** The root of the stored tree at `size`, from stored nodes (verification compares it with the signed heads). */
export async function storedRoot(store: AccessLogStore, chainId: string, size: number): Promise<Buffer> {
  const addresses = compactRange(size);
  return hashRanges([[0, size]], await store.readTreeNodes(chainId, addresses))[0]!;
}

export { MissingTreeNodeError };
