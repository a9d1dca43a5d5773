import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, type GatewayErrorCode, type GatewayErrorDetails } from '../errors/index.js';
import { InvalidPersonnummerError, isValidPersonnummer, parsePersonnummer } from '../personnummer/index.js';
import { isPurpose } from '../policy/purposes.js';
import type { AgencyIdentity, CallerContext } from './callerContext.js';
import type { ReplayCache } from './replayCache.js';
import { JwsVerificationError, verifyCompactJws } from './compactJws.js';

export { algorithmsForKey } from './compactJws.js';

/**
 * The request token: a short-lived JWT the calling agency's system signs with the private key of
 * its client certificate, stating who acts (a pseudonymous official), in which case, for which
 * purpose and about whom. Bound to the certificate (RFC 8705 `cnf.x5t#S256`), it cannot be used
 * over any other TLS connection than the one that presents that certificate.
 */

export const DEFAULT_TOKEN_AUDIENCE = 'agency-exchange-gateway';
export const MAX_TOKEN_LIFETIME_SECONDS = 300;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const MAX_SUBJECTS = 100;
export const MAX_CASE_LENGTH = 100;
const MAX_ID_LENGTH = 200;

export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'cnf', 'purpose', 'case', 'subjects'] as const;

export interface RequestTokenVerification {
  /** `x5t#S256` of the client certificate the request came with. */
  readonly certificateThumbprint: string;
  /** The client certificate's public key (X509Certificate#publicKey): the only key that may have signed. */
  readonly certificatePublicKey: KeyObject;
  /** The agency the certificate belongs to. */
  readonly agency: AgencyIdentity;
  readonly replayCache: ReplayCache;
  readonly requestId: string;
  readonly audience?: string;
  readonly now?: Date;
  readonly clockToleranceSeconds?: number;
}

function tokenError(code: GatewayErrorCode, message: string, details: GatewayErrorDetails = {}): GatewayError {
  return new GatewayError(code, message, details);
}

const invalidClaim = (claim: string, message: string, details: GatewayErrorDetails = {}) =>
  tokenError('TOKEN_INVALID_CLAIM', `Request token claim "${claim}" ${message}`, { claim, ...details });

/** The token from `Authorization: Bearer <jwt>`; undefined when there is none. */
export function requestTokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match?.[1]) throw tokenError('TOKEN_INVALID', 'The Authorization header must be "Bearer <request token>".');
  return match[1];
}

/** The token's claims, once its signature verifies with the certificate's key. */
function verifiedPayload(jwt: string, key: KeyObject): Record<string, unknown> {
  let payload: Buffer;
  try {
    payload = verifyCompactJws(jwt, key);
  } catch (error) {
    if (!(error instanceof JwsVerificationError)) throw error;
    switch (error.problem) {
      case 'SIGNATURE_INVALID':
        throw tokenError('TOKEN_SIGNATURE_INVALID', 'The request token is not signed with the key of the client certificate.');
      case 'ALGORITHM_NOT_ALLOWED':
        throw tokenError('TOKEN_SIGNATURE_INVALID', 'The request token is signed with an algorithm the client certificate key cannot have produced.', {
          reason: 'ALGORITHM_NOT_ALLOWED',
        });
      case 'KEY_TOO_SHORT':
        throw tokenError('TOKEN_SIGNATURE_INVALID', 'The client certificate key is too short to sign request tokens (RSA needs 2048 bits or more).', { reason: 'KEY_TOO_SHORT' });
      default:
        throw tokenError('TOKEN_INVALID', 'The request token is not a well-formed signed JWT.', { reason: error.problem });
    }
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw tokenError('TOKEN_INVALID', 'The request token payload is not JSON.');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw tokenError('TOKEN_INVALID', 'The request token payload is not a JSON object.');
  }
  return claims as Record<string, unknown>;
}

function identifier(claims: Record<string, unknown>, claim: string, maxLength: number): string {
  const value = claims[claim];
  // Control characters would let a caller forge lines in logs that record this value.
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidClaim(claim, `must be a non-empty string of at most ${maxLength} printable characters.`);
  }
  return value;
}

/**
 * A personnummer is written with digits and at most a hyphen (parsePersonnummer refuses anything
 * else first). Testing that before parsing spares the usual pseudonymous id the thrown and caught
 * parse error, whose stack trace costs more than the rest of the claim checks.
 */
function mayBePersonnummer(value: string): boolean {
  return /^[\d-]+$/.test(value.trim());
}

function numericDate(claims: Record<string, unknown>, claim: string): number {
  const value = claims[claim];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidClaim(claim, 'must be a NumericDate (seconds since 1970).');
  return value;
}

