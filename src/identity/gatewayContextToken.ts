import { createHash, createPublicKey, KeyObject, randomUUID, sign } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { JwsVerificationError, verifyCompactJws, type JwsProblem, type VerifiedJws } from './compactJws.js';
import { GatewayError } from '../errors/index.js';
import type { CallerContext } from './callerContext.js';
import { CATEGORIES, isPurpose, type PersonalDataCategory } from '../policy/purposes.js';
import type { ReplayCache } from './replayCache.js';

export const GATEWAY_CONTEXT_ISSUER = 'agency-exchange-gateway';
const LIFETIME_SECONDS = 60;
const CLOCK_TOLERANCE_SECONDS = 5;

type Key = CryptoKey | KeyObject | JWK | Uint8Array;

/** What a subgraph may rely on: the verified caller and what the agreements allow for this owner. */
export interface SubgraphCallContext {
  readonly caller: CallerContext;
  /** Whether an agreement lets this caller see address/contact data of persons with protected identity. */
  readonly protectedIdentityAccess: boolean;
  /** The data categories agreements in force let this caller receive from this owner for the purpose. */
  readonly categories: ReadonlySet<PersonalDataCategory>;
  /**
   * Personal fields of other owners this subgraph serves through `@provides` that the caller may
   * receive (their owner declares the purpose and an agreement with the owner covers them).
   */
  readonly provided?: ReadonlySet<string>;
}

/** The one subgraph request a context token is for: what the gateway sends in the body. */
export interface SubgraphRequestBody {
  readonly query?: string | undefined;
  readonly operationName?: string | null | undefined;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
}

/**
 * The hash binding a token to one subgraph request (`bh`): the query, the operation name and the
 * variables, as JSON the receiving side reproduces from the body it parsed. A captured token then
 * fetches nothing but what the gateway fetched with it.
 *
 * The query enters by its own SHA-256: a query plan sends the same few fetch documents over and
 * over, so their digests are remembered and each call hashes only its small variables.
 */
export function subgraphRequestHash(body: SubgraphRequestBody, variablesJson?: string): string {
  if (variablesJson === undefined || body.variables === undefined || body.variables === null) {
    return createHash('sha256')
      .update(JSON.stringify([queryDigest(body.query ?? ''), body.operationName ?? null, body.variables ?? {}]))
      .digest('base64url');
  }
  // The same JSON text, with the variables as the caller already serialised them for the body.
  return createHash('sha256')
    .update(`[${JSON.stringify(queryDigest(body.query ?? ''))},${JSON.stringify(body.operationName ?? null)},${variablesJson}]`)
    .digest('base64url');
}

/** Past this many distinct queries the remembered digests start over. */
const MAX_QUERY_DIGESTS = 1024;
const queryDigests = new Map<string, string>();

function queryDigest(query: string): string {
  let digest = queryDigests.get(query);
  if (digest === undefined) {
    digest = createHash('sha256').update(query).digest('base64url');
    if (queryDigests.size >= MAX_QUERY_DIGESTS) queryDigests.clear();
    queryDigests.set(query, digest);
  }
  return digest;
}

const GATEWAY_CONTEXT_TYPE = 'gateway-context+jwt';
const PROTECTED_HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: GATEWAY_CONTEXT_TYPE })).toString('base64url');

/**
 * Signs the verified caller context for one subgraph call (audience = the subgraph), so a
 * subgraph trusts the gateway's verification instead of headers a client could set. Each call
 * gets its own token: a fresh id (`jti`, single use at the subgraph) and the hash of the request
 * it carries (`bh`), so a captured token can be neither replayed nor put to another query.
 *
 * The compact JWS is assembled here and signed synchronously with node:crypto rather than with
 * jose: the gateway signs one token per request and subgraph, and jose's WebCrypto path (an async
 * job on the thread pool, a claims builder, a fresh Uint8Array per part) costs about three times
 * the CPU of the same ES256 signature. The token is the same compact JWS (RFC 7515, ES256 with
 * the signature in IEEE P1363 form) that jose made, so subgraphs verify it with jose as before.
 */
export function signGatewayContext(privateKey: KeyObject | CryptoKey, subgraph: string, context: SubgraphCallContext, request: SubgraphRequestBody | null): string {
  const claims = `${callerClaimsJson(context.caller)},${allowanceClaimsJson(context)}`;
  // null only for the benchmark's engines without an identity layer (one token per case; see acceptUnboundTokens).
  return signGatewayContextClaims(privateKey, subgraph, claims, request ? subgraphRequestHash(request) : null);
}

