import type { StoredEntry } from './entry.js';
import { canonicalEntryBytes } from './hashChain.js';
import { formatCheckpoint } from './transparency/checkpoint.js';
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
} from './transparency/merkle.js';
import { signNote, type NoteSigner } from './transparency/note.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';

/**
 * The access log as a transparency log: one RFC 9162 Merkle tree per chain, leaf i the entry at
 * seq i + 1. What a leaf is, is said here and nowhere else (`leafBytes`): today one stored
 * entry's canonical bytes, the same bytes its chain hash covers; a later storage format (one
 * record per request) changes this one function and the tree, proofs and verifier stay.
 */

/** The bytes a leaf hashes: the canonical serialisation of the stored unit. */
export function leafBytes(row: Omit<StoredEntry, 'hash'>): string {
  return canonicalEntryBytes(row);
}

export function entryLeafHash(row: Omit<StoredEntry, 'hash'>): Buffer {
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

/** Grows the tree by one leaf per input: `leafInputs` are leafBytes of the new rows, in seq order (chainEntries gives them). */
export function growTree(frontier: TreeFrontier, leafInputs: readonly string[]): { frontier: TreeFrontier; nodes: TreeNode[] } {
  const grown = appendLeaves(frontier.nodes, frontier.size, leafInputs.map((bytes) => leafHash(bytes)));
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
    const grown = growTree(frontier, rows.filter((row, i) => row.seq === frontier.size + 1 + i).map(leafBytes));
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