/**
 * Canonical 12-digit numbers, duplicates removed. Errors name the position and the problem,
 * never the number itself: it is a personal identity number.
 */
function subjectsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SUBJECTS) {
    throw invalidClaim('subjects', `must be an array of 1 to ${MAX_SUBJECTS} personnummer.`);
  }
  const canonical = value.map((subject, index) => {
    try {
      return parsePersonnummer(subject).canonical;
    } catch (error) {
      if (!(error instanceof InvalidPersonnummerError)) throw error;
      throw invalidClaim('subjects', `has an invalid personnummer at index ${index} (${error.problem}).`, { index, problem: error.problem });
    }
  });
  return [...new Set(canonical)];
}

/**
 * Verifies the request token against the client certificate it arrived with and returns the
 * caller context. Checks run in a fixed order (signature, presence, issuer, binding, audience,
 * times, content, replay) so each failure has one stable code; the jti is claimed last so a
 * rejected token does not use up its id.
 */
export async function verifyRequestToken(jwt: string | undefined, options: RequestTokenVerification): Promise<CallerContext> {
  if (jwt === undefined || jwt.trim() === '') throw tokenError('TOKEN_MISSING', 'A request token (Authorization: Bearer <jwt>) is required.');
  const claims = verifiedPayload(jwt.trim(), options.certificatePublicKey);

  const missing = REQUIRED_CLAIMS.find((claim) => claims[claim] === undefined);
  if (missing) throw tokenError('TOKEN_MISSING_CLAIM', `The request token has no "${missing}" claim.`, { claim: missing });

  if (claims['iss'] !== options.agency.organisationNumber) {
    throw tokenError('TOKEN_ISSUER_MISMATCH', 'The request token "iss" is not the organisation number of the client certificate.', {
      agency: options.agency.id,
    });
  }
  const cnf = claims['cnf'];
  if (typeof cnf !== 'object' || cnf === null || (cnf as Record<string, unknown>)['x5t#S256'] !== options.certificateThumbprint) {
    throw tokenError('TOKEN_NOT_BOUND', 'The request token is not bound to the client certificate (cnf.x5t#S256).');
  }
  const audience = options.audience ?? DEFAULT_TOKEN_AUDIENCE;
  const aud = claims['aud'];
  if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
    throw invalidClaim('aud', `must be "${audience}".`);
  }

  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const iat = numericDate(claims, 'iat');
  const exp = numericDate(claims, 'exp');
  if (exp <= iat) throw invalidClaim('exp', 'must be later than "iat".');
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS) {
    throw tokenError('TOKEN_LIFETIME_TOO_LONG', `A request token may live at most ${MAX_TOKEN_LIFETIME_SECONDS} seconds (exp - iat).`, {
      maxSeconds: MAX_TOKEN_LIFETIME_SECONDS,
    });
  }
  if (now > exp + tolerance) throw tokenError('TOKEN_EXPIRED', 'The request token has expired.');
  if (iat > now + tolerance) throw invalidClaim('iat', 'is in the future; check the client clock.');
  if (claims['nbf'] !== undefined && numericDate(claims, 'nbf') > now + tolerance) throw invalidClaim('nbf', 'is in the future.');

  const purpose = claims['purpose'];
  if (!isPurpose(purpose)) throw invalidClaim('purpose', 'is not a registered purpose.');
  const caseId = identifier(claims, 'case', MAX_CASE_LENGTH);
  const official = identifier(claims, 'sub', MAX_ID_LENGTH);
  // The official is identified pseudonymously; a personnummer here would put one in every log line.
  if (mayBePersonnummer(official) && isValidPersonnummer(official)) throw invalidClaim('sub', 'must be a pseudonymous id, not a personnummer.');
  const subjects = subjectsOf(claims['subjects']);
  const jti = identifier(claims, 'jti', MAX_ID_LENGTH);

  // Scoped by issuer: ids are unique per agency, and one agency must not be able to burn another's.
  const claimed = await options.replayCache.claim({
    id: `${options.agency.organisationNumber}/${jti}`,
    issuedAt: new Date(iat * 1000),
    acceptableUntil: new Date((exp + tolerance) * 1000),
    clockToleranceMs: tolerance * 1000,
  });
  if (!claimed) {
    throw tokenError('TOKEN_REPLAYED', 'The request token has been used before; mint a fresh one (new jti) per request.');
  }
  return {
    agency: options.agency,
    official,
    purpose,
    caseId,
    subjects,
    requestId: options.requestId,
    certificateThumbprint: options.certificateThumbprint,
    tokenId: jti,
  };
}

