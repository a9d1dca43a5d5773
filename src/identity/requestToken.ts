import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, type GatewayErrorDetails } from '../errors/index.js';
import { containsPersonnummer, InvalidPersonnummerError, parsePersonnummer } from '../personnummer/index.js';
import { isPurpose } from '../policy/purposes.js';
import type { AgencyIdentity, CallerContext } from './callerContext.js';
import type { ReplayCache } from './replayCache.js';
import { DEFAULT_TOKEN_AUDIENCE } from '../config/identityDefaults.js';
import {
  checkAudience,
  checkBinding,
  checkTimes,
  claimTokenId,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  identifierClaim,
  invalidClaim as invalidTokenClaim,
  requireClaims,
  verifiedClaims,
} from './boundToken.js';

export { algorithmsForKey } from './compactJws.js';

/**
 * The request token: a short-lived JWT the calling agency's system signs with the private key of
 * its client certificate, stating who acts (a pseudonymous official), in which case, for which
 * purpose and about whom. Bound to the certificate (RFC 8705 `cnf.x5t#S256`), it cannot be used
 * over any other TLS connection than the one that presents that certificate.
 */

export { DEFAULT_TOKEN_AUDIENCE };
export const MAX_TOKEN_LIFETIME_SECONDS = 300;
export { DEFAULT_CLOCK_TOLERANCE_SECONDS };
export const MAX_SUBJECTS = 100;
export const MAX_CASE_LENGTH = 100;
export const MAX_ID_LENGTH = 200;

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

const KIND = 'request token';

const invalidClaim = (claim: string, message: string, details: GatewayErrorDetails = {}) => invalidTokenClaim(KIND, claim, message, details);

/** The token from `Authorization: Bearer <jwt>`; undefined when there is none. */
export function requestTokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match?.[1]) throw new GatewayError('TOKEN_INVALID', 'The Authorization header must be "Bearer <token>".');
  return match[1];
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
  if (jwt === undefined || jwt.trim() === '') throw new GatewayError('TOKEN_MISSING', 'A request token (Authorization: Bearer <jwt>) is required.');
  const claims = verifiedClaims(jwt.trim(), options.certificatePublicKey, KIND);
  requireClaims(claims, REQUIRED_CLAIMS, KIND);

  if (claims['iss'] !== options.agency.organisationNumber) {
    throw new GatewayError('TOKEN_ISSUER_MISMATCH', 'The request token "iss" is not the organisation number of the client certificate.', {
      agency: options.agency.id,
    });
  }
  checkBinding(claims, options.certificateThumbprint, KIND);
  checkAudience(claims, options.audience ?? DEFAULT_TOKEN_AUDIENCE, KIND);
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const times = checkTimes(claims, { now: options.now ?? new Date(), toleranceSeconds: tolerance, maxLifetimeSeconds: MAX_TOKEN_LIFETIME_SECONDS, kind: KIND });

  const purpose = claims['purpose'];
  if (!isPurpose(purpose)) throw invalidClaim('purpose', 'is not a registered purpose.');
  const caseId = identifierClaim(claims, 'case', MAX_CASE_LENGTH, KIND);
  const official = identifierClaim(claims, 'sub', MAX_ID_LENGTH, KIND);
  // Both are kept in plain text in every access-log entry of the request (and the case id in
  // some errors): a personnummer in any spelling there would be one outside the encrypted column.
  if (containsPersonnummer(official)) throw invalidClaim('sub', 'must be a pseudonymous id, with no personnummer in it.');
  if (containsPersonnummer(caseId)) throw invalidClaim('case', 'must not contain a personnummer; the case\'s subjects go in "subjects".');
  const subjects = subjectsOf(claims['subjects']);
  const jti = identifierClaim(claims, 'jti', MAX_ID_LENGTH, KIND);

  // Scoped by issuer: ids are unique per agency, and one agency must not be able to burn another's.
  await claimTokenId(options.replayCache, `${options.agency.organisationNumber}/${jti}`, times, tolerance, KIND);
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
