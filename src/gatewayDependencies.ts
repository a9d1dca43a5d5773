import type { AccessLogEvent, AccessLogSink } from './audit/accessLog.js';
import type { LogVerificationEvent } from './audit/verify.js';
import type { WitnessingEvent } from './audit/witnessing.js';
import type { SubgraphTlsOptions } from './apollo/subgraphTransport.js';
import type { ErrorLogger } from './errors/maskErrors.js';
import type { GatewayRoute } from './http/routes.js';
import type { AgencyRegistry, GatewaySigningKey, OfficialRegistry, ReplayCache, TrustStore } from './identity/index.js';
import type { RateLimiter } from './limits/index.js';
import type { Logger } from './observability/logger.js';
import type { GatewayMetrics } from './observability/metrics.js';
import type { Agreement } from './policy/agreements.js';
import type { SharedRedis } from './redis/sharedRedis.js';
import type { TrustedDocuments } from './trusted-documents/manifest.js';

/** What the composition root (createGateway.ts) is given: the opened files, stores and connections it wires. */
export interface GatewayDependencies {
  /** Federation CA, CRL and the gateway's server certificate; reloads without restart. */
  readonly trust: TrustStore;
  readonly registry: AgencyRegistry;
  /** Officials with personal certificates: operators (for /metrics), privacy officers, supervisors. */
  readonly officials: OfficialRegistry;
  readonly replayCache: ReplayCache;
  /** The Redis connection at REDIS_URL (loadGatewayDependencies opens it): the replay cache and the rate limiter share it and its circuit breaker. */
  readonly redis?: SharedRedis;
  readonly tokenAudience: string;
  /** Signs the caller context for subgraphs. */
  readonly signingKey: GatewaySigningKey;
  /** The gateway's client certificate towards subgraphs. */
  readonly subgraphTls: SubgraphTlsOptions;
  agreements(): readonly Agreement[];
  readonly accessLog: AccessLogSink & { isHealthy(): boolean };
  /** ISO date agreements are judged on; injectable for tests. */
  today?(): string;
  /** Where unexpected (masked) errors are reported; JSON on stderr by default. */
  readonly logError?: ErrorLogger;
  /** More HTTPS routes on the same mTLS listener (the audit API and console), matched by path prefix. */
  readonly routes?: readonly GatewayRoute[];
  /**
   * Per-agency manifests of trusted documents. When given, requests may name a registered document
   * by `documentId`, and in production mode an agency runs only its registered documents
   * (DOCUMENT_NOT_REGISTERED otherwise). serveGateway always gives them.
   */
  readonly trustedDocuments?: TrustedDocuments;
  /** Structured operational log (pino); warnings and errors to stdout when absent. Never personal data. */
  readonly logger?: Logger;
  /** Prometheus metrics served at /metrics; a fresh registry when absent. */
  readonly metrics?: GatewayMetrics;
  /** Replaces the rate limiter the limits configuration would build (tests, custom stores). */
  readonly rateLimiter?: RateLimiter;
  /** Subscribes to the access log's events (commit latency, availability); returns an unsubscribe. */
  observeAccessLog?(listener: (event: AccessLogEvent) => void): () => void;
  /** Subscribes to the witnessing of tree heads (cosigned, refused, unreachable, not stored); returns an unsubscribe. */
  observeWitnessing?(listener: (event: WitnessingEvent) => void): () => void;
  /** Subscribes to the audit console's full verifications of the log (ok, broken, failed); returns an unsubscribe. */
  observeLogVerification?(listener: (event: LogVerificationEvent) => void): () => void;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly subgraphs: readonly { name: string; url: string }[];
  close(): Promise<void>;
}

/** Every certificate the gateway depends on (read afresh each time: they reload), for expiry warnings and /readyz. */
export function gatewayCertificates(deps: Pick<GatewayDependencies, 'trust' | 'subgraphTls'>): { readonly name: string; readonly pem: string | Buffer }[] {
  return [
    { name: 'gateway-server', pem: deps.trust.material.cert },
    { name: 'gateway-subgraph-client', pem: deps.subgraphTls.cert },
    ...deps.trust.authorities.map((authority, index) => ({ name: `federation-ca-${index + 1}`, pem: authority.toString() })),
  ];
}