/**
 * The caller's claims of a context token as JSON object members (no braces): the same in every
 * token of one request, so a signer may serialise them once per request.
 */
export function callerClaimsJson(caller: CallerContext): string {
  const members = JSON.stringify({
    agency: caller.agency,
    official: caller.official,
    purpose: caller.purpose,
    case: caller.caseId,
    subjects: caller.subjects,
    rid: caller.requestId,
    x5t: caller.certificateThumbprint,
    tid: caller.tokenId,
  });
  return members.slice(1, -1);
}

/**
 * What the agreements allow, as JSON object members (no braces): the same for every call to one
 * owner by one client for one purpose, so a signer may serialise them once per allowance.
 */
export function allowanceClaimsJson(allowance: Omit<SubgraphCallContext, 'caller'>): string {
  const members = JSON.stringify({
    pia: allowance.protectedIdentityAccess,
    cats: [...allowance.categories],
    ...(allowance.provided && allowance.provided.size > 0 ? { prov: [...allowance.provided] } : {}),
  });
  return members.slice(1, -1);
}

/**
 * signGatewayContext with the caller's and the allowance's claims already serialised
 * (callerClaimsJson, allowanceClaimsJson, joined by a comma): what varies per call (`bh`, `jti`,
 * `aud`, the times) is added here, so each token is still its own, bound to its call.
 */
export function signGatewayContextClaims(privateKey: KeyObject | CryptoKey, subgraph: string, contextClaims: string, requestHash: string | null): string {
  const iat = Math.floor(Date.now() / 1000);
  const claims = `{${contextClaims},"bh":${JSON.stringify(requestHash)},"jti":"${randomUUID()}","iss":${ISSUER_JSON},"aud":${JSON.stringify(subgraph)},"iat":${iat},"exp":${iat + LIFETIME_SECONDS}}`;
  const signingInput = `${PROTECTED_HEADER}.${Buffer.from(claims).toString('base64url')}`;
  const key = p256KeyObject(privateKey, 'private');
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

const ISSUER_JSON = JSON.stringify(GATEWAY_CONTEXT_ISSUER);

export interface ContextVerification {
  readonly publicKey: Key;
  /** This subgraph's name: the token's audience. */
  readonly subgraph: string;
  /** The request the token came with, as parsed from its body. */
  readonly body: SubgraphRequestBody;
  /** Single use: a token id seen before is refused. */
  readonly replayCache: ReplayCache;
  /**
   * Benchmarks only: accept tokens that are reused and bound to no request, as the benchmark's
   * engines without an identity layer send them. Never in production.
   */
  readonly acceptUnboundTokens?: boolean;
}

const invalid = (reason: string, message: string) => new GatewayError('GATEWAY_CONTEXT_INVALID', message, { reason });

/**
 * Verifies a gateway context token in a subgraph; any problem is GATEWAY_CONTEXT_INVALID (401) with
 * a `reason`: `missing`, `malformed`, `signature`, `type`, `issuer`, `audience`, `expired`,
 * `not-yet-valid`, `claims`, `binding`, `replayed`.
 *
 * Verified synchronously with node:crypto (compactJws.ts), as the gateway verifies request tokens:
 * a subgraph verifies one token per call, and jose's WebCrypto path costs several times the CPU.
 */
export async function verifyGatewayContext(token: string | undefined, verification: ContextVerification): Promise<SubgraphCallContext> {
  if (!token) throw invalid('missing', 'This subgraph accepts calls from the gateway only: the gateway context token is missing.');
  const { payload, iat, exp } = verifiedContextClaims(token, p256KeyObject(verification.publicKey, 'public'), verification.subgraph);
  const agency = payload['agency'] as CallerContext['agency'] | undefined;
  const purpose = payload['purpose'];
  const subjects = payload['subjects'];
  const categories = payload['cats'];
  const jti = payload['jti'];
  const provided = payload['prov'] ?? [];
  if (
    !agency ||
    typeof agency.id !== 'string' ||
    !isPurpose(purpose) ||
    !Array.isArray(subjects) ||
    !subjects.every((s) => typeof s === 'string') ||
    !Array.isArray(categories) ||
    !categories.every((c) => (CATEGORIES as readonly unknown[]).includes(c)) ||
    typeof jti !== 'string' ||
    !Array.isArray(provided) ||
    !provided.every((c) => typeof c === 'string')
  ) {
    throw invalid('claims', 'The gateway context token lacks required claims.');
  }
  if (!verification.acceptUnboundTokens) {
    if (payload['bh'] !== subgraphRequestHash(verification.body)) throw invalid('binding', 'The gateway context token was issued for another request.');
    const claim = {
      id: `${verification.subgraph}/${jti}`,
      issuedAt: new Date(iat * 1000),
      acceptableUntil: new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000),
      clockToleranceMs: CLOCK_TOLERANCE_SECONDS * 1000,
    };
    if (!(await verification.replayCache.claim(claim))) {
      throw invalid('replayed', 'The gateway context token has been used before.');
    }
  }
  return {
    caller: {
      agency: { id: agency.id, name: String(agency.name), organisationNumber: String(agency.organisationNumber) },
      official: String(payload['official']),
      purpose,
      caseId: String(payload['case']),
      subjects: subjects as string[],
      requestId: String(payload['rid']),
      certificateThumbprint: String(payload['x5t']),
      tokenId: String(payload['tid']),
    },
    protectedIdentityAccess: payload['pia'] === true,
    categories: new Set(categories as PersonalDataCategory[]),
    provided: new Set(provided as string[]),
  };
}

