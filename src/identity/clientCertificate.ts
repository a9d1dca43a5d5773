import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { GatewayError, type GatewayErrorCode } from '../errors/index.js';
import { readCertificateFields } from './pki/certificateFields.js';
import { OID } from './pki/oids.js';
import { normaliseSerialNumber } from './pki/serialNumbers.js';
import { organisationNumberInSubject, type CertificateOrganisationNumber } from './organisationNumber.js';
import { hsaIdInSubject, type CertificateHsaId } from './hsaId.js';
import type { AgencyRegistry, RegisteredAgency } from './registry.js';
import type { ClientCertificateTrust } from './trustStore.js';

/**
 * Client certificate → agency. Runs on every request, before the request token is looked at:
 * the token is only meaningful once we know whose key must have signed it.
 */

export interface VerifiedClientCertificate {
  readonly agency: RegisteredAgency;
  /** RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER certificate. */
  readonly thumbprint: string;
  /** The key the request token must be signed with. */
  readonly publicKey: KeyObject;
  readonly certificate: X509Certificate;
  readonly serialNumber: string;
  /**
   * The HSA-id of an official's personal certificate (subject serialNumber); undefined for an
   * agency's system certificate. See ./hsaId.ts.
   */
  readonly hsaId: string | undefined;
}

export interface ClientCertificateInput {
  readonly certificate: X509Certificate | undefined;
  /** `socket.authorizationError`: OpenSSL's verdict when the server does not reject unauthorised peers. */
  readonly authorizationError: Error | string | null | undefined;
  readonly registry: AgencyRegistry;
  readonly trust: ClientCertificateTrust;
  readonly now?: Date;
}

/**
 * OpenSSL verification codes (as Node reports them in authorizationError) and what they mean
 * for the caller. Anything not listed is CLIENT_CERTIFICATE_INVALID with the code as reason.
 */
const OPENSSL_CODES: Readonly<Record<string, GatewayErrorCode>> = {
  CERT_HAS_EXPIRED: 'CLIENT_CERTIFICATE_EXPIRED',
  CERT_NOT_YET_VALID: 'CLIENT_CERTIFICATE_NOT_YET_VALID',
  CERT_REVOKED: 'CLIENT_CERTIFICATE_REVOKED',
  INVALID_PURPOSE: 'CLIENT_CERTIFICATE_WRONG_USAGE',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'CLIENT_CERTIFICATE_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT: 'CLIENT_CERTIFICATE_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'CLIENT_CERTIFICATE_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'CLIENT_CERTIFICATE_UNTRUSTED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'CLIENT_CERTIFICATE_UNTRUSTED',
  CERT_SIGNATURE_FAILURE: 'CLIENT_CERTIFICATE_UNTRUSTED',
  CERT_UNTRUSTED: 'CLIENT_CERTIFICATE_UNTRUSTED',
  CERT_REJECTED: 'CLIENT_CERTIFICATE_UNTRUSTED',
  INVALID_CA: 'CLIENT_CERTIFICATE_UNTRUSTED',
  PATH_LENGTH_EXCEEDED: 'CLIENT_CERTIFICATE_UNTRUSTED',
  CERT_CHAIN_TOO_LONG: 'CLIENT_CERTIFICATE_UNTRUSTED',
  // The gateway's own revocation data is at fault, not the client: see REVOCATION_STATUS_UNAVAILABLE.
  UNABLE_TO_GET_CRL: 'REVOCATION_STATUS_UNAVAILABLE',
  CRL_HAS_EXPIRED: 'REVOCATION_STATUS_UNAVAILABLE',
  CRL_NOT_YET_VALID: 'REVOCATION_STATUS_UNAVAILABLE',
  CRL_SIGNATURE_FAILURE: 'REVOCATION_STATUS_UNAVAILABLE',
  UNABLE_TO_DECRYPT_CRL_SIGNATURE: 'REVOCATION_STATUS_UNAVAILABLE',
  UNABLE_TO_GET_CRL_ISSUER: 'REVOCATION_STATUS_UNAVAILABLE',
  ERROR_IN_CRL_LAST_UPDATE_FIELD: 'REVOCATION_STATUS_UNAVAILABLE',
  ERROR_IN_CRL_NEXT_UPDATE_FIELD: 'REVOCATION_STATUS_UNAVAILABLE',
};

