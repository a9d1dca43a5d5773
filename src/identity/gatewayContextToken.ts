import { SignJWT, jwtVerify, errors as joseErrors, type CryptoKey, type KeyObject, type JWK } from 'jose';
import { GatewayError } from '../errors/index.js';
import type { CallerContext } from './callerContext.js';
import { isPurpose } from '../policy/purposes.js';

export const GATEWAY_CONTEXT_ISSUER = 'agency-exchange-gateway';
const LIFETIME_SECONDS = 60;

type Key = CryptoKey | KeyObject | JWK | Uint8Array;

/** What a subgraph may rely on: the verified caller and what the agreements allow for this owner. */
export interface SubgraphCallContext {
  readonly caller: CallerContext;
  /** Whether an agreement lets this caller see address/contact data of persons with protected identity. */
  readonly protectedIdentityAccess: boolean;
}

/**
 * Signs the verified caller context for one subgraph call (audience = the subgraph), so a
 * subgraph trusts the gateway's verification instead of headers a client could set.
 */
export async function signGatewayContext(privateKey: Key, subgraph: string, context: SubgraphCallContext): Promise<string> {
  const { caller } = context;
  return new SignJWT({
    agency: caller.agency,
    official: caller.official,
    purpose: caller.purpose,
    case: caller.caseId,
    subjects: caller.subjects,
    rid: caller.requestId,
    x5t: caller.certificateThumbprint,
    tid: caller.tokenId,
    pia: context.protectedIdentityAccess,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'gateway-context+jwt' })
    .setIssuer(GATEWAY_CONTEXT_ISSUER)
    .setAudience(subgraph)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .sign(privateKey as never);
}

/** Verifies a gateway context token in a subgraph; any problem is GATEWAY_CONTEXT_INVALID (401). */
export async function verifyGatewayContext(token: string | undefined, publicKey: Key, subgraph: string): Promise<SubgraphCallContext> {
  if (!token) throw new GatewayError('GATEWAY_CONTEXT_INVALID', 'This subgraph accepts calls from the gateway only: the gateway context token is missing.');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, publicKey as never, {
      issuer: GATEWAY_CONTEXT_ISSUER,
      audience: subgraph,
      algorithms: ['ES256'],
      typ: 'gateway-context+jwt',
      clockTolerance: 5,
    }));
  } catch (error) {
    const reason = error instanceof joseErrors.JWTExpired ? 'expired' : error instanceof joseErrors.JOSEError ? error.code : 'malformed';
    throw new GatewayError('GATEWAY_CONTEXT_INVALID', `The gateway context token is not valid (${reason}).`, { reason });
  }
  const agency = payload['agency'] as CallerContext['agency'] | undefined;
  const purpose = payload['purpose'];
  const subjects = payload['subjects'];
  if (!agency || typeof agency.id !== 'string' || !isPurpose(purpose) || !Array.isArray(subjects) || !subjects.every((s) => typeof s === 'string')) {
    throw new GatewayError('GATEWAY_CONTEXT_INVALID', 'The gateway context token lacks required claims.', { reason: 'claims' });
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
  };
}
