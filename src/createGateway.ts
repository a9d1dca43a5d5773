import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import type { GatewayConfig } from './config/gatewayConfig.js';
import { loadSupergraphSdl } from './gateway/loadSupergraph.js';
import { createSubgraphTransport, type SubgraphTlsOptions } from './gateway/subgraphTransport.js';
import { AgencyDataSource } from './gateway/agencyDataSource.js';
import type { GatewayContext } from './gateway/gatewayContext.js';
import { requestIdPlugin } from './gateway/plugins/requestIdPlugin.js';
import { errorLoggingPlugin, type ErrorLogger } from './gateway/plugins/errorLoggingPlugin.js';
import { operationPipelinePlugin } from './gateway/plugins/operationPipelinePlugin.js';
import { withSubjectMarkers } from './gateway/markedGateway.js';
import type { AccessLogSink } from './audit/accessLog.js';
import { personnummerInputCheck } from './gateway/inputValidation/personnummerInputs.js';
import { reservedAliasCheck } from './gateway/inputValidation/reservedAliases.js';
import { createPurposeJudge, purposeCheck } from './gateway/purposeCheck.js';
import { createOperationAnalyser } from './gateway/operationAnalysis.js';
import { resolveDocumentId, trustedDocumentCheck } from './gateway/trustedDocuments.js';
import type { TrustedDocuments } from './trusted-documents/manifest.js';
import { maskUnexpectedError } from './gateway/maskErrors.js';
import { createContextSigner } from './gateway/contextSigner.js';
import { apolloRequestHandler, sendError, sendFailure, sendJson } from './http/apolloRequestHandler.js';
import { ConnectionLimits } from './http/connectionLimits.js';
import { GatewayError } from './errors/index.js';
import { authenticateOperator, authenticateRequest, type AgencyRegistry, type OfficialRegistry, type ReplayCache, type TrustStore, type GatewaySigningKey } from './identity/index.js';
import { readPersonalFieldCatalogue } from './policy/personalFieldCatalogue.js';
import { utcDateClock, type Agreement } from './policy/agreements.js';
import { EXCHANGE_SUBGRAPH } from './composition/referenceSubgraphs.js';
import { createExchangeSchema } from '../resolvers/exchange/index.js';
import { createRequestAdmission, operationLimitCheck, refuseUnservableRequest, requestRefusalPlugin, type RateLimiter } from './limits/index.js';
import { subgraphResilience } from './gateway/subgraphResilience.js';
import type { AccessLogEvent } from './audit/accessLog.js';
import { createLogger, type Logger } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { metricsPlugin } from './observability/metricsPlugin.js';
import { observeSharedRedis } from './observability/observeSharedRedis.js';
import type { SharedRedis } from './redis/sharedRedis.js';
import { accessLogObserver } from './observability/accessLogObserver.js';
import { GatewayOperations, routeLabel } from './observability/gatewayOperations.js';
import { keepVendorTelemetryOff, tracedListener } from './observability/tracing.js';
import { developmentIdeRoute } from './ide/developmentIde.js';

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
}

export interface GatewayRoute {
  /** e.g. `/audit`: matches `/audit` and `/audit/...`. */
  readonly prefix: string;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly subgraphs: readonly { name: string; url: string }[];
  close(): Promise<void>;
}

