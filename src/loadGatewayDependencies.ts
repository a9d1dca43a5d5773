import { readFileSync } from 'node:fs';
import type { PartitionEvent } from './audit/store/postgresPartitions.js';
import type { GatewayDependencies } from './gatewayDependencies.js';
import type { IdentityConfig } from './config/identityConfig.js';
import { AgencyRegistryHolder, MemoryReplayCache, TrustStore, officerAudience, openOfficialRegistry, readGatewaySigningKey, type OfficialRegistryHolder } from './identity/index.js';
import { loadAgreements, type Agreement } from './policy/agreements.js';
import { openAccessLogFromConfig, type OpenedAccessLog } from './audit/openAccessLog.js';
import type { AccessLogConfig } from './config/accessLogConfig.js';
import { witnessVerifiers, type TransparencyConfig } from './config/transparencyConfig.js';
import type { AuditApiConfig } from './config/auditApiConfig.js';
import { createAuditRoute } from './audit-api/auditRoutes.js';
import { TrustedDocuments } from './trusted-documents/manifest.js';
import type { AccessLogEvent } from './audit/accessLog.js';
import type { WitnessingEvent } from './audit/witnessing.js';
import type { LogVerificationEvent } from './audit/verify.js';
import { RedisReplayCache } from './identity/redisReplayCache.js';
import { connectSharedRedis } from './redis/sharedRedis.js';
import type { RedisSettings } from './config/redisConfig.js';
import { loadSupergraphSdl } from './apollo/supergraph.js';

export interface LoadedDependencies extends GatewayDependencies {
  /** The opened access log: its store, keys and public checkpoint key (the audit API reads through them). */
  readonly openedAccessLog: OpenedAccessLog;
  readonly registry: AgencyRegistryHolder;
  readonly officials: OfficialRegistryHolder;
  /** Re-reads the agreements (SIGHUP); an invalid file keeps the previous agreements and throws. */
  reloadAgreements(): void;
  /** Releases files, watchers and the access log. */
  close(): Promise<void>;
}

/**
 * Reads every file the gateway depends on and fails start-up naming the file if one is missing
 * or invalid. The registry, the CRL and the agreements are watched and reloaded without restart;
 * a broken reload keeps the last good version and says so.
 */
export async function loadGatewayDependencies(options: {
  identity: IdentityConfig;
  agreementsPath: string;
  accessLog: AccessLogConfig;
  /** The log's note key and the witnesses that cosign its checkpoints. */
  transparency: TransparencyConfig;
  /** The audit API and console at /audit. */
  audit: AuditApiConfig;
  onWarning?: (message: string) => void;
  /** PostgreSQL's month partitions of the access log created or dropped, a failed maintenance run: the process log (serveGateway.ts). */
  onPartitionEvent?: (event: PartitionEvent) => void;
  /** Directory of per-agency trusted document manifests; without it every document is ad hoc. */
  trustedDocumentsDir?: string;
  /** REDIS_URL: request-token ids are then remembered in Redis, so a replay is refused by every replica. */
  redis?: { readonly url: string; readonly prefix: string; readonly settings?: RedisSettings } | null;
}): Promise<LoadedDependencies> {
  const warn = options.onWarning ?? ((message: string) => console.error(message));
  const registry = new AgencyRegistryHolder(options.identity.agencyRegistryPath, {
    watch: true,
    onError: (error) => warn(`agency registry reload refused: ${error.message}`),
  });
  const officials = openOfficialRegistry(options.identity.officialRegistryPath, registry, {
    watch: true,
    onError: (error) => warn(`officials registry reload refused: ${error.message}`),
  });
  const trust = new TrustStore(options.identity.trust, { watch: true, onError: (error) => warn(`trust store reload refused: ${error.message}`) });
  const knownAgencies = new Set(registry.agencies.map((a) => a.id));
  let agreements: Agreement[] = loadAgreements(options.agreementsPath, knownAgencies);
  const signingKey = await readGatewaySigningKey(options.identity.gatewaySigningKeyPath);
  const trustedDocuments = options.trustedDocumentsDir === undefined ? undefined : new TrustedDocuments(options.trustedDocumentsDir);
  const accessLogListeners = new Set<(event: AccessLogEvent) => void>();
  const witnessListeners = new Set<(event: WitnessingEvent) => void>();
  const verificationListeners = new Set<(event: LogVerificationEvent) => void>();
  const opened = await openAccessLogFromConfig({
    config: options.accessLog,
    transparency: options.transparency,
    onEvent: (event) => {
      for (const listener of accessLogListeners) listener(event);
    },
    // A witness's refusal, an unreachable witness, a store that drops cosignatures: the gateway's process log and metrics (createGateway subscribes).
    onWitnessEvent: (event) => {
      for (const listener of witnessListeners) listener(event);
    },
    ...(options.onPartitionEvent ? { onPartitionEvent: options.onPartitionEvent } : {}),
  });
  const redis = options.redis ? await connectSharedRedis(options.redis.url, options.redis.settings ? { settings: options.redis.settings } : {}) : undefined;
  const replayCache =
    redis && options.redis ? new RedisReplayCache(redis, { prefix: `${options.redis.prefix}:jti`, fallback: options.redis.settings?.replayFallback ?? 'refuse' }) : new MemoryReplayCache();
  const dependencies: LoadedDependencies = {
    trust,
    registry,
    officials,
    replayCache,
    ...(redis ? { redis } : {}),
    tokenAudience: options.identity.tokenAudience,
    signingKey,
    subgraphTls: {
      // The trust store has read the federation CA already: one reading, so both sides trust the same bundle.
      ca: trust.material.ca,
      cert: readFileSync(options.identity.subgraphClient.certPath),
      key: readFileSync(options.identity.subgraphClient.keyPath),
    },
    agreements: () => agreements,
    accessLog: opened.accessLog,
    observeAccessLog(listener) {
      accessLogListeners.add(listener);
      return () => accessLogListeners.delete(listener);
    },
    observeWitnessing(listener) {
      witnessListeners.add(listener);
      return () => witnessListeners.delete(listener);
    },
    observeLogVerification(listener) {
      verificationListeners.add(listener);
      return () => verificationListeners.delete(listener);
    },
    openedAccessLog: opened,
    ...(trustedDocuments ? { trustedDocuments } : {}),
    routes: [
      createAuditRoute({
        registry,
        trust,
        officials,
        signingKey,
        replayCache,
        audience: officerAudience(options.identity.tokenAudience),
        store: opened.store,
        accessLog: opened.accessLog,
        subjectKeys: opened.subjectKeys,
        publicJwks: [opened.publicJwk],
        transparency: { signer: opened.treeSigner, witnesses: witnessVerifiers(opened.transparency.witnesses), quorum: opened.transparency.quorum },
        config: options.audit,
        supergraphSdl: loadSupergraphSdl(options.audit.supergraphPath).sdl,
        onLogVerification: (event) => {
          for (const listener of verificationListeners) listener(event);
        },
      }),
    ],
    reloadAgreements() {
      agreements = loadAgreements(options.agreementsPath, new Set(registry.agencies.map((a) => a.id)));
    },
    async close() {
      registry.close();
      officials.close();
      trust.close();
      await opened.accessLog.close();
      // After the log: its last tree head may still be on its way to the witnesses.
      await opened.witnessing.close();
      await redis?.close();
    },
  };
  return dependencies;
}
