import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

/**
 * The gateway's own signing key: it signs the caller context the gateway forwards to subgraphs,
 * which verify it with the public half. ES256 keeps those per-request signatures small and fast.
 */
export const GATEWAY_SIGNING_ALGORITHM = 'ES256';

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
  readonly publicJwk: JWK;
}

const ecJwk = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() });
const fileSchema = z.object({
  alg: z.literal(GATEWAY_SIGNING_ALGORITHM),
  kid: z.string().min(1),
  privateJwk: ecJwk.extend({ d: z.string() }),
  publicJwk: ecJwk,
});

export async function generateGatewaySigningKeyFile(): Promise<GatewaySigningKeyFile> {
  const { privateKey, publicKey } = await generateKeyPair(GATEWAY_SIGNING_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const use = { kid, alg: GATEWAY_SIGNING_ALGORITHM, use: 'sig' };
  return { alg: GATEWAY_SIGNING_ALGORITHM, kid, privateJwk: { ...(await exportJWK(privateKey)), ...use }, publicJwk: { ...publicJwk, ...use } };
}

/** Reads and imports the key file; throws naming the file when it is unreadable or not an ES256 key pair. */
export async function readGatewaySigningKey(file: string): Promise<GatewaySigningKey> {
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new Error(`${file}: not a gateway signing key file (${error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message})`);
  }
  const privateKey = await importJWK(parsed.privateJwk, GATEWAY_SIGNING_ALGORITHM);
  const publicKey = await importJWK(parsed.publicJwk, GATEWAY_SIGNING_ALGORITHM);
  if (!('type' in privateKey) || !('type' in publicKey)) throw new Error(`${file}: expected an asymmetric key pair.`);
  if (parsed.kid !== (await calculateJwkThumbprint(parsed.publicJwk))) throw new Error(`${file}: kid is not the thumbprint of the public key.`);
  return { alg: parsed.alg, kid: parsed.kid, privateKey, publicKey, publicJwk: parsed.publicJwk };
}

/**
 * A subgraph needs only the gateway's public key: it reads `publicJwk` from the same file format,
 * so a deployment can hand subgraphs a file without `privateJwk`.
 */
export async function readGatewayPublicKey(file: string): Promise<CryptoKey> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read the gateway signing key (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run \`npm run certs\`.`);
  }
  const parsed = z.object({ publicJwk: ecJwk }).safeParse(json);
  if (!parsed.success) throw new Error(`${file}: publicJwk must be an EC P-256 JWK.`);
  return (await importJWK(parsed.data.publicJwk, GATEWAY_SIGNING_ALGORITHM)) as CryptoKey;
}