const MESSAGES: Partial<Record<GatewayErrorCode, string>> = {
  CLIENT_CERTIFICATE_REQUIRED: 'A client certificate issued by the federation CA is required.',
  CLIENT_CERTIFICATE_UNTRUSTED: 'The client certificate is not issued by a CA the federation trusts.',
  CLIENT_CERTIFICATE_EXPIRED: 'The client certificate has expired.',
  CLIENT_CERTIFICATE_NOT_YET_VALID: 'The client certificate is not valid yet.',
  CLIENT_CERTIFICATE_REVOKED: 'The client certificate has been revoked.',
  CLIENT_CERTIFICATE_WRONG_USAGE: 'The client certificate is not issued for TLS client authentication (extended key usage clientAuth).',
  CLIENT_CERTIFICATE_INVALID: 'The client certificate cannot be used.',
  REVOCATION_STATUS_UNAVAILABLE: 'The revocation status of client certificates cannot be checked right now.',
};

function certificateError(code: GatewayErrorCode, reason?: string): GatewayError {
  return new GatewayError(code, MESSAGES[code] ?? 'The client certificate cannot be used.', { ...(reason ? { reason } : {}) });
}

function opensslCode(error: Error | string): string {
  return typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? error.message);
}

/** base64url SHA-256 of the DER certificate (RFC 8705 `x5t#S256`). */
export function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * What a certificate says whatever the time, the CRL and the registry: whether a trusted CA
 * signed it, its validity window, key purposes and organisation number. Working this out costs
 * a signature verification and a DER parse, so it is done once per certificate and CA bundle
 * rather than on every request; what can change while a connection is open (the clock, the
 * CRL, the registry) is still checked per request.
 */
interface CertificateFacts {
  readonly thumbprint: string;
  readonly trusted: boolean;
  readonly validFrom: number;
  readonly validTo: number;
  /** Undefined when a field is in an encoding we do not read (e.g. a UniversalString name). */
  readonly fields: { readonly clientAuth: boolean; readonly named: CertificateOrganisationNumber; readonly hsaId: CertificateHsaId } | undefined;
  /** The key the request token must be signed with. */
  readonly publicKey: KeyObject;
  readonly serialNumber: string;
}

/** Past this many certificates per CA bundle the cache starts over (a federation has far fewer agency certificates). */
const MAX_CACHED_CERTIFICATES = 4096;

/**
 * Keyed by the CA bundle (the authorities array: a reload makes a new one, so no verdict outlives
 * the bundle it was reached with), then by the certificate's SHA-256 thumbprint.
 */
const factsByAuthorities = new WeakMap<readonly X509Certificate[], Map<string, CertificateFacts>>();

function certificateFacts(certificate: X509Certificate, authorities: readonly X509Certificate[]): CertificateFacts {
  const thumbprint = certificateThumbprint(certificate);
  let cache = factsByAuthorities.get(authorities);
  if (!cache) factsByAuthorities.set(authorities, (cache = new Map()));
  const cached = cache.get(thumbprint);
  if (cached) return cached;
  let fields: CertificateFacts['fields'];
  try {
    const read = readCertificateFields(certificate.raw);
    // Stricter than RFC 5280, where a certificate without the extension may serve any purpose:
    // agency certificates are issued for clientAuth explicitly, and server certificates must not pass.
    fields = { clientAuth: read.extendedKeyUsage?.includes(OID.clientAuth) ?? false, named: organisationNumberInSubject(read.subject), hsaId: hsaIdInSubject(read.subject) };
  } catch {
    fields = undefined;
  }
  const facts: CertificateFacts = {
    thumbprint,
    trusted: authorities.some((authority) => certificate.checkIssued(authority) && certificate.verify(authority.publicKey)),
    validFrom: Date.parse(certificate.validFrom),
    validTo: Date.parse(certificate.validTo),
    fields,
    publicKey: certificate.publicKey,
    serialNumber: normaliseSerialNumber(certificate.serialNumber),
  };
  if (cache.size >= MAX_CACHED_CERTIFICATES) cache.clear();
  cache.set(thumbprint, facts);
  return facts;
}

