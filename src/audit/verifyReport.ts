import { hash } from 'node:crypto';
import { readLeaf } from './logTree.js';
import { readOpening } from './record.js';
import { readPurgeNote } from './purgeNote.js';
import { REPORT_PROOFS_FORMAT, REPORT_SIGNATURE_HEADER, REPORT_SIGNATURE_HEADER_V1, reportDigest, reportDigestV1, type ReportProofs } from './reportProofs.js';
import { parseCheckpoint, type TreeHead } from '../transparency/checkpoint.js';
import { decodeBase64, NoteError, openNote, parseNote, type NoteVerifier } from '../transparency/note.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../transparency/merkle.js';

/**
 * Offline verification of a citizen's report (`npm run audit -- verify-report`), with nothing
 * but the log's and the witnesses' public keys. Each way a report can be wrong has its own code:
 *
 * - REPORT_SIGNATURE_INVALID: the report was edited after the log signed it;
 * - CHECKPOINT_INVALID: a checkpoint the log did not sign, or for another log;
 * - WITNESS_QUORUM_NOT_MET: a checkpoint fewer witnesses cosigned than the quorum;
 * - ENTRY_FORGED: a read that is not the entry at its place in the log (its record's leaf does
 *   not prove into the checkpoint, its entry does not open the leaf's commitment at its seq, or
 *   either says something else than the read);
 * - ENTRY_REMOVED: an entry an earlier report proved is missing from this one;
 * - HISTORY_FORKED: this report's checkpoint and the earlier report's are not one history;
 * - CONSISTENCY_PROOF_MISSING: the earlier report's checkpoint cannot be linked to this one;
 * - PURGE_INVALID: a purge statement the log did not sign, or for another chain than it is given for;
 * - REPORT_MALFORMED: not a report with proofs at all.
 */
export type ReportRefusalCode =
  | 'REPORT_MALFORMED'
  | 'REPORT_SIGNATURE_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'WITNESS_QUORUM_NOT_MET'
  | 'ENTRY_FORGED'
  | 'ENTRY_REMOVED'
  | 'HISTORY_FORKED'
  | 'CONSISTENCY_PROOF_MISSING'
  | 'PURGE_INVALID';

export interface ReportKeys {
  readonly log: NoteVerifier;
  /** Every key of every witness: several keys with one name are one witness (a rotation). */
  readonly witnesses: readonly NoteVerifier[];
  readonly quorum: number;
}

export interface VerifiedCheckpoint extends TreeHead {
  readonly chainId: string;
  readonly witnesses: readonly string[];
}

export type ReportVerification =
  | { readonly ok: true; readonly reads: number; readonly proved: number; readonly pending: number; readonly checkpoints: readonly VerifiedCheckpoint[] }
  | { readonly ok: false; readonly code: ReportRefusalCode; readonly detail: string };

/** The parts of a read the verifier compares with its entry's leaf. */
interface ReportedRead {
  readonly time: string;
  readonly agency: { readonly id: string };
  readonly owningAgency: { readonly id: string };
  readonly field: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly entry: { readonly chainId: string; readonly seq: number };
}

interface ProvedReport {
  readonly reads: readonly ReportedRead[];
  readonly proofs: ReportProofs;
  readonly signature: string;
}

