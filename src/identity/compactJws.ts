import { constants, verify, type KeyObject, type SigningOptions } from 'node:crypto';

/**
 * Verification of a JWS in compact serialisation (RFC 7515 §7.1) against one known public key,
 * synchronously with node:crypto. The gateway verifies a request token on every request; jose
 * does it through WebCrypto, an asynchronous job on the thread pool that, on the one core a
 * gateway process gets, costs several times the CPU of the RSA verification itself.
 *
 * Deliberately narrower than RFC 7515: the key is never taken from the header (`jwk`, `jku`,
 * `x5u`, `kid` are ignored), only algorithms the key can have produced are accepted (no `none`,
 * no HMAC with the public key as secret), and a header naming `crit` extensions is refused, as
 * none is understood here (RFC 7515 §4.1.11), `b64` included.
 */

/** Why a JWS was refused: its form, its algorithm, or its signature. */
export type JwsProblem = 'MALFORMED' | 'CRITICAL_HEADER' | 'ALGORITHM_NOT_ALLOWED' | 'KEY_TOO_SHORT' | 'SIGNATURE_INVALID';

export class JwsVerificationError extends Error {
  constructor(
    readonly problem: JwsProblem,
    message: string,
  ) {
    super(message);
    this.name = 'JwsVerificationError';
  }
}

/** node:crypto verification parameters of each JWS algorithm (RFC 7518 §3, RFC 8037). */
const ALGORITHMS: Readonly<Record<string, { readonly hash: string | null; readonly options: SigningOptions }>> = {
  RS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { hash: 'sha512', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
  Ed25519: { hash: null, options: {} },
};

/** The JWS algorithms a key can have produced; everything else (HS256 with the public key, "none") is refused. */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'PS256'];
    case 'rsa-pss':
      return ['PS256'];
    case 'ec':
      return ({ prime256v1: ['ES256'], secp384r1: ['ES384'], secp521r1: ['ES512'] } as Record<string, string[]>)[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? [];
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** RFC 7518 §3.3 and §3.5: shorter RSA keys are refused, as jose does. */
const MIN_RSA_MODULUS_BITS = 2048;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(UTF8.decode(Buffer.from(part, 'base64url')));
  } catch {
    return undefined;
  }
}

/** A JWS whose signature verified: its protected header, as checked here, and its payload bytes. */
export interface VerifiedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Buffer;
}

/** Verifies the signature with `key`; throws JwsVerificationError. */
export function verifyCompactJws(jws: string, key: KeyObject): VerifiedJws {
  const parts = jws.split('.');
  if (parts.length !== 3 || !BASE64URL.test(parts[0]!) || !BASE64URL.test(parts[1]!)) {
    throw new JwsVerificationError('MALFORMED', 'Not a JWS in compact serialisation (three base64url parts).');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JwsVerificationError('MALFORMED', 'The JWS protected header is not a JSON object.');
  if ('crit' in header) throw new JwsVerificationError('CRITICAL_HEADER', 'The JWS names critical header extensions, which are not supported.');
  const alg = (header as Record<string, unknown>)['alg'];
  if (typeof alg !== 'string') throw new JwsVerificationError('MALFORMED', 'The JWS protected header has no "alg".');
  const algorithm = algorithmsForKey(key).includes(alg) ? ALGORITHMS[alg] : undefined;
  if (!algorithm) throw new JwsVerificationError('ALGORITHM_NOT_ALLOWED', `The key cannot have produced a ${alg} signature.`);
  if ((key.asymmetricKeyDetails?.modulusLength ?? MIN_RSA_MODULUS_BITS) < MIN_RSA_MODULUS_BITS) {
    throw new JwsVerificationError('KEY_TOO_SHORT', `RSA keys shorter than ${MIN_RSA_MODULUS_BITS} bits are not accepted.`);
  }
  let valid = false;
  if (BASE64URL.test(encodedSignature)) {
    try {
      valid = verify(algorithm.hash, Buffer.from(`${encodedHeader}.${encodedPayload}`), { key, ...algorithm.options }, Buffer.from(encodedSignature, 'base64url'));
    } catch {
      // A signature of the wrong length or encoding for the key is simply not its signature.
    }
  }
  if (!valid) throw new JwsVerificationError('SIGNATURE_INVALID', 'The JWS signature does not verify with the key.');
  return { header: header as Record<string, unknown>, payload: Buffer.from(encodedPayload, 'base64url') };
}
