import { loadAccessLogConfig, type AccessLogConfig } from './accessLogConfig.js';
import { loadAuditApiConfig, type AuditApiConfig } from './auditApiConfig.js';
import type { ConfiguredFile } from './configuredFiles.js';
import { loadGatewayConfig, type GatewayConfig } from './gatewayConfig.js';
import { loadIdentityConfig, type IdentityConfig } from './identityConfig.js';
import { loadListenerLimits, type ListenerLimits } from './listenerConfig.js';
import { loadObservabilityConfig, type ObservabilityConfig } from './observabilityConfig.js';
import { ConfigError } from './parseEnv.js';
import { loadRedisSettings, type RedisSettings } from './redisConfig.js';
import { loadSubgraphConfig, type SubgraphConfig } from './subgraphConfig.js';
import { loadTransparencyConfig, type TransparencyConfig } from './transparencyConfig.js';

/**
 * The environment, read once at the CLI edge (src/cli/) into one typed, readonly tree; every
 * library module takes its slice as a parameter and none reads process.env. Each slice keeps its
 * own loader (loadGatewayConfig, loadAccessLogConfig, ...) for the commands and tests that need
 * only that part; the trees below are what a service reads at start.
 */

/** What the gateway process runs on: the gateway, its identity material, the access log, Redis, the audit API. */
export interface ExchangeConfig {
  readonly observability: ObservabilityConfig;
  /** Listener, mode, supergraph, agreements, trusted documents, and (`gateway.limits`) every limit including the listener's. */
  readonly gateway: GatewayConfig;
  readonly identity: IdentityConfig;
  readonly accessLog: AccessLogConfig;
  /** The access log as a transparency log: its note key, the witnesses and their quorum. */
  readonly transparency: TransparencyConfig;
  /** How Redis is used; whether it is (REDIS_URL) is `gateway.limits.redisUrl`. */
  readonly redis: RedisSettings;
  readonly auditApi: AuditApiConfig;
  /** Every file or directory a variable points at, for requireConfiguredFiles before anything is opened. */
  readonly files: readonly ConfiguredFile[];
}

/** What one agency subgraph process runs on. */
export interface SubgraphProcessConfig {
  readonly observability: ObservabilityConfig;
  readonly subgraph: SubgraphConfig;
  readonly listener: ListenerLimits;
  readonly files: readonly ConfiguredFile[];
}

type Loaded<T> = { readonly [K in keyof T]: () => T[K] };

/**
 * Runs every slice's loader and reports all their problems in one ConfigError, so an operator
 * fixes every variable in one pass rather than one per restart. Anything else (an unknown
 * agency, say) is not a configuration problem and is thrown as it is.
 */
function loadAll<T>(loaders: Loaded<T>): T {
  const problems: string[] = [];
  const tree: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(loaders) as (keyof T)[]) {
    try {
      tree[key] = loaders[key]();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return Object.freeze(tree) as T;
}

/** The gateway process's configuration; a bad value anywhere fails start-up naming its variable. */
export function loadExchangeConfig(env: NodeJS.ProcessEnv = process.env): ExchangeConfig {
  const slices = loadAll<Omit<ExchangeConfig, 'files'>>({
    observability: () => loadObservabilityConfig(env),
    gateway: () => loadGatewayConfig(env),
    identity: () => loadIdentityConfig(env),
    accessLog: () => loadAccessLogConfig(env),
    transparency: () => loadTransparencyConfig(env),
    redis: () => loadRedisSettings(env),
    auditApi: () => loadAuditApiConfig(env),
  });
  return Object.freeze({ ...slices, files: [...slices.gateway.files, ...slices.identity.files] });
}

/** One reference agency's subgraph process (`agencyId` from its command line). */
export function loadSubgraphProcessConfig(agencyId: string | undefined, env: NodeJS.ProcessEnv = process.env): SubgraphProcessConfig {
  const slices = loadAll<Omit<SubgraphProcessConfig, 'files'>>({
    subgraph: () => loadSubgraphConfig(agencyId, env),
    observability: () => loadObservabilityConfig(env),
    listener: () => loadListenerLimits(env),
  });
  return Object.freeze({ ...slices, files: slices.subgraph.files });
}

export { ConfigError } from './parseEnv.js';
export { requireConfiguredFiles, type ConfiguredFile } from './configuredFiles.js';
export type { AccessLogConfig, AuditApiConfig, GatewayConfig, IdentityConfig, ListenerLimits, ObservabilityConfig, RedisSettings, SubgraphConfig, TransparencyConfig };