class Refusal extends Error {
  constructor(
    readonly code: ReportRefusalCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function shapeOf(report: unknown): ProvedReport {
  if (!isObject(report) || !Array.isArray(report['reads']) || typeof report['signature'] !== 'string' || !isObject(report['proofs'])) {
    throw new Refusal('REPORT_MALFORMED', 'not a citizen report with proofs and a signature');
  }
  const proofs = report['proofs'];
  if (proofs['format'] !== REPORT_PROOFS_FORMAT || !Array.isArray(proofs['checkpoints']) || !Array.isArray(proofs['entries']) || !Array.isArray(proofs['consistency'])) {
    throw new Refusal('REPORT_MALFORMED', `the proofs are not ${REPORT_PROOFS_FORMAT}`);
  }
  if (proofs['entries'].length !== report['reads'].length) throw new Refusal('REPORT_MALFORMED', 'one proof per read is expected');
  // A GraphQL answer spells an absent list as null; the signed canonical spelling leaves out both.
  if (proofs['purges'] != null && !Array.isArray(proofs['purges'])) throw new Refusal('REPORT_MALFORMED', 'purges must be a list');
  return report as unknown as ProvedReport;
}

function checkSignature(report: Record<string, unknown>, keys: ReportKeys): void {
  const { signature, ...unsigned } = report;
  try {
    const text = openNote(signature as string, [keys.log]).text;
    if (text === `${REPORT_SIGNATURE_HEADER}\n${reportDigest(unsigned)}\n`) return;
    if (text === `${REPORT_SIGNATURE_HEADER_V1}\n${reportDigestV1(unsigned)}\n`) return;
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
  }
  throw new Refusal('REPORT_SIGNATURE_INVALID', 'the report is not as the log signed it');
}

function checkCheckpoints(proofs: ReportProofs, keys: ReportKeys): Map<string, VerifiedCheckpoint> {
  const verified = new Map<string, VerifiedCheckpoint>();
  for (const { chainId, note } of proofs.checkpoints) {
    if (typeof chainId !== 'string' || typeof note !== 'string' || verified.has(chainId)) throw new Refusal('REPORT_MALFORMED', 'one checkpoint per chain is expected');
    let head: TreeHead;
    try {
      head = parseCheckpoint(openNote(note, [keys.log]).text);
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      throw new Refusal('CHECKPOINT_INVALID', `the checkpoint of chain ${chainId} is not signed by the log`);
    }
    if (head.origin !== `${keys.log.name}/${chainId}`) throw new Refusal('CHECKPOINT_INVALID', `the checkpoint of chain ${chainId} is for ${head.origin}`);
    // Each witness counted once, and only for a cosignature that verifies: a bad line is not a vote.
    // A witness is its name: after a key rotation it has several keys, and a cosignature by any counts once.
    const parsed = parseNote(note);
    const witnesses = [
      ...new Set(
        keys.witnesses
          .filter((witness) => parsed.signatures.some((s) => s.name === witness.name && s.keyId.equals(witness.keyId) && witness.verify(parsed.text, s.signature)))
          .map((witness) => witness.name),
      ),
    ];
    if (witnesses.length < keys.quorum) {
      throw new Refusal('WITNESS_QUORUM_NOT_MET', `the checkpoint of chain ${chainId} at size ${head.size} has ${witnesses.length} of the ${keys.quorum} witness cosignatures required`);
    }
    verified.set(chainId, { ...head, chainId, witnesses });
  }
  return verified;
}

/**
 * Base64 hashes, decoded once each: the proofs of one person's reads share most of their upper
 * nodes, and a year's report repeats them thousands of times. Null if any is not a hash.
 */
function hashDecoder(): (values: unknown) => Buffer[] | null {
  const seen = new Map<string, Buffer | null>();
  return (values) => {
    if (!Array.isArray(values)) return null;
    const hashes: Buffer[] = [];
    for (const value of values) {
      if (typeof value !== 'string') return null;
      let hash = seen.get(value);
      if (hash === undefined) seen.set(value, (hash = decodeBase64(value)));
      if (hash === null || hash.length !== 32) return null;
      hashes.push(hash);
    }
    return hashes;
  };
}

function checkEntries(report: ProvedReport, checkpoints: ReadonlyMap<string, VerifiedCheckpoint>): { proved: number; pending: number } {
  const decode = hashDecoder();
  // A request's reads share its leaf and its proof: each checked once.
  const provedLeaves = new Set<string>();
  let proved = 0;
  let pending = 0;
  report.reads.forEach((read, i) => {
    const proof = report.proofs.entries[i]!;
    const leaf = typeof proof?.leaf === 'string' ? readLeaf(proof.leaf) : null;
    const opened = typeof proof?.entry === 'string' ? readOpening(proof.entry) : null;
    const where = `read ${i + 1}`;
    const offset = opened && leaf ? opened.seq - leaf.firstSeq : -1;
    const matches =
      leaf !== null &&
      opened !== null &&
      isObject(read) &&
      leaf.chainId === proof.chainId &&
      opened.chainId === leaf.chainId &&
      leaf.chainId === read.entry?.chainId &&
      opened.seq === read.entry.seq &&
      offset >= 0 &&
      offset < leaf.entries.length &&
      leaf.entries[offset] === hash('sha256', proof.entry, 'hex') &&
      leaf.kind === 'access' &&
      opened.outcome === 'released' &&
      leaf.time === read.time &&
      leaf.clientAgencyId === read.agency?.id &&
      opened.owningAgency === read.owningAgency?.id &&
      opened.field === read.field &&
      leaf.purpose === read.purpose &&
      opened.legalBasis === read.legalBasis;
    if (!matches) throw new Refusal('ENTRY_FORGED', `${where} does not say what its log entry says`);
    const checkpoint = checkpoints.get(leaf.chainId);
    if (proof.inclusion === null) {
      // Only a record newer than its chain's checkpoint may come without a proof.
      if (checkpoint && leaf.index < checkpoint.size) throw new Refusal('ENTRY_FORGED', `${where} is covered by the checkpoint but has no inclusion proof`);
      pending += 1;
      return;
    }
    const proofKey = `${proof.leaf}\n${JSON.stringify(proof.inclusion)}`;
    if (!provedLeaves.has(proofKey)) {
      const hashes = decode(proof.inclusion);
      if (!checkpoint || hashes === null || !verifyInclusion(leafHash(proof.leaf), leaf.index, checkpoint.size, hashes, checkpoint.rootHash)) {
        throw new Refusal('ENTRY_FORGED', `${where} (chain ${leaf.chainId} seq ${opened.seq}) is not in the log the checkpoint signs`);
      }
      provedLeaves.add(proofKey);
    }
    proved += 1;
  });
  return { proved, pending };
}

/** Per chain, the seq up to which the log signed that it purged entries under the retention rules. */
function checkPurgeNotes(proofs: ReportProofs, keys: ReportKeys): Map<string, number> {
  const purged = new Map<string, number>();
  for (const { chainId, note } of proofs.purges ?? []) {
    const read = typeof note === 'string' ? readPurgeNote(note, keys.log) : null;
    if (!read || read.chainId !== chainId) throw new Refusal('PURGE_INVALID', `the purge statement for chain ${String(chainId)} is not signed by the log for that chain`);
    purged.set(chainId, Math.max(purged.get(chainId) ?? 0, read.uptoSeq));
  }
  return purged;
}

/** This report against one the citizen got earlier: one history, nothing proved then missing now unless the log signed that it was purged. */
function checkAgainst(
  previous: ProvedReport,
  previousCheckpoints: ReadonlyMap<string, VerifiedCheckpoint>,
  report: ProvedReport,
  checkpoints: ReadonlyMap<string, VerifiedCheckpoint>,
  purged: ReadonlyMap<string, number>,
): void {
  for (const [chainId, before] of previousCheckpoints) {
    const now = checkpoints.get(chainId);
    if (!now) continue;
    if (before.size > now.size) throw new Refusal('HISTORY_FORKED', `chain ${chainId}: this report's checkpoint (size ${now.size}) is older than the earlier report's (size ${before.size})`);
    if (before.size === now.size) {
      if (!before.rootHash.equals(now.rootHash)) throw new Refusal('HISTORY_FORKED', `chain ${chainId}: two different trees of size ${now.size}`);
      continue;
    }
    const link = report.proofs.consistency.find((c) => c.chainId === chainId && c.oldSize === before.size && c.newSize === now.size);
    if (!link) throw new Refusal('CONSISTENCY_PROOF_MISSING', `chain ${chainId}: no consistency proof from size ${before.size} (ask for the report with since=${chainId}:${before.size})`);
    const hashes = hashDecoder()(link.proof);
    if (hashes === null || !verifyConsistency(before.size, now.size, before.rootHash, now.rootHash, hashes)) {
      throw new Refusal('HISTORY_FORKED', `chain ${chainId}: the tree of size ${now.size} does not extend the one of size ${before.size}`);
    }
  }
  const present = new Set(report.proofs.entries.map((p) => `${p.leaf}\n${p.entry}`));
  previous.proofs.entries.forEach((proof, i) => {
    const leaf = readLeaf(proof.leaf)!;
    const opened = readOpening(proof.entry)!;
    const now = checkpoints.get(leaf.chainId);
    // What the earlier report proved and this report's checkpoint covers must be here again.
    const wasPurged = opened.seq <= (purged.get(leaf.chainId) ?? 0);
    if (proof.inclusion !== null && (!now || leaf.index < now.size) && !wasPurged && !present.has(`${proof.leaf}\n${proof.entry}`)) {
      throw new Refusal('ENTRY_REMOVED', `the earlier report's read ${i + 1} (chain ${leaf.chainId} seq ${opened.seq}) is missing`);
    }
  });
}

function verifyOne(report: unknown, keys: ReportKeys): { shaped: ProvedReport; checkpoints: Map<string, VerifiedCheckpoint>; purged: Map<string, number>; proved: number; pending: number } {
  const shaped = shapeOf(report);
  checkSignature(report as Record<string, unknown>, keys);
  const checkpoints = checkCheckpoints(shaped.proofs, keys);
  const purged = checkPurgeNotes(shaped.proofs, keys);
  return { shaped, checkpoints, purged, ...checkEntries(shaped, checkpoints) };
}

/**
 * The report itself, or the audit API's GraphQL answer that carries it (`{"data": {"citizenReport": …}}`):
 * a citizen handed either can check it.
 */
function unwrapped(report: unknown): unknown {
  if (isObject(report) && isObject(report['data']) && isObject(report['data']['citizenReport'])) return report['data']['citizenReport'];
  return report;
}

export function verifyCitizenReport(report: unknown, keys: ReportKeys, previous?: unknown): ReportVerification {
  try {
    const current = verifyOne(unwrapped(report), keys);
    if (previous !== undefined) {
      let earlier: ReturnType<typeof verifyOne>;
      try {
        earlier = verifyOne(unwrapped(previous), keys);
      } catch (error) {
        if (error instanceof Refusal) throw new Refusal(error.code, `the earlier report: ${error.detail}`);
        throw error;
      }
      checkAgainst(earlier.shaped, earlier.checkpoints, current.shaped, current.checkpoints, current.purged);
    }
    return { ok: true, reads: current.shaped.reads.length, proved: current.proved, pending: current.pending, checkpoints: [...current.checkpoints.values()] };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, detail: error.detail };
    throw error;
  }
}
