import type { X509Certificate } from 'node:crypto';
import { hsaIdInSubject } from '../identity/hsaId.js';
import { officerAudience } from '../identity/officerToken.js';
import { readCertificateFields } from '../identity/pki/certificateFields.js';
import { DEFAULT_TOKEN_AUDIENCE } from '../identity/requestToken.js';
import { signBoundToken, type TokenSigner } from './mintRequestToken.js';

export interface MintOfficerTokenOptions extends TokenSigner {
  /** The official's id in the officials registry (the gateway checks it against the certificate's HSA-id). */
  readonly official: string;
  readonly role: 'PRIVACY_OFFICER' | 'SUPERVISOR';
  /** The officer's own case, e.g. a complaint's number; recorded with each audit query. */
  readonly caseId?: string;
  /** The gateway's REQUEST_TOKEN_AUDIENCE; the officer audience is derived from it. */
  readonly requestTokenAudience?: string;
  /** Default 60 s; the gateway accepts at most 300. */
  readonly lifetimeSeconds?: number;
  readonly now?: Date;
}

/** The HSA-id a personal certificate names: the `iss` of the officer tokens it signs. */
export function hsaIdOfCertificate(certificate: X509Certificate): string {
  const named = hsaIdInSubject(readCertificateFields(certificate.raw).subject);
  if (named === undefined || 'problem' in named) throw new Error('The certificate is not a personal certificate naming one HSA-id (subject serialNumber).');
  return named.hsaId;
}

/**
 * An officer token for a script reading /audit/graphql with the official's personal certificate:
 * signed with the certificate's key, bound to it, good for one request (mint one per request).
 */
export async function mintOfficerToken(options: MintOfficerTokenOptions): Promise<string> {
  return signBoundToken(options, {
    issuer: hsaIdOfCertificate,
    subject: options.official,
    audience: officerAudience(options.requestTokenAudience ?? DEFAULT_TOKEN_AUDIENCE),
    claims: { role: options.role, ...(options.caseId ? { case: options.caseId } : {}) },
    lifetimeSeconds: options.lifetimeSeconds ?? 60,
    ...(options.now ? { now: options.now } : {}),
  });
}
