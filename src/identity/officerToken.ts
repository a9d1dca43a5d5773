import { KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { GatewayError } from '../errors/index.js';
import { checkAudience, checkBinding, checkTimes, claimTokenId, DEFAULT_CLOCK_TOLERANCE_SECONDS, identifierClaim, invalidClaim, requireClaims, verifiedClaims } from './boundToken.js';
import { containsPersonnummer } from '../personnummer/index.js';
import type { VerifiedClientCertificate } from './clientCertificate.js';
import { officialHoldsRole, OFFICIAL_ROLES, type OfficialRole, type RegisteredOfficial } from './officialRegistry.js';
import type { GatewaySigningKey } from './pki/gatewaySigningKey.js';
import type { ReplayCache } from './replayCache.js';
import { MAX_CASE_LENGTH, MAX_TOKEN_LIFETIME_SECONDS } from './requestToken.js';

/**
 * The officer token: who reads the access log, in which role. Bound to the official's personal
 * certificate (RFC 8705 `cnf.x5t#S256`) like a partner's request token, and verified by the same
 * code (./boundToken.ts). It comes in two forms:
 *
 * - **signed by the official's own certificate key** (a script): `iss` is the certificate's
 *   HSA-id, it lives at most 300 s and is good for one request (its jti is claimed);
 * - **an officer session the gateway issues** (`POST /audit/session`, the console): after the
 *   personal certificate and the registry check, the gateway signs it with its own key, `iss`
 *   is OFFICER_SESSION_ISSUER, and it is reused for the session's few minutes. A browser cannot
 *   sign with the certificate's key from JavaScript; binding keeps a leaked session useless
 *   without that key, which the TLS handshake proves on every connection.
 *
 * Either way the registry decides at every request: the official must still be registered for
 * this certificate's HSA-id and hold the role, and so must their agency.
 */

export const OFFICER_TOKEN_KIND = 'officer token';
export const OFFICER_SESSION_ISSUER = 'agency-exchange-gateway/officer-session';
export const OFFICER_REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'iat', 'exp', 'jti', 'cnf', 'role'] as const;
const MAX_ID_LENGTH = 200;

/** Officer tokens name their own audience, so a partner's request token is never one. */
export function officerAudience(requestTokenAudience: string): string {
  return `${requestTokenAudience}/audit`;
}

export interface VerifiedOfficerToken {
  readonly role: OfficialRole;
  readonly tokenId: string;
  readonly expiresAt: Date;
  /** True for a session the gateway issued, false for a token the official's certificate key signed. */
  readonly session: boolean;
  /** The officer's own case (e.g. a complaint's number), when the token names one. */
  readonly caseId: string | undefined;
}

export interface OfficerTokenVerification {
  /** The personal certificate of this connection, with its agency as the registry reads now. */
  readonly client: VerifiedClientCertificate;
  /** The official the registry has for the certificate's HSA-id. */
  readonly official: RegisteredOfficial;
  /** The gateway's public signing key: it signed the sessions it issued. */
  readonly sessionKey: KeyObject;
  readonly audience: string;
  readonly maxSessionSeconds: number;
  readonly replayCache: ReplayCache;
  readonly now?: Date;
}

/**
 * Checks in a fixed order, each failure with one code: signature (by the gateway for a session,
 * else by the certificate), claims present, binding, audience, times, official, role, replay.
 */
