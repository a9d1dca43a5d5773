import { readFileSync } from 'node:fs';
import type { GatewayDependencies } from '../createGateway.js';
import type { IdentityConfig } from '../config/identityConfig.js';
import { AgencyRegistryHolder, MemoryReplayCache, TrustStore, officerAudience, openOfficialRegistry, readGatewaySigningKey, type OfficialRegistryHolder } from '../identity/index.js';
import { loadAgreements, type Agreement } from '../policy/agreements.js';
import { openAccessLogFromConfig, type OpenedAccessLog } from '../audit/openAccessLog.js';
import type { AccessLogConfig } from '../config/accessLogConfig.js';
import { loadAuditApiConfig, type AuditApiConfig } from '../audit-api/config.js';
import { createAuditRoute } from '../audit-api/auditRoutes.js';
import { TrustedDocuments } from '../trusted-documents/manifest.js';
import type { AccessLogEvent } from '../audit/accessLog.js';
import { RedisReplayCache } from '../identity/redisReplayCache.js';
import { connectSharedRedis } from '../redis/sharedRedis.js';
import type { RedisSettings } from '../config/redisConfig.js';

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
  accessLog?: AccessLogConfig;
  /** The audit API and console at /audit; read from the environment when absent. */
  audit?: AuditApiConfig;
  onWarning?: (message: string) => void;
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
  const opened = await openAccessLogFromConfig({
    ...(options.accessLog ? { config: options.accessLog } : {}),
    onEvent: (event) => {
      for (const listener of accessLogListeners) listener(event);
    },
  });
  const redis = options.redis ? await connectSharedRedis(options.redis.url, options.redis.settings ? { settings: options.redis.settings } : {}) : undefined;
  const replayCache = redis && options.redis ? new RedisReplayCache(redis, { prefix: `${options.redis.prefix}:jti`, fallback: options.redis.settings?.replayFallback ?? 'refuse' }) : new MemoryReplayCache();
  const dependencies: LoadedDependencies = {
    trust,
    registry,
    officials,
    replayCache,
    ...(redis ? { redis } : {}),
    tokenAudience: options.identity.tokenAudience,
    signingKey,
    subgraphTls: {
      ca: readFileSync(options.identity.trust.caPath),
      cert: readFileSync(options.identity.subgraphClient.certPath),
      key: readFileSync(options.identity.subgraphClient.keyPath),
    },
    agreements: () => agreements,
    accessLog: opened.accessLog,
    observeAccessLog(listener) {
      accessLogListeners.add(listener);
      return () => accessLogListeners.delete(listener);
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
        transparency: { signer: opened.treeSigner, witnesses: opened.transparency.witnesses.map((w) => w.verifier), quorum: opened.transparency.quorum },
        config: options.audit ?? loadAuditApiConfig(),
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
      await redis?.close();
    },
  };
  return dependencies;
}