const keyObjects = { private: new WeakMap<object, KeyObject>(), public: new WeakMap<object, KeyObject>() };

/**
 * The gateway's EC P-256 key as node:crypto takes it, converted and checked once per key object:
 * the gateway signs, and each subgraph verifies, one token per subgraph call.
 */
function p256KeyObject(key: Key, type: 'private' | 'public'): KeyObject {
  let known = keyObjects[type].get(key);
  if (!known) {
    const converted = key instanceof KeyObject ? key : key instanceof Uint8Array ? undefined : isCryptoKey(key) ? KeyObject.from(key) : createPublicKey({ key: key as JWK as never, format: 'jwk' });
    known = checkedP256(converted, type);
    keyObjects[type].set(key, known);
  }
  return known;
}

function checkedP256(key: KeyObject | undefined, type: 'private' | 'public'): KeyObject {
  if (!key || key.type !== type || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError(`The gateway context is ${type === 'private' ? "signed with the gateway's EC P-256 (ES256) private key" : "verified with the gateway's EC P-256 public key"}.`);
  }
  return key;
}

function isCryptoKey(key: object): key is CryptoKey {
  return typeof globalThis.CryptoKey === 'function' && key instanceof globalThis.CryptoKey;
}

const JWS_REASONS: Record<JwsProblem, string> = {
  MALFORMED: 'malformed',
  CRITICAL_HEADER: 'malformed',
  ALGORITHM_NOT_ALLOWED: 'signature',
  KEY_TOO_SHORT: 'signature',
  SIGNATURE_INVALID: 'signature',
};

/** The signature, type, issuer, audience and lifetime of a context token; its payload when all hold. */
function verifiedContextClaims(token: string, key: KeyObject, subgraph: string): { readonly payload: Record<string, unknown>; readonly iat: number; readonly exp: number } {
  let verified: VerifiedJws;
  try {
    verified = verifyCompactJws(token, key);
  } catch (error) {
    if (!(error instanceof JwsVerificationError)) throw error;
    const reason = JWS_REASONS[error.problem];
    throw invalid(reason, `The gateway context token is not valid (${reason}).`);
  }
  const { header } = verified;
  const payload = parseJsonObject(verified.payload);
  if (!payload) throw invalid('malformed', 'The gateway context token is not valid (malformed).');
  if (header['typ'] !== GATEWAY_CONTEXT_TYPE) throw invalid('type', 'The gateway context token is not valid (type).');
  if (payload['iss'] !== GATEWAY_CONTEXT_ISSUER) throw invalid('issuer', 'The gateway context token is not valid (issuer).');
  const audience = payload['aud'];
  if (!(audience === subgraph || (Array.isArray(audience) && audience.includes(subgraph)))) throw invalid('audience', 'The gateway context token is not valid (audience).');
  const { exp, iat, nbf } = payload;
  if (typeof exp !== 'number' || typeof iat !== 'number' || (nbf !== undefined && typeof nbf !== 'number')) throw invalid('claims', 'The gateway context token lacks required claims.');
  const now = Date.now() / 1000;
  if (now > exp + CLOCK_TOLERANCE_SECONDS) throw invalid('expired', 'The gateway context token is not valid (expired).');
  if (iat > now + CLOCK_TOLERANCE_SECONDS || (typeof nbf === 'number' && nbf > now + CLOCK_TOLERANCE_SECONDS)) {
    throw invalid('not-yet-valid', 'The gateway context token is not valid (not-yet-valid).');
  }
  return { payload, iat, exp };
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
