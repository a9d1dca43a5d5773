import { readFileSync } from 'node:fs';
import type { GatewayDependencies } from '../createGateway.js';
import type { IdentityConfig } from '../config/identityConfig.js';
import { AgencyRegistryHolder, MemoryReplayCache, TrustStore, readGatewaySigningKey } from '../identity/index.js';
import { loadAgreements, type Agreement } from '../policy/agreements.js';
import { openAccessLogFromConfig, type OpenedAccessLog } from '../audit/openAccessLog.js';
import type { AccessLogConfig } from '../config/accessLogConfig.js';
import { TrustedDocuments } from '../trusted-documents/manifest.js';

export interface LoadedDependencies extends GatewayDependencies {
  /** The opened access log: its store, keys and public checkpoint key (the audit API reads through them). */
  readonly openedAccessLog: OpenedAccessLog;
  readonly registry: AgencyRegistryHolder;
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
  onWarning?: (message: string) => void;
  /** Directory of per-agency trusted document manifests; without it every document is ad hoc. */
  trustedDocumentsDir?: string;
}): Promise<LoadedDependencies> {
  const warn = options.onWarning ?? ((message: string) => console.error(message));
  const registry = new AgencyRegistryHolder(options.identity.agencyRegistryPath, {
    watch: true,
    onError: (error) => warn(`agency registry reload refused: ${error.message}`),
  });
  const trust = new TrustStore(options.identity.trust, { watch: true, onError: (error) => warn(`trust store reload refused: ${error.message}`) });
  const knownAgencies = new Set(registry.agencies.map((a) => a.id));
  let agreements: Agreement[] = loadAgreements(options.agreementsPath, knownAgencies);
  const signingKey = await readGatewaySigningKey(options.identity.gatewaySigningKeyPath);
  const trustedDocuments = options.trustedDocumentsDir === undefined ? undefined : new TrustedDocuments(options.trustedDocumentsDir);
  const opened = await openAccessLogFromConfig(options.accessLog ? { config: options.accessLog } : {});
  const dependencies: LoadedDependencies = {
    trust,
    registry,
    replayCache: new MemoryReplayCache(),
    tokenAudience: options.identity.tokenAudience,
    signingKey,
    subgraphTls: {
      ca: readFileSync(options.identity.trust.caPath),
      cert: readFileSync(options.identity.subgraphClient.certPath),
      key: readFileSync(options.identity.subgraphClient.keyPath),
    },
    agreements: () => agreements,
    accessLog: opened.accessLog,
    openedAccessLog: opened,
    reloadAgreements() {
      agreements = loadAgreements(options.agreementsPath, new Set(registry.agencies.map((a) => a.id)));
    },
    async close() {
      registry.close();
      trust.close();
      await opened.accessLog.close();
    },
  };
  return dependencies;
}
