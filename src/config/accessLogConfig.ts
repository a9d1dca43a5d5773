import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';
import { PURPOSES } from '../policy/purposes.js';

/** How long entries are kept (AUDIT_RETENTION_DAYS); src/audit/retention.ts applies it. */
export interface RetentionPolicy {
  /** Days an entry is kept when its purpose has no rule of its own. */
  readonly defaultDays: number;
  readonly byPurpose: ReadonlyMap<string, number>;
}

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
  for (const pair of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
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

/**
 * Reads and validates the access log's environment. Reads no files: the key files have one reader
 * each, readAuditKeys and readGatewaySigningKey in src/identity/pki/.
 */
export function loadAccessLogConfig(env: NodeJS.ProcessEnv = process.env): AccessLogConfig {
  const raw = parseEnv(
    {
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      DATABASE_URL: envField.optionalString().refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// or postgresql:// connection string'),
      AUDIT_PG_SCHEMA: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier')
        .default('access_log'),
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
