import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors/index.js';
import type { CallerContext } from './callerContext.js';
import { verifyTlsClient } from './clientCertificate.js';
import type { AgencyRegistry } from './registry.js';
import type { ReplayCache } from './replayCache.js';
import { requestTokenFromHeaders, verifyRequestToken } from './requestToken.js';
import type { ClientCertificateTrust } from './trustStore.js';

export interface RequestAuthentication {
  readonly registry: AgencyRegistry;
  readonly trust: ClientCertificateTrust;
  readonly replayCache: ReplayCache;
  /** Expected `aud` of request tokens; DEFAULT_TOKEN_AUDIENCE when absent. */
  readonly audience?: string;
  readonly now?: () => Date;
}

/**
 * Transport → identity for one HTTPS request: the client certificate names the agency, then
 * the request token bound to that certificate names the official, case, purpose and subjects.
 * Throws a GatewayError (401, or 503 when revocation data is unavailable) to be answered as JSON.
 * `caller.agency` is the registry entry, roles included.
 */
export async function authenticateRequest(request: IncomingMessage, requestId: string, authentication: RequestAuthentication): Promise<CallerContext> {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerX509Certificate !== 'function') {
    throw new GatewayError('CLIENT_CERTIFICATE_REQUIRED', 'The gateway accepts requests over mutual TLS only.');
  }
  const now = authentication.now?.() ?? new Date();
  const client = verifyTlsClient(socket as TLSSocket, { registry: authentication.registry, trust: authentication.trust, now });
  // An official's personal certificate is for the gateway's own functions (audit, metrics); it
  // must not act as the agency's system and sign its request tokens.
  if (client.hsaId !== undefined) {
    throw new GatewayError('CLIENT_CERTIFICATE_WRONG_USAGE', "A personal certificate cannot call the partner API; use the agency's system certificate.", { reason: 'PERSONAL_CERTIFICATE' });
  }
  // The registry says which agencies may ask the exchange for data; a supervisor or a data owner
  // only is refused here, before its request token is spent, not at the agreements.
  if (!client.agency.roles.includes('CLIENT')) {
    throw new GatewayError('ROLE_NOT_ALLOWED', 'The agency is not registered as a client of the exchange (role CLIENT).', { agency: client.agency.id, role: 'CLIENT' });
  }
  return verifyRequestToken(requestTokenFromHeaders(request.headers), {
    certificateThumbprint: client.thumbprint,
    certificatePublicKey: client.publicKey,
    agency: client.agency,
    replayCache: authentication.replayCache,
    requestId,
    now,
    ...(authentication.audience === undefined ? {} : { audience: authentication.audience }),
  });
}
