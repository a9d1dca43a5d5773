import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { ConfigError, envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';
import { PURPOSES } from '../policy/purposes.js';
import { parseSubjectKeys, SubjectKeyError, type SubjectKeys } from '../audit/subjectProtection.js';
import type { CheckpointSigner } from '../audit/checkpoint.js';
import type { RetentionPolicy } from '../audit/retention.js';

export interface AccessLogConfig {
  readonly dataDir: string;
  /** SQLite file, used when databaseUrl is not set. */
  readonly sqliteFile: string;
  /** PostgreSQL connection string; when set, PostgreSQL is the store. */
  readonly databaseUrl: string | null;
  readonly pgSchema: string;
  readonly auditKeysPath: string;
  readonly signingKeyPath: string;
  /** This replica's chain id. */
  readonly chainId: string;
  readonly commitTimeoutMs: number;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly retention: RetentionPolicy;
}

const CHAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `PURPOSE=days,...`, with `*=days` for the default. */
function parseRetention(raw: string): RetentionPolicy {
  const byPurpose = new Map<string, number>();
  let defaultDays: number | undefined;
  for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([A-Z_*]+)=(\d+)$/.exec(pair);
    const key = match?.[1];
    const days = Number(match?.[2]);
    if (!key || !Number.isSafeInteger(days) || days < 1) {
      throw new ConfigError([`AUDIT_RETENTION_DAYS: expected PURPOSE=days pairs separated by commas, days a whole number above 0; "${pair}" is not one`]);
    }
    if (key === '*') defaultDays = days;
    else if ((PURPOSES as readonly string[]).includes(key)) byPurpose.set(key, days);
    else throw new ConfigError([`AUDIT_RETENTION_DAYS: "${key}" is not a purpose; expected one of ${PURPOSES.join(', ')} or *`]);
  }
  if (defaultDays === undefined) throw new ConfigError(['AUDIT_RETENTION_DAYS: a default (*=days) is required so every purpose has a retention period']);
  return { defaultDays, byPurpose };
}

/** Reads and validates the access log's environment. Reads no files: keys are loaded by loadAuditKeys/loadSigningKey. */
export function loadAccessLogConfig(env: NodeJS.ProcessEnv = process.env): AccessLogConfig {
  const raw = parseEnv(
    {
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      DATABASE_URL: envField
        .optionalString()
        .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// or postgresql:// connection string'),
      AUDIT_PG_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier').default('access_log'),
      // Like every other key path, these default to files under CERTS_DIR.
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      AUDIT_KEYS_PATH: envField.optionalString(),
      GATEWAY_SIGNING_KEY_PATH: envField.optionalString(),
      AUDIT_CHAIN_ID: z.string().regex(CHAIN_ID, 'expected 1-64 characters A-Z a-z 0-9 . _ - (the replica id)').default(hostname().slice(0, 64)),
      AUDIT_COMMIT_TIMEOUT_MS: envField.positiveInt(2000),
      AUDIT_CHECKPOINT_EVERY: envField.positiveInt(1000),
      AUDIT_CHECKPOINT_INTERVAL_MS: envField.positiveInt(60_000),
      // Five years unless a purpose says otherwise; the agency's own retention decision (gallringsbeslut) should set these.
      AUDIT_RETENTION_DAYS: envField.string('*=1825'),
    },
    env,
  );
  const dataDir = resolveFromRoot(raw.DATA_DIR);
  return {
    dataDir,
    sqliteFile: path.join(dataDir, 'access-log.db'),
    databaseUrl: raw.DATABASE_URL ?? null,
    pgSchema: raw.AUDIT_PG_SCHEMA,
    auditKeysPath: resolveFromRoot(raw.AUDIT_KEYS_PATH ?? path.join(resolveFromRoot(raw.CERTS_DIR), 'audit-keys.json')),
    signingKeyPath: resolveFromRoot(raw.GATEWAY_SIGNING_KEY_PATH ?? path.join(resolveFromRoot(raw.CERTS_DIR), 'gateway-signing.jwk.json')),
    chainId: raw.AUDIT_CHAIN_ID,
    commitTimeoutMs: raw.AUDIT_COMMIT_TIMEOUT_MS,
    checkpointEvery: raw.AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: raw.AUDIT_CHECKPOINT_INTERVAL_MS,
    retention: parseRetention(raw.AUDIT_RETENTION_DAYS),
  };
}

