import type { StoredEntry } from './entry.js';
import { signPurge, checkpointVerifier, type CheckpointSigner, type StoredPurge } from './checkpoint.js';
import type { AccessLogStore, LegalHold, PurgeOptions } from './store/AccessLogStore.js';
import { verifyChain, type ChainVerification } from './verify.js';
import type { JWK } from 'jose';
import type { RetentionPolicy } from '../config/accessLogConfig.js';
import type { NoteSigner } from '../transparency/note.js';
import { signPurgeNote } from './purgeNote.js';

/**
 * Access-log entries are personal data too and may be kept only as long as their purpose
 * requires. Removal is by whole prefix segments ending at a checkpoint: what remains still
 * starts at a signed anchor, so the log stays verifiable after a purge. A segment with any
 * entry still in retention or under legal hold stops the purge of that chain there.
 */
export type { RetentionPolicy };

const DAY_MS = 86_400_000;

export function retentionDays(policy: RetentionPolicy, purpose: string): number {
  return policy.byPurpose.get(purpose) ?? policy.defaultDays;
}

export function isExpired(entry: Pick<StoredEntry, 'time' | 'purpose'>, policy: RetentionPolicy, now: Date): boolean {
  return Date.parse(entry.time) + retentionDays(policy, entry.purpose) * DAY_MS <= now.getTime();
}

export interface LegalHoldIndex {
  readonly caseIds: ReadonlySet<string>;
  readonly subjectHmacs: ReadonlySet<string>;
}

export function legalHoldIndex(holds: readonly LegalHold[]): LegalHoldIndex {
  return {
    caseIds: new Set(holds.flatMap((hold) => (hold.caseId === null ? [] : [hold.caseId]))),
    subjectHmacs: new Set(holds.flatMap((hold) => (hold.subjectHmac === null ? [] : [hold.subjectHmac]))),
  };
}

export function isHeld(entry: Pick<StoredEntry, 'caseId' | 'subjectHmac'>, holds: LegalHoldIndex): boolean {
  return holds.caseIds.has(entry.caseId) || (entry.subjectHmac !== null && holds.subjectHmacs.has(entry.subjectHmac));
}

export interface PurgeSegment {
  readonly fromSeq: number;
  readonly uptoSeq: number;
  /** The checkpoint's head hash: the new anchor once the segment is gone. */
  readonly headHash: string;
}

export type PurgeStopReason = 'retention' | 'legal-hold' | 'no-checkpoint';

export interface ChainPurgePlan {
  readonly chainId: string;
  readonly segments: readonly PurgeSegment[];
  /** Where the purge of this chain stops and why; null when nothing stood in the way. */
  readonly stoppedAt: { readonly seq: number; readonly reason: PurgeStopReason } | null;
}

/**
 * Pure: given the checkpoints after the anchor and the first entry that must stay (or null),
 * the prefix segments that may go.
 */
export function purgeableSegments(anchorSeq: number, checkpoints: ReadonlyArray<{ readonly seq: number; readonly headHash: string }>, firstKeptSeq: number | null): PurgeSegment[] {
  const segments: PurgeSegment[] = [];
  let fromSeq = anchorSeq + 1;
  for (const checkpoint of [...checkpoints].sort((a, b) => a.seq - b.seq)) {
    if (checkpoint.seq <= anchorSeq) continue;
    if (firstKeptSeq !== null && checkpoint.seq >= firstKeptSeq) break;
    segments.push({ fromSeq, uptoSeq: checkpoint.seq, headHash: checkpoint.headHash });
    fromSeq = checkpoint.seq + 1;
  }
  return segments;
}

const PAGE = 1000;

