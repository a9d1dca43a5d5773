import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from './config/gatewayConfig.js';
import { gatewayCertificates, type GatewayDependencies, type RunningGateway } from './gatewayDependencies.js';
import { loadSupergraphSdl, subgraphEndpoints } from './apollo/supergraph.js';
import { startPartnerApi } from './apollo/partnerApi.js';
import { operationMetrics } from './apollo/operationMetrics.js';
import { createContextSigner } from './gateway/contextSigner.js';
import { subgraphResilience } from './apollo/subgraphResilience.js';
import { createOperationAnalyser } from './pipeline/operationAnalysis.js';
import { requestIdentifier } from './pipeline/identifyRequest.js';
import { operationChecks } from './checks/index.js';
import { createPurposeJudge } from './checks/purpose.js';
import { createRequestAdmission, refuseUnservableRequest } from './limits/index.js';
import { gatewayRoutes, serveRoutes } from './http/routes.js';
import { ConnectionLimits } from './http/connectionLimits.js';
import { authenticateOperator } from './identity/index.js';
import { readPersonalFieldCatalogue } from './policy/personalFieldCatalogue.js';
import { utcDateClock } from './policy/agreements.js';
import { EXCHANGE_SUBGRAPH } from './composition/referenceSubgraphs.js';
import { createExchangeSchema } from '../resolvers/exchange/index.js';
import { createLogger } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { observeSharedRedis } from './observability/observeSharedRedis.js';
import { accessLogObserver } from './observability/accessLogObserver.js';
import { witnessObserver } from './observability/witnessObserver.js';
import { logVerificationObserver } from './observability/logVerificationObserver.js';
import { denialLogGapReporter } from './observability/denialLogGaps.js';
import { GatewayOperations, routeLabel } from './observability/gatewayOperations.js';
import { tracedListener } from './observability/tracing.js';
import { developmentIdeRoute } from './ide/developmentIde.js';

export type { GatewayDependencies, RunningGateway } from './gatewayDependencies.js';

/**
 * The composition root: wiring only. A request's stages are src/pipeline/stages.ts; in order:
 * transport (mutual TLS, http/routes.ts) → identity (pipeline/identifyRequest.ts) → admission
 * (limits/rateLimitAdmission.ts) → the operation resolved once and checked (checks/index.ts), before
 * any subgraph is called → query plan and subgraph calls carrying the signed caller context
 * (apollo/) → access log committed before release (pipeline/releaseResponse.ts) → response.
 */
export async function createGateway(config: GatewayConfig, deps: GatewayDependencies): Promise<RunningGateway> {
  const supergraph = loadSupergraphSdl(config.supergraphPath);
  const catalogue = readPersonalFieldCatalogue(supergraph.sdl);
  const sources = { catalogue: () => catalogue, agreements: deps.agreements, today: deps.today ?? utcDateClock() };
  const limits = config.limits;
  const logger = deps.logger ?? createLogger({ level: 'warn' });
  const metrics = deps.metrics ?? new GatewayMetrics();
  // The access log's outages and verifications, the witnesses' refusals and Redis's faults: into the process log and metrics.
  const stopObserving = [
    deps.observeAccessLog?.(accessLogObserver({ metrics, logger })),
    deps.observeWitnessing?.(witnessObserver({ metrics, logger })),
    deps.observeLogVerification?.(logVerificationObserver({ metrics, logger })),
    deps.redis ? observeSharedRedis(deps.redis, { metrics, logger }) : undefined,
  ];
  const reportDenialLogGap = denialLogGapReporter({ logger, metrics });
  const admission = await createRequestAdmission({ limits, log: deps.accessLog, metrics, logger, reportDenialLogGap, rateLimiter: deps.rateLimiter, redis: deps.redis });
  const allowPlainHttp = config.mode === 'development';
  const subgraphs = subgraphEndpoints(supergraph.subgraphs, config.subgraphUrlOverrides, { allowPlainHttp });
  const identity = { registry: deps.registry, trust: deps.trust };
  const operations = new GatewayOperations({
    metrics,
    logger,
    certificates: () => gatewayCertificates(deps),
    isAccessLogHealthy: () => deps.accessLog.isHealthy(),
    authorizeMetrics: (request) => void authenticateOperator(request, { ...identity, officials: deps.officials }),
    certMinValidDays: limits.certMinValidDays,
    certWarnDays: limits.certWarnDays,
  });
  const partnerApi = await startPartnerApi({
    mode: config.mode,
    supergraphSdl: supergraph.sdl,
    maxBodyBytes: config.maxBodyBytes,
    subgraphs: {
      urls: new Map(subgraphs.map((s) => [s.name, s.url])),
      tls: deps.subgraphTls,
      allowPlainHttp,
      timeoutMs: config.subgraphTimeoutMs,
      resilience: subgraphResilience({ limits: limits.subgraphs, metrics, logger }),
      signContext: createContextSigner({ signingKey: deps.signingKey, ...sources }),
      local: { name: EXCHANGE_SUBGRAPH, schema: createExchangeSchema(sources) },
    },
    request: { checkBody: refuseUnservableRequest, identify: requestIdentifier({ ...identity, replayCache: deps.replayCache, audience: deps.tokenAudience }, operations), admit: admission.admit },
    operation: {
      // The document-only facts every check and the access log need, worked out once per document.
      analyse: createOperationAnalyser({ catalogue }),
      checks: operationChecks({ mode: config.mode, limits: limits.operation, catalogue: sources.catalogue, judge: createPurposeJudge(sources), trustedDocuments: deps.trustedDocuments }),
      log: deps.accessLog,
      reportDenialLogGap,
      maxTokens: limits.operation.maxTokens,
      metrics: operationMetrics(operations, deps.trustedDocuments),
      logError: deps.logError ?? ((record) => logger.error(record, 'request error')),
    },
    trustedDocuments: deps.trustedDocuments,
    compiledOperations: config.compiledOperations ? operations : undefined,
    refusals: operations,
  });
  // The GraphQL IDE exists in development mode only; a production gateway answers 404 at /ide.
  const prefixes = [...(deps.routes ?? []), ...(config.mode === 'development' ? [developmentIdeRoute({ supergraphSdl: supergraph.sdl, ...identity })] : [])];
  const listener = serveRoutes(gatewayRoutes(partnerApi.handle, operations, prefixes), operations);
  // Slow or hoarding clients: timeouts for every phase of a connection, open connections capped per agency.
  const connections = new ConnectionLimits({ limits: limits.listener, metrics, identity });
  // Each request is one trace (tracing.ts); a no-op unless OTLP export is configured.
  const httpsServer = https.createServer(
    // Host is checked by the routes (requestHeaders.ts), answered like every other refusal; Node's own check answers a bare 400.
    { ...deps.trust.serverOptions(), ...connections.serverOptions, requireHostHeader: false },
    connections.admit(tracedListener((request) => `${request.method ?? 'GET'} ${routeLabel(request.url ?? '/')}`, listener, { parentFromHeaders: false })),
  );
  connections.attach(httpsServer);
  const detachTrust = deps.trust.attach(httpsServer);
  await new Promise<void>((resolve, reject) => httpsServer.once('error', reject).listen(config.port, config.host, () => resolve()));
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
      await partnerApi.stop();
      await admission.close();
      for (const stop of stopObserving) stop?.();
    },
  };
}