/**
 * The composition root: the one place every concern is wired. A request reads top to bottom:
 * transport (mutual TLS) → identity (certificate, bound token) → input and purpose checks (before
 * any subgraph is called) → query plan and subgraph calls carrying the signed caller context →
 * access log (committed before release) → response.
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<RunningGateway> {
  const supergraph = loadSupergraphSdl(config.supergraphPath);
  const catalogue = readPersonalFieldCatalogue(supergraph.sdl);
  const today = deps.today ?? utcDateClock();
  const allowPlainHttp = config.mode === 'development';
  const limits = config.limits;
  const logger = deps.logger ?? createLogger({ level: 'warn' });
  const metrics = deps.metrics ?? new GatewayMetrics();
  const stopObservingLog = deps.observeAccessLog?.(accessLogObserver({ metrics, logger }));
  const stopObservingRedis = deps.redis ? observeSharedRedis(deps.redis, { metrics, logger }) : undefined;
  const admission = await createRequestAdmission({ limits, log: deps.accessLog, metrics, logger, ...(deps.rateLimiter ? { rateLimiter: deps.rateLimiter } : {}), ...(deps.redis ? { redis: deps.redis } : {}) });
  const resilience = subgraphResilience({ limits: limits.subgraphs, metrics, logger });

  const transport = createSubgraphTransport({ timeoutMs: config.subgraphTimeoutMs, longestTimeoutMs: Math.max(0, ...limits.subgraphs.timeoutsMs.values()), allowPlainHttp, tls: deps.subgraphTls });
  const subgraphs = supergraph.subgraphs.map(({ name, url }) => ({ name, url: config.subgraphUrlOverrides.get(name) ?? url }));
  for (const { name, url } of subgraphs) {
    if (url.startsWith('http:') && !allowPlainHttp) {
      throw new Error(`Subgraph ${name} has a plain-http URL (${url}); outside GATEWAY_MODE=development subgraphs are reached over mutual TLS only.`);
    }
  }
  const urlOf = new Map(subgraphs.map((s) => [s.name, s.url]));
  // The document-only facts every check and the access log need, worked out once per document.
  const analyse = createOperationAnalyser({ catalogue });
  const judge = createPurposeJudge({ catalogue: () => catalogue, agreements: deps.agreements, today });
  const signContext = createContextSigner({ signingKey: deps.signingKey, agreements: deps.agreements, today, catalogue: () => catalogue });
  keepVendorTelemetryOff();
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    // Spans carry the operation name, never the document text (literals) or error messages.
    telemetry: { includeDocument: false, recordExceptions: false },
    buildService: ({ name, url }) =>
      name === EXCHANGE_SUBGRAPH
        ? new LocalGraphQLDataSource(createExchangeSchema({ catalogue: () => catalogue, agreements: deps.agreements, today }))
        : new AgencyDataSource({
            name,
            url: urlOf.get(name) ?? url ?? '',
            fetcher: transport.fetcherWithTimeout(resilience.timeoutMs(name, config.subgraphTimeoutMs)),
            signContext,
            breaker: resilience.breaker(name),
            observer: resilience.observer,
          }),
  });

  const server = new ApolloServer<GatewayContext>({
    gateway: withSubjectMarkers(gateway, analyse),
    introspection: config.mode === 'development',
    includeStacktraceInErrorResponses: false,
    // Outside development a partner learns nothing of the schema from errors ("Did you mean ...?").
    hideSchemaDetailsFromClientErrors: config.mode !== 'development',
    // One operation per request (the default, stated because the limits depend on it).
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: limits.operation.maxTokens },
    // No automatic persisted queries: any caller could fill the gateway's memory with documents, and
    // documents are registered deliberately instead (trusted documents).
    persistedQueries: false,
    // Shutdown is ours (drain, then flush the log); Apollo's own SIGTERM handler would stop it first.
    stopOnTerminationSignals: false,
    formatError: (formatted) => maskUnexpectedError(formatted),
    plugins: [
      requestRefusalPlugin({ maxTokens: limits.operation.maxTokens, introspection: config.mode === 'development' }),
      requestIdPlugin(),
      metricsPlugin({ countError: (code) => operations.countError(code), labelOperation: (requestId, label) => operations.labelOperation(requestId, label), ...(deps.trustedDocuments ? { trustedDocuments: deps.trustedDocuments } : {}) }),
      errorLoggingPlugin(deps.logError ?? ((record) => logger.error(record, 'request error'))),
      operationPipelinePlugin({
        analyse,
        judge,
        log: deps.accessLog,
        onDenialNotLogged: (error, requestId) => logger.warn({ requestId, err: error instanceof Error ? error.name : 'unknown' }, 'a refusal could not be logged; the refusal stands'),
        checks: [
          operationLimitCheck({ limits: limits.operation, catalogue: () => catalogue }),
          ...(config.mode === 'production' && deps.trustedDocuments ? [trustedDocumentCheck(deps.trustedDocuments)] : []),
          reservedAliasCheck,
          personnummerInputCheck,
          purposeCheck(judge),
        ],
      }),
    ],
  });
  await server.start();
  const operations = new GatewayOperations({
    metrics,
    logger,
    certificates: () => [
      { name: 'gateway-server', pem: deps.trust.material.cert },
      { name: 'gateway-subgraph-client', pem: deps.subgraphTls.cert },
      ...deps.trust.authorities.map((authority, index) => ({ name: `federation-ca-${index + 1}`, pem: authority.toString() })),
    ],
    isAccessLogHealthy: () => deps.accessLog.isHealthy(),
    authorizeMetrics: (request) => void authenticateOperator(request, { registry: deps.registry, trust: deps.trust, officials: deps.officials }),
    certMinValidDays: limits.certMinValidDays,
    certWarnDays: limits.certWarnDays,
  });

  const requestIds = new WeakMap<IncomingMessage, string>();
  const handleGraphQL = apolloRequestHandler<GatewayContext>({
    server,
    maxBodyBytes: config.maxBodyBytes,
    context: async (request) => {
      const requestId = requestIds.get(request) ?? randomUUID();
      const caller = await authenticateRequest(request, requestId, {
        registry: deps.registry,
        trust: deps.trust,
        replayCache: deps.replayCache,
        audience: deps.tokenAudience,
      });
      operations.annotate(request, caller.agency.id);
      return { requestId, caller };
    },
    checkBody: refuseUnservableRequest,
    admit: (body, context) => admission.admit(context.caller, body),
    onError: (error) => operations.countRefusal(error),
    responseHeaders: (request) => ({ 'x-request-id': requestIds.get(request) ?? '' }),
    ...(deps.trustedDocuments ? { prepareBody: (body: unknown, context: GatewayContext) => resolveDocumentId(body, context.caller, deps.trustedDocuments!) } : {}),
  });

  // The GraphQL IDE exists in development mode only; a production gateway answers 404 at /ide.
  const routes = [...(deps.routes ?? []), ...(config.mode === 'development' ? [developmentIdeRoute({ supergraphSdl: supergraph.sdl, registry: deps.registry, trust: deps.trust })] : [])];
  // Slow or hoarding clients: timeouts for every phase of a connection, open connections capped per agency.
  const connections = new ConnectionLimits({ limits: limits.listener, metrics, identity: { registry: deps.registry, trust: deps.trust } });
  // Each request is one trace (tracing.ts); a no-op unless OTLP export is configured.
  const httpsServer = https.createServer({ ...deps.trust.serverOptions(), ...connections.serverOptions }, connections.admit(tracedListener((request) => `${request.method ?? 'GET'} ${routeLabel(request.url ?? '/')}`, (request, response) => {
    requestIds.set(request, randomUUID());
    // Every answer names its request, refusals before execution included (sendError puts it in the body too).
    response.setHeader('x-request-id', requestIds.get(request) ?? '');
    const path = (request.url ?? '/').split('?')[0];
    operations.track(request, response, path ?? '/', requestIds.get(request) ?? '');
    if (path === '/graphql') return void handleGraphQL(request, response);
    if (path === '/healthz') return sendJson(response, 200, { status: 'ok' });
    if (path === '/readyz') return operations.ready(response);
    if (path === '/metrics') return void operations.serveMetrics(request, response).catch((error: unknown) => sendFailure(response, error));
    const route = routes.find((r) => path === r.prefix || path?.startsWith(`${r.prefix}/`));
    if (route) {
      Promise.resolve(route.handle(request, response)).catch((error: unknown) => sendFailure(response, error));
      return;
    }
    sendError(response, new GatewayError('NOT_FOUND', 'Not found.'));
  }, { parentFromHeaders: false })));
  connections.attach(httpsServer);
  const detachTrust = deps.trust.attach(httpsServer);
  await new Promise<void>((resolve, reject) => {
    httpsServer.once('error', reject);
    httpsServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpsServer.address() as AddressInfo;
  return {
    url: `https://${config.host === '127.0.0.1' ? 'localhost' : config.host}:${port}/graphql`,
    port,
    subgraphs,
    async close() {
      detachTrust();
      // In-flight requests finish (and their log entries commit) before anything is closed.
      const { abandoned } = await operations.drain(httpsServer, limits.shutdownGraceMs);
      if (abandoned > 0) logger.warn({ abandoned }, 'shutdown grace period over; requests still in flight were cut');
      await server.stop();
      await transport.close();
      await admission.close();
      stopObservingLog?.();
      stopObservingRedis?.();
    },
  };
}
