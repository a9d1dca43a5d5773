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

export interface MintRequestTokenOptions extends RequestTokenClaims, TokenSigner {
  /** (certificate) The agency's client certificate: the token is bound to it and issued in its organisation's name; (privateKey) its key, which signs. */
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

/** The certificate and key a bound token is signed for and with, PEM text or parsed. */
export interface TokenSigner {
  readonly certificate: X509Certificate | string;
  readonly privateKey: KeyObject | string;
}

/**
 * Signs a certificate-bound JWT (RFC 8705 `cnf.x5t#S256`) with the certificate's key: the common
 * part of partners' request tokens and officers' tokens. A fresh jti each time.
 */
export async function signBoundToken(
  signer: TokenSigner,
  token: {
    readonly issuer: (certificate: X509Certificate) => string;
    readonly subject: string;
    readonly audience: string;
    readonly claims: Record<string, unknown>;
    readonly lifetimeSeconds: number;
    readonly now?: Date;
  },
): Promise<string> {
  const certificate = typeof signer.certificate === 'string' ? new X509Certificate(signer.certificate) : signer.certificate;
  const privateKey = typeof signer.privateKey === 'string' ? createPrivateKey(signer.privateKey) : signer.privateKey;
  const [alg] = algorithmsForKey(privateKey);
  if (!alg) throw new TypeError(`A ${privateKey.asymmetricKeyType ?? 'symmetric'} key cannot sign tokens.`);
  const iat = Math.floor((token.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ ...token.claims, cnf: { 'x5t#S256': certificateThumbprint(certificate) } })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(token.issuer(certificate))
    .setSubject(token.subject)
    .setAudience(token.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + token.lifetimeSeconds)
    .setJti(randomUUID())
    .sign(privateKey);
}

/** Mints a fresh certificate-bound request token: one per request, as the gateway refuses a reused jti. */
export async function mintRequestToken(options: MintRequestTokenOptions): Promise<string> {
  return signBoundToken(options, {
    issuer: organisationNumberOfCertificate,
    subject: options.official,
    audience: options.audience ?? DEFAULT_TOKEN_AUDIENCE,
    claims: { purpose: options.purpose, case: options.caseId, subjects: [...options.subjects] },
    lifetimeSeconds: options.lifetimeSeconds ?? 60,
    ...(options.now ? { now: options.now } : {}),
  });
}
