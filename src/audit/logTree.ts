import { entryCommitments, type StoredRecord } from './record.js';
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
 * The access log as a transparency log: one RFC 9162 Merkle tree per chain, leaf i the record at
 * index i (one request's entries, record.ts). What a leaf is, is said here and nowhere else.
 */

/** Tags the leaf format; a new format is a new tag, never a silent change. */
export const LEAF_FORMAT = 'access-log-leaf-v2';

/** What leafBytes shows, read back by an offline verifier. */
export interface LeafView {
  readonly chainId: string;
  readonly index: number;
  readonly firstSeq: number;
  readonly kind: string;
  readonly time: string;
  readonly clientAgencyId: string;
  readonly purpose: string;
  /** The record's chain hash: commits to everything in it, the official and the case included. */
  readonly recordHash: string;
  /** One entry commitment per entry, in seq order from firstSeq. */
  readonly entries: readonly string[];
}

/**
 * The bytes a leaf hashes: what a citizen may see of a request (when, which agency, why), its
 * place, its chain hash, and one commitment per entry. A citizen's report opens only their own
 * entries' commitments (record.ts entryOpening): the other persons of a household request stay
 * hidden behind hashes that cover their subjects' ciphertexts. The official, the case and the
 * request id stay out too, yet cannot be changed without changing the record hash.
 */
export function leafBytes(record: Pick<StoredRecord, 'chainId' | 'index' | 'firstSeq' | 'hash' | 'header' | 'itemTexts'>): string {
  const { header } = record;
  return leafText({
    chainId: record.chainId,
    index: record.index,
    firstSeq: record.firstSeq,
    kind: header.kind,
    time: header.time,
    clientAgencyId: header.clientAgencyId,
    purpose: header.purpose,
    recordHash: record.hash,
    entries: entryCommitments(record.chainId, record.firstSeq, record.itemTexts),
  });
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** Null unless `bytes` is exactly what leafBytes writes. */
export function readLeaf(bytes: string): LeafView | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 10 || parsed[0] !== LEAF_FORMAT) return null;
  const [, chainId, index, firstSeq, kind, time, clientAgencyId, purpose, recordHash, entries] = parsed as unknown[];
  const strings = [chainId, kind, time, clientAgencyId, purpose, recordHash];
  if (!strings.every((value) => typeof value === 'string') || !Number.isSafeInteger(index) || !Number.isSafeInteger(firstSeq)) return null;
  if (!Array.isArray(entries) || entries.length === 0 || !entries.every((entry) => typeof entry === 'string' && HEX_HASH.test(entry))) return null;
  const view = { chainId, index, firstSeq, kind, time, clientAgencyId, purpose, recordHash, entries } as LeafView;
  // Canonical spelling only: one leaf, one byte string.
  return leafText(view) === bytes ? view : null;
}

/** The one spelling of a leaf, written by leafBytes and checked by readLeaf. */
function leafText(view: LeafView): string {
  return JSON.stringify([LEAF_FORMAT, view.chainId, view.index, view.firstSeq, view.kind, view.time, view.clientAgencyId, view.purpose, view.recordHash, view.entries]);
}

export function recordLeafHash(record: Pick<StoredRecord, 'chainId' | 'index' | 'firstSeq' | 'hash' | 'header' | 'itemTexts'>): Buffer {
  return leafHash(leafBytes(record));
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

/** Grows the tree by one leaf per record; records are the next ones of the chain, in order. */
export function growTree(frontier: TreeFrontier, records: readonly StoredRecord[]): { frontier: TreeFrontier; nodes: TreeNode[] } {
  const grown = appendLeaves(frontier.nodes, frontier.size, records.map(recordLeafHash));
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
 * Builds the tree of a chain from its records, up to `records` leaves: for a chain whose tree
 * nodes are missing (lost, or a store restored without them). A chain whose first records were
 * purged cannot be rebuilt: their hashes are gone.
 */
export async function buildTreeFromRecords(store: AccessLogStore, chainId: string, records: number): Promise<TreeFrontier> {
  let frontier: TreeFrontier = { size: 0, nodes: [] };
  let fromSeq = 1;
  while (frontier.size < records) {
    const page = await store.readRecords(chainId, fromSeq, Math.min(BUILD_PAGE, records - frontier.size));
    const contiguous = page.filter((record, i) => record.index === frontier.size + i);
    if (contiguous.length === 0) {
      throw new TreeStateError(`Chain ${chainId}: record ${frontier.size} is not stored, so its Merkle tree cannot be built (purged before the tree was?).`);
    }
    const grown = growTree(frontier, contiguous);
    await store.writeTreeNodes(chainId, grown.nodes);
    frontier = grown.frontier;
    fromSeq = contiguous[contiguous.length - 1]!.lastSeq + 1;
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
