import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { certificateThumbprint } from '../identity/clientCertificate.js';
import { organisationNumberInSubject } from '../identity/organisationNumber.js';
import { readCertificateFields } from '../identity/pki/certificateFields.js';
import { algorithmsForKey, DEFAULT_TOKEN_AUDIENCE } from '../identity/requestToken.js';
import type { Purpose } from '../policy/purposes.js';

export interface RequestTokenClaims {
  /** Pseudonymous id of the acting official: never a name or personnummer. */
  readonly official: string;
  readonly purpose: Purpose;
  readonly caseId: string;
  /** Personnummer the case concerns (12 digits, with or without hyphen). */
  readonly subjects: readonly string[];
}

export interface MintRequestTokenOptions extends RequestTokenClaims {
  /** The agency's client certificate: the token is bound to it and issued in its organisation's name. */
  readonly certificate: X509Certificate | string;
  /** The certificate's private key, which signs the token. */
  readonly privateKey: KeyObject | string;
  readonly audience?: string;
  /** Default 60 s: long enough for clock skew, short enough to be useless if captured. */
  readonly lifetimeSeconds?: number;
  readonly now?: Date;
}

/** The organisation number the certificate names, which is what the gateway expects as `iss`. */
export function organisationNumberOfCertificate(certificate: X509Certificate): string {
  const named = organisationNumberInSubject(readCertificateFields(certificate.raw).subject);
  if ('problem' in named) throw new Error(`The client certificate does not name one Swedish organisation number (${named.problem}).`);
  return named.organisationNumber;
}

/** Mints a fresh certificate-bound request token: one per request, as the gateway refuses a reused jti. */
export async function mintRequestToken(options: MintRequestTokenOptions): Promise<string> {
  const certificate = typeof options.certificate === 'string' ? new X509Certificate(options.certificate) : options.certificate;
  const privateKey = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  const [alg] = algorithmsForKey(privateKey);
  if (!alg) throw new TypeError(`A ${privateKey.asymmetricKeyType ?? 'symmetric'} key cannot sign request tokens.`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({
    purpose: options.purpose,
    case: options.caseId,
    subjects: [...options.subjects],
    cnf: { 'x5t#S256': certificateThumbprint(certificate) },
  })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(organisationNumberOfCertificate(certificate))
    .setSubject(options.official)
    .setAudience(options.audience ?? DEFAULT_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetimeSeconds ?? 60))
    .setJti(randomUUID())
    .sign(privateKey);
}