/**
 * Verifies the peer certificate and finds its agency, or throws a GatewayError with the exact
 * reason. OpenSSL's verdict comes first; the same properties are then checked again here,
 * because a connection outlives a CRL update and a resumed TLS session carries the verdict of its
 * first handshake.
 */
export function verifyClientCertificate(input: ClientCertificateInput): VerifiedClientCertificate {
  const { certificate } = input;
  if (!certificate) throw certificateError('CLIENT_CERTIFICATE_REQUIRED');
  if (input.authorizationError) {
    const code = opensslCode(input.authorizationError);
    throw certificateError(OPENSSL_CODES[code] ?? 'CLIENT_CERTIFICATE_INVALID', code);
  }

  const now = (input.now ?? new Date()).getTime();
  const facts = certificateFacts(certificate, input.trust.authorities);
  if (!facts.trusted) throw certificateError('CLIENT_CERTIFICATE_UNTRUSTED');
  if (facts.validFrom > now) throw certificateError('CLIENT_CERTIFICATE_NOT_YET_VALID');
  if (facts.validTo < now) throw certificateError('CLIENT_CERTIFICATE_EXPIRED');
  if (input.trust.isRevoked(certificate)) throw certificateError('CLIENT_CERTIFICATE_REVOKED');
  if (!facts.fields) throw certificateError('CLIENT_CERTIFICATE_INVALID', 'UNREADABLE_FIELDS');
  if (!facts.fields.clientAuth) throw certificateError('CLIENT_CERTIFICATE_WRONG_USAGE');
  // A certificate authority's certificate (CA:TRUE) may sign others; it is no agency's system,
  // whatever usages it also lists (docs/pki.md: agency certificates are end entities).
  if (certificate.ca) throw new GatewayError('CLIENT_CERTIFICATE_WRONG_USAGE', "A certificate authority's certificate cannot act as an agency's system.", { reason: 'CA_CERTIFICATE' });

  // The organisation number stays out of the error: for a sole trader it is a personnummer.
  const named = facts.fields.named;
  if ('problem' in named) throw certificateError('CLIENT_CERTIFICATE_INVALID', named.problem);
  // An official's HSA-id names the employer too: a certificate naming two organisations proves neither.
  const personal = facts.fields.hsaId;
  if (personal && 'problem' in personal) throw certificateError('CLIENT_CERTIFICATE_INVALID', personal.problem);
  if (personal && personal.organisationNumber !== named.organisationNumber) throw certificateError('CLIENT_CERTIFICATE_INVALID', 'CONFLICTING_ORGANISATION_NUMBERS');
  const agency = input.registry.byOrganisationNumber(named.organisationNumber);
  if (!agency) throw new GatewayError('AGENCY_NOT_REGISTERED', 'The organisation in the client certificate is not registered in the federation.');
  if (agency.status === 'SUSPENDED') {
    throw new GatewayError('AGENCY_SUSPENDED', `Agency ${agency.id} is suspended from the federation.`, { agency: agency.id });
  }
  return { agency, thumbprint: facts.thumbprint, publicKey: facts.publicKey, certificate, serialNumber: facts.serialNumber, hsaId: personal?.hsaId };
}

/** verifyClientCertificate for the TLS socket of a request (server with requestCert, rejectUnauthorized false). */
export function verifyTlsClient(socket: TLSSocket, context: { readonly registry: AgencyRegistry; readonly trust: ClientCertificateTrust; readonly now?: Date }): VerifiedClientCertificate {
  return verifyClientCertificate({
    certificate: socket.getPeerX509Certificate(),
    authorizationError: socket.authorizationError as Error | string | null | undefined,
    ...context,
  });
}
