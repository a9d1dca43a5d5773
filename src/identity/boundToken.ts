import type { KeyObject } from 'node:crypto';
import { GatewayError, type GatewayErrorDetails } from '../errors/index.js';
import { JwsVerificationError, verifyCompactJws } from './compactJws.js';
import type { ReplayCache } from './replayCache.js';

/**
 * What every certificate-bound token the gateway accepts has in common (the partners' request
 * token, the officers' token): a compact JWS verified with one known key, claims bound to the
 * client certificate (RFC 8705 `cnf.x5t#S256`), an audience, a short lifetime and, where a token
 * must not be used twice, a jti claimed once. One verifier for all of them, with the same codes.
 */

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** How a token is named in messages: "request token", "officer token". */
export type TokenKind = string;

const invalidClaim = (kind: TokenKind, claim: string, message: string, details: GatewayErrorDetails = {}) =>
  new GatewayError('TOKEN_INVALID_CLAIM', `The ${kind}'s "${claim}" claim ${message}`, { claim, ...details });

/** The claims of a token whose signature verifies with `key`; `signer` names that key in messages. */
export function verifiedClaims(jwt: string, key: KeyObject, kind: TokenKind, signer = 'the client certificate'): Record<string, unknown> {
  let payload: Buffer;
  try {
    ({ payload } = verifyCompactJws(jwt, key));
  } catch (error) {
    if (!(error instanceof JwsVerificationError)) throw error;
    switch (error.problem) {
      case 'SIGNATURE_INVALID':
        throw new GatewayError('TOKEN_SIGNATURE_INVALID', `The ${kind} is not signed with the key of ${signer}.`);
      case 'ALGORITHM_NOT_ALLOWED':
        throw new GatewayError('TOKEN_SIGNATURE_INVALID', `The ${kind} is signed with an algorithm the key of ${signer} cannot have produced.`, { reason: 'ALGORITHM_NOT_ALLOWED' });
      case 'KEY_TOO_SHORT':
        throw new GatewayError('TOKEN_SIGNATURE_INVALID', `The key of ${signer} is too short to sign tokens (RSA needs 2048 bits or more).`, { reason: 'KEY_TOO_SHORT' });
      default:
        throw new GatewayError('TOKEN_INVALID', `The ${kind} is not a well-formed signed JWT.`, { reason: error.problem });
    }
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new GatewayError('TOKEN_INVALID', `The ${kind} payload is not JSON.`);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new GatewayError('TOKEN_INVALID', `The ${kind} payload is not a JSON object.`);
  return claims as Record<string, unknown>;
}

export function requireClaims(claims: Record<string, unknown>, required: readonly string[], kind: TokenKind): void {
  const missing = required.find((claim) => claims[claim] === undefined);
  if (missing) throw new GatewayError('TOKEN_MISSING_CLAIM', `The ${kind} has no "${missing}" claim.`, { claim: missing });
}

/** RFC 8705: the token names the certificate of this connection, so it is useless over any other. */
export function checkBinding(claims: Record<string, unknown>, thumbprint: string, kind: TokenKind): void {
  const cnf = claims['cnf'];
  if (typeof cnf !== 'object' || cnf === null || (cnf as Record<string, unknown>)['x5t#S256'] !== thumbprint) {
    throw new GatewayError('TOKEN_NOT_BOUND', `The ${kind} is not bound to the client certificate (cnf.x5t#S256).`);
  }
}

export function checkAudience(claims: Record<string, unknown>, audience: string, kind: TokenKind): void {
  const aud = claims['aud'];
  if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) throw invalidClaim(kind, 'aud', `must be "${audience}".`);
}

function numericDate(claims: Record<string, unknown>, claim: string, kind: TokenKind): number {
  const value = claims[claim];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidClaim(kind, claim, 'must be a NumericDate (seconds since 1970).');
  return value;
}

/** `iat`, `exp` (and `nbf` if present) against the clock; the lifetime `exp - iat` at most `maxLifetimeSeconds`. */
export function checkTimes(
  claims: Record<string, unknown>,
  options: { readonly now: Date; readonly toleranceSeconds: number; readonly maxLifetimeSeconds: number; readonly kind: TokenKind },
): { readonly iat: number; readonly exp: number } {
  const { kind, toleranceSeconds: tolerance } = options;
  const now = Math.floor(options.now.getTime() / 1000);
  const iat = numericDate(claims, 'iat', kind);
  const exp = numericDate(claims, 'exp', kind);
  if (exp <= iat) throw invalidClaim(kind, 'exp', 'must be later than "iat".');
  if (exp - iat > options.maxLifetimeSeconds) {
    throw new GatewayError('TOKEN_LIFETIME_TOO_LONG', `A ${kind} may live at most ${options.maxLifetimeSeconds} seconds (exp - iat).`, { maxSeconds: options.maxLifetimeSeconds });
  }
  if (now > exp + tolerance) throw new GatewayError('TOKEN_EXPIRED', `The ${kind} has expired.`);
  if (iat > now + tolerance) throw invalidClaim(kind, 'iat', 'is in the future; check the client clock.');
  if (claims['nbf'] !== undefined && numericDate(claims, 'nbf', kind) > now + tolerance) throw invalidClaim(kind, 'nbf', 'is in the future.');
  return { iat, exp };
}

/** A non-empty printable string: control characters would let a caller forge lines in logs that record it. */
export function identifierClaim(claims: Record<string, unknown>, claim: string, maxLength: number, kind: TokenKind): string {
  const value = claims[claim];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in a claim is the point of this pattern
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidClaim(kind, claim, `must be a non-empty string of at most ${maxLength} printable characters.`);
  }
  return value;
}

/** Remembers the token id until the token could no longer be accepted; a second use is TOKEN_REPLAYED. */
export async function claimTokenId(cache: ReplayCache, id: string, times: { readonly iat: number; readonly exp: number }, toleranceSeconds: number, kind: TokenKind): Promise<void> {
  const claimed = await cache.claim({
    id,
    issuedAt: new Date(times.iat * 1000),
    acceptableUntil: new Date((times.exp + toleranceSeconds) * 1000),
    clockToleranceMs: toleranceSeconds * 1000,
  });
  if (!claimed) {
    throw new GatewayError('TOKEN_REPLAYED', `The ${kind} has been used before; mint a fresh one (new jti) per request.`);
  }
}

export { invalidClaim };