export async function planChainPurge(store: AccessLogStore, chainId: string, policy: RetentionPolicy, holds: LegalHoldIndex, now: Date): Promise<ChainPurgePlan> {
  const anchorSeq = Math.max(0, ...(await store.listPurges(chainId)).map((purge) => purge.uptoSeq));
  const checkpoints = (await store.listCheckpoints(chainId)).filter((checkpoint) => checkpoint.seq > anchorSeq);
  const lastCheckpointSeq = Math.max(anchorSeq, ...checkpoints.map((checkpoint) => checkpoint.seq));
  // Only entries up to the last checkpoint can ever go in this run; read no further.
  let stoppedAt: ChainPurgePlan['stoppedAt'] = null;
  let fromSeq = anchorSeq + 1;
  scan: while (fromSeq <= lastCheckpointSeq) {
    const page = await store.readChain(chainId, fromSeq, PAGE);
    for (const entry of page) {
      if (entry.seq > lastCheckpointSeq) break scan;
      if (isHeld(entry, holds)) {
        stoppedAt = { seq: entry.seq, reason: 'legal-hold' };
        break scan;
      }
      if (!isExpired(entry, policy, now)) {
        stoppedAt = { seq: entry.seq, reason: 'retention' };
        break scan;
      }
    }
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    fromSeq = last.seq + 1;
  }
  const segments = purgeableSegments(anchorSeq, checkpoints, stoppedAt?.seq ?? null);
  if (stoppedAt === null) {
    const head = await store.lastHead(chainId);
    if (head.seq > lastCheckpointSeq) stoppedAt = { seq: lastCheckpointSeq + 1, reason: 'no-checkpoint' };
  }
  return { chainId, segments, stoppedAt };
}

export async function planPurge(store: AccessLogStore, policy: RetentionPolicy, now: Date): Promise<ChainPurgePlan[]> {
  const holds = legalHoldIndex(await store.listLegalHolds());
  const plans: ChainPurgePlan[] = [];
  for (const chainId of await store.listChains()) plans.push(await planChainPurge(store, chainId, policy, holds, now));
  return plans;
}

export interface ChainPurgeResult {
  readonly chainId: string;
  readonly purgedEntries: number;
  readonly segments: number;
  /** Set when the chain was left alone because it does not verify: a purge must not destroy evidence of tampering. */
  readonly refused: ChainVerification | null;
}

/**
 * Carries out the plans: one signed purge record per segment, and every chain's anchors in one
 * store transaction. Together, because a PostgreSQL month partition holds every chain's records of
 * that month: it can be dropped whole only by a purge that empties it for all of them at once
 * (a purge chain by chain would delete the first chains' rows one by one). The records of the
 * months that stay (all of them on SQLite) then go slice by slice, each slice a short transaction
 * of its own, so the gateway's appends carry on during a purge of any size (AccessLogStore.purge).
 * An interrupted purge leaves its anchors, and records before them that verification no longer
 * reads; the next run removes those, with or without segments of its own.
 */
export async function executePurge(
  store: AccessLogStore,
  plans: readonly ChainPurgePlan[],
  signer: CheckpointSigner,
  publicJwks: readonly JWK[],
  now: Date,
  /** The log's note key: each purge is also signed as a note that citizens' reports carry (purgeNote.ts). */
  noteSigner?: NoteSigner,
  options?: PurgeOptions,
): Promise<ChainPurgeResult[]> {
  const verify = checkpointVerifier(publicJwks);
  const refused = new Map<string, ChainVerification>();
  const purges: StoredPurge[] = [];
  for (const plan of plans) {
    if (plan.segments.length === 0) continue;
    const verification = await verifyChain(store, plan.chainId, verify);
    if (!verification.ok) {
      refused.set(plan.chainId, verification);
      continue;
    }
    for (const segment of plan.segments) {
      const claims = { chainId: plan.chainId, uptoSeq: segment.uptoSeq, headHash: segment.headHash, purgedCount: segment.uptoSeq - segment.fromSeq + 1, time: now.toISOString() };
      const purge = await signPurge(claims, signer);
      purges.push(noteSigner ? { ...purge, note: signPurgeNote(claims, noteSigner) } : purge);
    }
  }
  const removed = await store.purge(purges, options);
  return plans.map((plan) => {
    const refusal = refused.get(plan.chainId);
    if (refusal) return { chainId: plan.chainId, purgedEntries: 0, segments: 0, refused: refusal };
    return { chainId: plan.chainId, purgedEntries: removed.get(plan.chainId) ?? 0, segments: plan.segments.length, refused: null };
  });
}
