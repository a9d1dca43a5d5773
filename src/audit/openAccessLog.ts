import type { JWK } from 'jose';
import type { AccessLogConfig } from '../config/accessLogConfig.js';
import { readAuditKeys } from '../identity/pki/auditKeys.js';
import { readGatewaySigningKey } from '../identity/pki/gatewaySigningKey.js';
import { AccessLog, type AccessLogEvent } from './accessLog.js';
import type { CheckpointSigner } from './checkpoint.js';
import type { SubjectKeys } from './subjectProtection.js';
import type { AccessLogStore } from './store/AccessLogStore.js';
import { PostgresAccessLogStore } from './store/postgresStore.js';
import type { PartitionEvent } from './store/postgresPartitions.js';
import { SqliteAccessLogStore } from './store/sqliteStore.js';
import { loadLogNoteSigner, readWitnessCa, type TransparencyConfig } from '../config/transparencyConfig.js';
import type { NoteSigner } from '../transparency/note.js';
import { Witnessing, type WitnessingEvent } from './witnessing.js';

/** PostgreSQL when DATABASE_URL is set, else the SQLite file under DATA_DIR. */
export async function openAccessLogStore(
  config: AccessLogConfig,
  options: { readonly onPoolError?: (error: Error) => void; readonly onPartitionEvent?: (event: PartitionEvent) => void } = {},
): Promise<AccessLogStore> {
  if (config.databaseUrl !== null) {
    return PostgresAccessLogStore.open({
      connectionString: config.databaseUrl,
      schema: config.pgSchema,
      statementTimeoutMs: config.commitTimeoutMs,
      applicationName: `access-log:${config.chainId}`,
      ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
      ...(options.onPartitionEvent ? { onPartitionEvent: options.onPartitionEvent } : {}),
    });
  }
  // The writer thread's busy wait stays inside the commit bound, so a lock held elsewhere fails the commit, not the thread.
  return SqliteAccessLogStore.open({ file: config.sqliteFile, busyTimeoutMs: Math.min(config.commitTimeoutMs, 1000) });
}

export interface OpenedAccessLog {
  readonly accessLog: AccessLog;
  readonly store: AccessLogStore;
  readonly subjectKeys: SubjectKeys;
  readonly signer: CheckpointSigner;
  /** For verifying checkpoints (and publishing, so auditors can verify without the gateway). */
  readonly publicJwk: JWK;
  readonly config: AccessLogConfig;
  /** The log's note key: its verifier key is what citizens and witnesses are given. */
  readonly treeSigner: NoteSigner;
  readonly transparency: TransparencyConfig;
  /** Sends each signed tree head to the witnesses; close it after the access log. */
  readonly witnessing: Witnessing;
}

/**
 * The checkpoint signer and the public key that verifies its checkpoints: the gateway's signing
 * key (GATEWAY_SIGNING_KEY_PATH), read by its one reader.
 */
export async function loadSigningKey(file: string, variable?: string): Promise<{ readonly signer: CheckpointSigner; readonly publicJwk: JWK }> {
  const key = await readGatewaySigningKey(file, variable);
  return { signer: { privateKey: key.privateKey, kid: key.kid }, publicJwk: key.publicJwk };
}

/**
 * Everything the gateway needs for the log, from its configuration: keys loaded and checked,
 * store opened (tables created), writer ready. Fails start-up with a ConfigError naming the
 * variable if a key file is missing or malformed.
 */
export async function openAccessLogFromConfig(options: {
  readonly config: AccessLogConfig;
  readonly transparency: TransparencyConfig;
  readonly onEvent?: (event: AccessLogEvent) => void;
  readonly onWitnessEvent?: (event: WitnessingEvent) => void;
  readonly onPoolError?: (error: Error) => void;
  /** PostgreSQL's month partitions created, dropped, or a failed maintenance run (postgresPartitions.ts). */
  readonly onPartitionEvent?: (event: PartitionEvent) => void;
}): Promise<OpenedAccessLog> {
  const { config, transparency } = options;
  const subjectKeys = readAuditKeys(config.auditKeysPath);
  const { signer, publicJwk } = await loadSigningKey(config.signingKeyPath);
  const treeSigner = loadLogNoteSigner(transparency);
  const ca = readWitnessCa(transparency);
  const store = await openAccessLogStore(config, {
    ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
    ...(options.onPartitionEvent ? { onPartitionEvent: options.onPartitionEvent } : {}),
  });
  const witnessing = new Witnessing({
    store,
    witnesses: transparency.witnesses,
    quorum: transparency.quorum,
    timeoutMs: transparency.witnessTimeoutMs,
    ...(ca ? { ca } : {}),
    ...(options.onWitnessEvent ? { onEvent: options.onWitnessEvent } : {}),
  });
  const onEvent = options.onEvent;
  const accessLog = new AccessLog({
    store,
    chainId: config.chainId,
    subjectKeys,
    signer,
    checkpointEvery: config.checkpointEvery,
    checkpointIntervalMs: config.checkpointIntervalMs,
    commitTimeoutMs: config.commitTimeoutMs,
    ownsStore: true,
    treeSigner,
    treeHeadIntervalMs: transparency.treeHeadIntervalMs,
    onEvent: (event) => {
      if (event.type === 'tree-head') witnessing.submit(event.head);
      onEvent?.(event);
    },
  });
  return { accessLog, store, subjectKeys, signer, publicJwk, config, treeSigner, transparency, witnessing };
}
