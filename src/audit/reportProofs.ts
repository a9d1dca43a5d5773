import { hash } from 'node:crypto';
import type { StoredEntry } from './entry.js';
import { leafBytes, proveConsistency, proveInclusion } from './logTree.js';
import { entryOpening, type StoredRecord } from './record.js';
import { parseCheckpoint } from '../transparency/checkpoint.js';
import { NoteError, openNote, parseNote, signNote, type NoteSigner, type NoteVerifier } from '../transparency/note.js';
import type { AccessLogStore, StoredTreeHead } from './store/AccessLogStore.js';

/**
 * The proofs a citizen's report carries, so that anyone holding only the log's and the
 * witnesses' public keys can check it offline (verifyReport.ts): per chain the newest
 * checkpoint with a witness quorum, per read its request's leaf (record), the opening of the
 * read's own entry in that leaf, and the leaf's inclusion proof against that checkpoint, and on request consistency proofs from checkpoints of an earlier report.
 * The whole report is then signed with the log's note key.
 */

export const REPORT_PROOFS_FORMAT = 'access-log-report-proofs/v2';
/**
 * v2 signs the report's canonical JSON (canonicalJson): so the same report verifies whether it
 * came as the JSON download or as the audit API's GraphQL answer, whose key order follows the
 * query. v1 (the digest of the JSON as serialised) is still verified, for reports made before.
 */
export const REPORT_SIGNATURE_HEADER = 'access-log-citizen-report/v2';
export const REPORT_SIGNATURE_HEADER_V1 = 'access-log-citizen-report/v1';

export interface EntryProof {
  readonly chainId: string;
  /** leafBytes of the entry's record: what the citizen may see of the request, its chain hash, and one commitment per entry. */
  readonly leaf: string;
  /** entryOpening of the read's entry: hashes to its commitment in the leaf; the request's other entries stay hidden. */
  readonly entry: string;
  /** Base64 hashes, RFC 9162 §2.1.3.1 order; null when the record is newer than its chain's checkpoint. */
  readonly inclusion: readonly string[] | null;
}

export interface ConsistencyProof {
  readonly chainId: string;
  readonly oldSize: number;
  readonly newSize: number;
  readonly proof: readonly string[];
}

export interface ReportProofs {
  readonly format: typeof REPORT_PROOFS_FORMAT;
  /** Per chain, the checkpoint (a cosigned C2SP note) the entries are proved against. */
  readonly checkpoints: ReadonlyArray<{ readonly chainId: string; readonly note: string }>;
  /** Parallel to the report's entries (reads), in their order. */
  readonly entries: readonly EntryProof[];
  readonly consistency: readonly ConsistencyProof[];
  /**
   * Per chain of the report (and of `since`), its latest purge as a note signed by the log's key
   * (purgeNote.ts), when there is one: an entry an earlier report proved and this one lacks is
   * then known to have been purged under the retention rules, not removed.
   */
  readonly purges?: ReadonlyArray<{ readonly chainId: string; readonly note: string }>;
}

export interface ProofOptions {
  /** The log's note key: signs the report; its verifier checks the checkpoints. */
  readonly signer: NoteSigner;
  readonly witnesses: readonly NoteVerifier[];
  readonly quorum: number;
  /** Sizes of checkpoints the citizen holds (an earlier report's), per chain: consistency proofs from each. */
  readonly since?: Readonly<Record<string, number>>;
}

const HEADS_SEARCHED = 64;

/** Witnesses (by name: a rotated witness may have cosigned with two of its keys) whose cosignature verifies. */
function witnessCount(head: StoredTreeHead, log: NoteVerifier, witnesses: readonly NoteVerifier[]): number {
  try {
    return new Set(
      openNote(head.note, [log, ...witnesses])
        .verifiedBy.filter((v) => v !== log)
        .map((v) => v.name),
    ).size;
  } catch (error) {
    if (error instanceof NoteError) return -1;
    throw error;
  }
}

/**
 * The newest tree head with the quorum. Witnesses cosign after the commit, so the very newest
 * usually waits for them; without any head with the quorum the newest is used, and a verifier
 * will refuse it, as it should.
 */