export async function verifyOfficerToken(jwt: string | undefined, options: OfficerTokenVerification): Promise<VerifiedOfficerToken> {
  if (jwt === undefined || jwt.trim() === '') {
    throw new GatewayError('TOKEN_MISSING', 'An officer token is required: open a session (POST /audit/session) or sign one with your personal certificate.');
  }
  const { client, official } = options;
  const hsaId = client.hsaId ?? '';
  // The key is chosen by `iss` before the signature is checked; either way the token must verify
  // with a key the gateway already holds, never one the token names.
  const session = peekIssuer(jwt) === OFFICER_SESSION_ISSUER;
  const claims = session ? verifiedClaims(jwt.trim(), options.sessionKey, OFFICER_TOKEN_KIND, 'the gateway') : verifiedClaims(jwt.trim(), client.publicKey, OFFICER_TOKEN_KIND);
  requireClaims(claims, OFFICER_REQUIRED_CLAIMS, OFFICER_TOKEN_KIND);
  if (!session && claims['iss'] !== hsaId) {
    throw new GatewayError('TOKEN_ISSUER_MISMATCH', 'The officer token "iss" is not the HSA-id of the personal certificate.', { agency: client.agency.id });
  }
  checkBinding(claims, client.thumbprint, OFFICER_TOKEN_KIND);
  checkAudience(claims, options.audience, OFFICER_TOKEN_KIND);
  const times = checkTimes(claims, {
    now: options.now ?? new Date(),
    toleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS,
    maxLifetimeSeconds: session ? options.maxSessionSeconds : MAX_TOKEN_LIFETIME_SECONDS,
    kind: OFFICER_TOKEN_KIND,
  });
  if (identifierClaim(claims, 'sub', MAX_ID_LENGTH, OFFICER_TOKEN_KIND) !== official.id) {
    throw invalidClaim(OFFICER_TOKEN_KIND, 'sub', 'is not the official registered for the personal certificate.');
  }
  const role = claims['role'];
  if (!(OFFICIAL_ROLES as readonly unknown[]).includes(role)) throw invalidClaim(OFFICER_TOKEN_KIND, 'role', `must be one of ${OFFICIAL_ROLES.join(', ')}.`);
  assertRole(official, client, role as OfficialRole);
  const caseId = claims['case'] === undefined ? undefined : identifierClaim(claims, 'case', MAX_CASE_LENGTH, OFFICER_TOKEN_KIND);
  // Logged in plain text with the officer's queries, as a partner's case id is.
  if (caseId !== undefined && containsPersonnummer(caseId)) throw invalidClaim(OFFICER_TOKEN_KIND, 'case', 'must not contain a personnummer.');
  const jti = identifierClaim(claims, 'jti', MAX_ID_LENGTH, OFFICER_TOKEN_KIND);
  // A session is reused for its lifetime by design; a self-signed token is good for one request.
  if (!session) await claimTokenId(options.replayCache, `officer/${hsaId}/${jti}`, times, DEFAULT_CLOCK_TOLERANCE_SECONDS, OFFICER_TOKEN_KIND);
  return { role: role as OfficialRole, tokenId: jti, expiresAt: new Date(times.exp * 1000), session, caseId };
}

/** ROLE_NOT_ALLOWED unless the official, and their agency, hold `role` now. */
export function assertRole(official: RegisteredOfficial, client: VerifiedClientCertificate, role: OfficialRole): void {
  if (!officialHoldsRole(official, client.agency, role)) {
    throw new GatewayError('ROLE_NOT_ALLOWED', `Official ${official.id} of ${client.agency.id} does not hold the role ${role} (officials and agency registries).`, {
      agency: client.agency.id,
      official: official.id,
      role,
    });
  }
}

/** The unverified `iss`, only to choose the key; undefined for anything not a JWS with a JSON payload. */
function peekIssuer(jwt: string): unknown {
  try {
    const payload = jwt.trim().split('.')[1] ?? '';
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    return undefined;
  }
}

/** Signs an officer session for the console: bound to the certificate of the connection that asked for it. */
export async function issueOfficerSession(options: {
  readonly signingKey: GatewaySigningKey;
  readonly client: VerifiedClientCertificate;
  readonly official: RegisteredOfficial;
  readonly role: OfficialRole;
  readonly audience: string;
  readonly lifetimeSeconds: number;
  readonly now?: Date;
}): Promise<{ readonly token: string; readonly expiresAt: Date }> {
  assertRole(options.official, options.client, options.role);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const exp = iat + options.lifetimeSeconds;
  const token = await new SignJWT({ role: options.role, cnf: { 'x5t#S256': options.client.thumbprint } })
    .setProtectedHeader({ alg: options.signingKey.alg, kid: options.signingKey.kid, typ: 'officer-session+jwt' })
    .setIssuer(OFFICER_SESSION_ISSUER)
    .setSubject(options.official.id)
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(options.signingKey.privateKey);
  return { token, expiresAt: new Date(exp * 1000) };
}

/** The gateway's public signing key as node:crypto verifies with it. */
export function sessionVerificationKey(signingKey: GatewaySigningKey): KeyObject {
  return KeyObject.from(signingKey.publicKey);
}
