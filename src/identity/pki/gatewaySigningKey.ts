import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import { ConfigError } from '../../config/parseEnv.js';
import { keyFileProblems, readJsonKeyFile } from './keyFile.js';

/**
 * The gateway's own signing key: it signs the caller context the gateway forwards to subgraphs
 * (which verify it with the public half), the privacy officers' sessions and the access log's
 * checkpoints. ES256 keeps those per-request signatures small and fast.
 *
 * This module is the file's one reader: the gateway, the access log, the audit CLI and the
 * subgraphs all read it here, so a key accepted by one is accepted by all.
 */
export const GATEWAY_SIGNING_ALGORITHM = 'ES256';

const DEFAULT_VARIABLE = 'GATEWAY_SIGNING_KEY_PATH';

export interface GatewaySigningKeyFile {
  readonly alg: typeof GATEWAY_SIGNING_ALGORITHM;
  /** RFC 7638 thumbprint of the public key, also set as `kid` in both JWKs. */
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

export interface GatewaySigningKey {
  readonly alg: typeof GATEWAY_SIGNING_ALGORITHM;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public half as published (checkpoint verification, the audit API's JWKS): kty, crv, x, y, kid, alg. */
  readonly publicJwk: JWK;
}

export async function generateGatewaySigningKeyFile(): Promise<GatewaySigningKeyFile> {
  const { privateKey, publicKey } = await generateKeyPair(GATEWAY_SIGNING_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const use = { kid, alg: GATEWAY_SIGNING_ALGORITHM, use: 'sig' };
  return { alg: GATEWAY_SIGNING_ALGORITHM, kid, privateJwk: { ...(await exportJWK(privateKey)), ...use }, publicJwk: { ...publicJwk, ...use } };
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');
const ecPublicJwk = z.looseObject({
  kty: z.literal('EC', { error: 'expected kty "EC" (ES256 needs a P-256 key)' }),
  crv: z.literal('P-256', { error: 'expected crv "P-256"' }),
  x: b64url,
  y: b64url,
  kid: z.string().optional(),
});
const publicJwkSchema = ecPublicJwk.extend({ d: z.undefined({ error: 'the public JWK must not contain the private member d' }).optional() });
// `alg` and `kid` are written by `npm run certs`; a deployment's own file may leave them out.
const signingKeyFile = z.object({
  alg: z.literal(GATEWAY_SIGNING_ALGORITHM, { error: `expected alg "${GATEWAY_SIGNING_ALGORITHM}"` }).optional(),
  kid: z.string().min(1).optional(),
  privateJwk: ecPublicJwk.extend({ d: b64url }),
  publicJwk: publicJwkSchema,
});

type EcPublicJwk = z.infer<typeof ecPublicJwk>;

/** The published form of the public key; `kid` is the file's, or the RFC 7638 thumbprint. */
async function publishedJwk(variable: string, file: string, jwk: EcPublicJwk, declaredKid: string | undefined): Promise<JWK> {
  const thumbprint = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  const kid = declaredKid ?? jwk.kid ?? thumbprint;
  if (declaredKid !== undefined && declaredKid !== thumbprint) throw new ConfigError([`${variable}: ${file}: kid is not the thumbprint of the public key`]);
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: GATEWAY_SIGNING_ALGORITHM };
}

/** Reads the key pair; a ConfigError names the variable, the file and what is wrong with it. */
export async function readGatewaySigningKey(file: string, variable = DEFAULT_VARIABLE): Promise<GatewaySigningKey> {
  const parsed = signingKeyFile.safeParse(readJsonKeyFile(variable, file));
  if (!parsed.success) throw keyFileProblems(variable, file, parsed.error);
  const { privateJwk, publicJwk } = parsed.data;
  if (privateJwk.x !== publicJwk.x || privateJwk.y !== publicJwk.y) {
    throw new ConfigError([`${variable}: ${file}: privateJwk and publicJwk are not the same key pair`]);
  }
  const published = await publishedJwk(variable, file, publicJwk, parsed.data.kid);
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y, d: privateJwk.d }, GATEWAY_SIGNING_ALGORITHM)) as CryptoKey;
  } catch {
    throw new ConfigError([`${variable}: ${file}: privateJwk is not a valid P-256 private key`]);
  }
  return { alg: GATEWAY_SIGNING_ALGORITHM, kid: published.kid!, privateKey, publicKey: await importPublic(variable, file, published), publicJwk: published };
}

/**
 * Only the public half, where the private key is not (and should not be) present: a subgraph, the
 * audit CLI's verification. A deployment can hand those a file without `privateJwk`.
 */
export async function readGatewayPublicJwk(file: string, variable = DEFAULT_VARIABLE): Promise<JWK> {
  const parsed = z.object({ kid: signingKeyFile.shape.kid, publicJwk: publicJwkSchema }).safeParse(readJsonKeyFile(variable, file));
  if (!parsed.success) throw keyFileProblems(variable, file, parsed.error);
  return publishedJwk(variable, file, parsed.data.publicJwk, parsed.data.kid);
}

/** The public half as a key, for verifying the gateway's context tokens (the subgraph kit). */
export async function readGatewayPublicKey(file: string, variable = DEFAULT_VARIABLE): Promise<CryptoKey> {
  return importPublic(variable, file, await readGatewayPublicJwk(file, variable));
}

async function importPublic(variable: string, file: string, jwk: JWK): Promise<CryptoKey> {
  try {
    return (await importJWK(jwk, GATEWAY_SIGNING_ALGORITHM)) as CryptoKey;
  } catch {
    throw new ConfigError([`${variable}: ${file}: publicJwk is not a valid P-256 public key`]);
  }
}
