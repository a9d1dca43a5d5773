import { CompactSign, compactVerify, createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { ChainHead } from './hashChain.js';

/**
 * A checkpoint is the gateway's signature over a chain head. Whoever can write to the database
 * can recompute an unkeyed hash chain; they cannot sign. So every entry at or before a
 * checkpoint is pinned, and a purge record (signed the same way) is what makes a chain that
 * starts after seq 1 legitimate rather than a deleted prefix.
 */
export interface CheckpointClaims {
  readonly chainId: string;
  /** The head seq this checkpoint pins. */
  readonly seq: number;
  readonly headHash: string;
  /**
   * Entries since the previous checkpoint of the chain (or since seq 0). A deleted checkpoint row
   * shows up as a count that does not reach back to the one before it.
   */
  readonly count: number;
  readonly time: string;
}

export interface StoredCheckpoint extends CheckpointClaims {
  readonly jws: string;
}

/** Signed when a prefix of a chain is removed under the retention rules; the new anchor. */
export interface PurgeClaims {
  readonly chainId: string;
  /** Entries 1..uptoSeq are gone; the chain continues at uptoSeq + 1. */
  readonly uptoSeq: number;
  /** Hash of entry uptoSeq: the prevHash the first remaining entry must carry. */
  readonly headHash: string;
  readonly purgedCount: number;
  readonly time: string;
}

export interface StoredPurge extends PurgeClaims {
  readonly jws: string;
  /**
   * The same purge as a signed note by the log's note key (purgeNote.ts), which a citizen's report
   * carries: it tells an offline verifier, who holds only that key, that entries up to uptoSeq
   * were removed under the retention rules rather than hidden. Absent on purges made without it.
   */
  readonly note?: string;
}

export const CHECKPOINT_TYP = 'access-log-checkpoint+jws';
export const PURGE_TYP = 'access-log-purge+jws';

export type SigningKeyInput = CryptoKey | KeyObject | JWK;

/** The private half signs, with its kid in the header so keys can be rotated. */
export interface CheckpointSigner {
  readonly privateKey: SigningKeyInput;
  readonly kid: string;
}

async function sign(typ: string, payload: object, signer: CheckpointSigner): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', typ, kid: signer.kid }).sign(signer.privateKey);
}

export async function signCheckpoint(head: Pick<ChainHead, 'chainId' | 'seq' | 'hash'>, count: number, time: string, signer: CheckpointSigner): Promise<StoredCheckpoint> {
  const claims: CheckpointClaims = { chainId: head.chainId, seq: head.seq, headHash: head.hash, count, time };
  return { ...claims, jws: await sign(CHECKPOINT_TYP, { type: 'checkpoint', ...claims }, signer) };
}

export async function signPurge(claims: PurgeClaims, signer: CheckpointSigner): Promise<StoredPurge> {
  return { ...claims, jws: await sign(PURGE_TYP, { type: 'purge', ...claims }, signer) };
}

/** Public keys accepted for checkpoints: the current one and any still-valid rotated ones. */
export type CheckpointVerifier = (jws: string, typ: string) => Promise<Record<string, unknown> | null>;

/** Returns the payload if the signature verifies under one of `publicJwks` with the expected typ, else null. */
export function checkpointVerifier(publicJwks: readonly JWK[]): CheckpointVerifier {
  const keySet = createLocalJWKSet({ keys: publicJwks.map((jwk) => ({ ...jwk, alg: jwk.alg ?? 'ES256' })) });
  return async (jws, typ) => {
    try {
      if (decodeProtectedHeader(jws).typ !== typ) return null;
      const { payload } = await compactVerify(jws, keySet, { algorithms: ['ES256'] });
      const parsed: unknown = JSON.parse(new TextDecoder().decode(payload));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError || error instanceof SyntaxError || error instanceof TypeError) return null;
      throw error;
    }
  };
}

/** Which signed claim, if any, disagrees with the stored columns; null when all agree. */
export function differingClaim(signed: Record<string, unknown>, stored: Record<string, unknown>, keys: readonly string[]): string | null {
  for (const key of keys) if (signed[key] !== stored[key]) return key;
  return null;
}