async function anchorOf(store: AccessLogStore, chainId: string, options: ProofOptions): Promise<StoredTreeHead | null> {
  const heads = await store.listTreeHeads(chainId, HEADS_SEARCHED);
  return heads.find((head) => witnessCount(head, options.signer.verifier, options.witnesses) >= options.quorum) ?? heads[0] ?? null;
}

const b64 = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('base64'));

/** Proofs for `entries` (the report's reads' entries, in report order). */
export async function proveEntries(store: AccessLogStore, entries: readonly StoredEntry[], options: ProofOptions): Promise<ReportProofs> {
  const anchors = new Map<string, StoredTreeHead | null>();
  for (const chainId of new Set(entries.map((entry) => entry.chainId))) anchors.set(chainId, await anchorOf(store, chainId, options));
  const proofs: EntryProof[] = [];
  // A person's reads of one request share its record and its proof.
  const records = new Map<string, { record: StoredRecord; leaf: string; inclusion: readonly string[] | null }>();
  let last: { record: StoredRecord; leaf: string; inclusion: readonly string[] | null } | undefined;
  for (const entry of entries) {
    const anchor = anchors.get(entry.chainId) ?? null;
    let held = last && last.record.chainId === entry.chainId && last.record.firstSeq <= entry.seq && entry.seq <= last.record.lastSeq ? last : undefined;
    if (!held) {
      const [record] = await store.readRecords(entry.chainId, entry.seq, 1);
      if (!record || record.firstSeq > entry.seq) throw new TypeError(`proveEntries: no record holds chain ${entry.chainId} seq ${entry.seq}`);
      const key = `${record.chainId}\u0000${record.lastSeq}`;
      held = records.get(key);
      if (!held) {
        const covered = anchor !== null && record.index < anchor.size;
        held = { record, leaf: leafBytes(record), inclusion: covered ? b64(await proveInclusion(store, record.chainId, record.index, anchor.size)) : null };
        records.set(key, held);
      }
    }
    last = held;
    const text = held.record.itemTexts[entry.seq - held.record.firstSeq]!;
    proofs.push({ chainId: entry.chainId, leaf: held.leaf, entry: entryOpening(entry.chainId, entry.seq, text), inclusion: held.inclusion });
  }
  const consistency: ConsistencyProof[] = [];
  for (const [chainId, oldSize] of Object.entries(options.since ?? {})) {
    const anchor = anchors.get(chainId) ?? (await anchorOf(store, chainId, options));
    if (!anchor || !Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > anchor.size) continue;
    consistency.push({ chainId, oldSize, newSize: anchor.size, proof: b64(await proveConsistency(store, chainId, oldSize, anchor.size)) });
  }
  const checkpoints = [...anchors.entries()].flatMap(([chainId, anchor]) => (anchor ? [{ chainId, note: anchor.note }] : []));
  const purges: Array<{ chainId: string; note: string }> = [];
  for (const chainId of new Set([...anchors.keys(), ...Object.keys(options.since ?? {})])) {
    const latest = (await store.listPurges(chainId)).filter((purge) => purge.note !== undefined).pop();
    if (latest?.note) purges.push({ chainId, note: latest.note });
  }
  return { format: REPORT_PROOFS_FORMAT, checkpoints, entries: proofs, consistency, ...(purges.length > 0 ? { purges } : {}) };
}

/**
 * The report's one spelling for signing: object keys sorted (by UTF-16 code units, as
 * Array.prototype.sort does), properties whose value is null or absent left out, arrays in their
 * order, no whitespace. A GraphQL answer spells an absent value as null and orders keys as the
 * query selected them; neither changes what the report says.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== null && record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 of the report without its signature, canonically spelled: what the log signs (v2). */
export function reportDigest(unsigned: object): string {
  return hash('sha256', canonicalJson(unsigned), 'base64');
}

/** The v1 digest: of the JSON as serialised. Only verified, never signed any more. */
export function reportDigestV1(unsigned: object): string {
  return hash('sha256', JSON.stringify(unsigned), 'base64');
}

/** A signed note over the report's digest, by the log's key. */
export function signReport(unsigned: object, signer: NoteSigner): string {
  return signNote(`${REPORT_SIGNATURE_HEADER}\n${reportDigest(unsigned)}\n`, [signer]);
}

/** The origin a checkpoint note names (for matching it to its chain). */
export function checkpointOrigin(note: string): string {
  return parseCheckpoint(parseNote(note).text).origin;
}
