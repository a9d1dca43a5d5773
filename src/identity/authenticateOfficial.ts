import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../errors/index.js';
import { verifyTlsClient, type VerifiedClientCertificate } from './clientCertificate.js';
import { assertRole } from './officerToken.js';
import type { OfficialRegistry, RegisteredOfficial } from './officialRegistry.js';
import type { AgencyRegistry } from './registry.js';
import type { ClientCertificateTrust } from './trustStore.js';

export interface OfficialAuthentication {
  readonly registry: AgencyRegistry;
  readonly trust: ClientCertificateTrust;
  readonly officials: OfficialRegistry;
  readonly now?: () => Date;
}

export interface IdentifiedOfficial {
  readonly client: VerifiedClientCertificate & { readonly hsaId: string };
  readonly official: RegisteredOfficial;
}

/**
 * Transport → official: the personal certificate (checked like any client certificate: CA, CRL,
 * dates, agency active) and the officials registry entry for its HSA-id. An agency's system
 * certificate is refused here: it proves the agency, not which person is reading.
 */
export function identifyOfficial(request: IncomingMessage, authentication: OfficialAuthentication): IdentifiedOfficial {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerX509Certificate !== 'function') {
    throw new GatewayError('CLIENT_CERTIFICATE_REQUIRED', 'The gateway accepts requests over mutual TLS only.');
  }
  const client = verifyTlsClient(socket as TLSSocket, { registry: authentication.registry, trust: authentication.trust, now: authentication.now?.() ?? new Date() });
  const { hsaId } = client;
  if (hsaId === undefined) {
    throw new GatewayError('PERSONAL_CERTIFICATE_REQUIRED', "This is an agency's system certificate. Officials sign in with their personal certificate (tjänstelegitimation).", {
      agency: client.agency.id,
    });
  }
  const official = authentication.officials.byHsaId(hsaId);
  if (!official || official.agency !== client.agency.id) {
    throw new GatewayError('OFFICIAL_NOT_REGISTERED', 'The holder of this personal certificate is not in the officials registry.', { agency: client.agency.id });
  }
  return { client: { ...client, hsaId }, official };
}

/** /metrics: an official registered as OPERATOR, whose agency holds that role. The certificate is the credential (a scraper cannot sign tokens). */
export function authenticateOperator(request: IncomingMessage, authentication: OfficialAuthentication): IdentifiedOfficial {
  const identified = identifyOfficial(request, authentication);
  assertRole(identified.official, identified.client, 'OPERATOR');
  return identified;
}