function readJsonFile(variable: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${variable}: cannot read ${file} (${code ?? 'error'}); run \`npm run certs\` for development keys`]);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError([`${variable}: ${file} is not valid JSON`]);
  }
}

function issuesOf(variable: string, file: string, error: z.ZodError): ConfigError {
  return new ConfigError(error.issues.map((issue) => `${variable}: ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
}

const auditKeysFile = z.object({
  subjectEncryptionKey: z.string({ error: 'expected a base64 string' }),
  subjectHmacKey: z.string({ error: 'expected a base64 string' }),
});

/** The subject encryption and HMAC keys from AUDIT_KEYS_PATH. */
export function loadAuditKeys(file: string, variable = 'AUDIT_KEYS_PATH'): SubjectKeys {
  const parsed = auditKeysFile.safeParse(readJsonFile(variable, file));
  if (!parsed.success) throw issuesOf(variable, file, parsed.error);
  try {
    return parseSubjectKeys(parsed.data);
  } catch (error) {
    if (error instanceof SubjectKeyError) throw new ConfigError([`${variable}: ${file}: ${error.message}`]);
    throw error;
  }
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');
const ecPublicJwk = z.object({
  kty: z.literal('EC', { error: 'expected kty "EC" (ES256 needs a P-256 key)' }),
  crv: z.literal('P-256', { error: 'expected crv "P-256"' }),
  x: b64url,
  y: b64url,
  kid: z.string().optional(),
});
const signingKeyFile = z.object({
  privateJwk: ecPublicJwk.extend({ d: b64url }),
  publicJwk: ecPublicJwk.extend({ d: z.undefined({ error: 'the public JWK must not contain the private member d' }).optional() }),
});

export interface GatewaySigningKey {
  readonly signer: CheckpointSigner;
  readonly publicJwk: JWK;
}

/** The gateway's ES256 key pair from GATEWAY_SIGNING_KEY_PATH: signs checkpoints; its public half verifies them. */
export async function loadSigningKey(file: string, variable = 'GATEWAY_SIGNING_KEY_PATH'): Promise<GatewaySigningKey> {
  const parsed = signingKeyFile.safeParse(readJsonFile(variable, file));
  if (!parsed.success) throw issuesOf(variable, file, parsed.error);
  const { privateJwk, publicJwk } = parsed.data;
  if (privateJwk.x !== publicJwk.x || privateJwk.y !== publicJwk.y) {
    throw new ConfigError([`${variable}: ${file}: privateJwk and publicJwk are not the same key pair`]);
  }
  const kid = publicJwk.kid ?? (await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y }));
  let privateKey: CryptoKey;
  try {
    privateKey = (await importJWK({ kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y, d: privateJwk.d }, 'ES256')) as CryptoKey;
  } catch {
    throw new ConfigError([`${variable}: ${file}: privateJwk is not a valid P-256 private key`]);
  }
  return { signer: { privateKey, kid }, publicJwk: { kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y, kid, alg: 'ES256' } };
}

/** Only the public half, for verification where the private key is not (and should not be) present. */
export async function loadSigningPublicKey(file: string, variable = 'GATEWAY_SIGNING_KEY_PATH'): Promise<JWK> {
  const parsed = z.object({ publicJwk: signingKeyFile.shape.publicJwk }).safeParse(readJsonFile(variable, file));
  if (!parsed.success) throw issuesOf(variable, file, parsed.error);
  const { x, y } = parsed.data.publicJwk;
  const kid = parsed.data.publicJwk.kid ?? (await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x, y }));
  return { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256' };
}
