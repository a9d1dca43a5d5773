import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway, LocalGraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import type { GatewayMode } from '../config/gatewayConfig.js';
import type { GatewayError } from '../errors/index.js';
import type { CircuitBreaker } from '../resilience/circuitBreaker.js';
import type { TrustedDocuments } from '../trusted-documents/manifest.js';
import { resolveDocumentId } from '../trusted-documents/resolveDocumentId.js';
import type { AdmittedRequest, IdentifiedRequest } from '../pipeline/stages.js';
import type { RouteHandler } from '../http/routes.js';
import { maskUnexpectedError } from '../errors/maskErrors.js';
import { keepVendorTelemetryOff } from '../observability/tracing.js';
import { AgencyDataSource, type AgencyDataSourceOptions, type SubgraphCallObserver } from './agencyDataSource.js';
import { gatewayPlugin, type GatewayPluginOptions } from './gatewayPlugin.js';
import { withSubjectMarkers } from './markedGateway.js';
import { apolloRequestHandler } from './requestHandler.js';
import { compiledOperations } from './compiledOperations.js';
import { createSubgraphTransport, type SubgraphTlsOptions } from './subgraphTransport.js';

/** How the gateway reaches its subgraphs: one mutual-TLS pool, a breaker and a timeout per agency. */
export interface SubgraphAccess {
  /** Subgraph name → URL (the supergraph's, or its override). */
  readonly urls: ReadonlyMap<string, string>;
  readonly tls: SubgraphTlsOptions;
  readonly allowPlainHttp: boolean;
  readonly timeoutMs: number;
  /** A breaker and a timeout per subgraph, and the observer of every call (subgraphResilience.ts). */
  readonly resilience: {
    timeoutMs(subgraph: string, fallback: number): number;
    breaker(subgraph: string): CircuitBreaker;
    readonly observer: SubgraphCallObserver;
  };
  readonly signContext: AgencyDataSourceOptions['signContext'];
  /** The gateway's own catalogue subgraph, answered in process. */
  readonly local: { readonly name: string; readonly schema: GraphQLSchema };
}

/** The stages before Apollo Server parses the request (src/pipeline/stages.ts). */
export interface RequestStages {
  /** Refuses what the HTTP request alone rules out (a batch, an Accept without JSON). */
  checkBody(body: unknown, request: IncomingMessage): void;
  identify(request: IncomingMessage, requestId: string): Promise<IdentifiedRequest>;
  admit(request: IdentifiedRequest, body: unknown): Promise<AdmittedRequest>;
}

export interface PartnerApiOptions {
  readonly mode: GatewayMode;
  readonly supergraphSdl: string;
  readonly maxBodyBytes: number;
  readonly subgraphs: SubgraphAccess;
  readonly request: RequestStages;
  /** The operation stages' options (the checks, the access log, metrics); the document limits come from `maxTokens` and `mode`. */
  readonly operation: Omit<GatewayPluginOptions, 'documents'> & { readonly maxTokens: number };
  /** Registered documents a request may name by id (`documentId`). */
  readonly trustedDocuments?: TrustedDocuments | undefined;
  /** Given, registered documents run compiled (compiledOperations.ts) rather than through Apollo Server; each such answer is counted. */
  readonly compiledOperations?: { countCompiledAnswer(): void } | undefined;
  /** Counts every refusal answered without executing (metrics). */
  readonly refusals: { countRefusal(error: GatewayError): void };
}

export interface PartnerApi {
  /** The `/graphql` route. */
  readonly handle: RouteHandler;
  stop(): Promise<void>;
}

/**
 * The partner API on Apollo Server and @apollo/gateway: the query planner over the agencies'
 * subgraphs, whose executor alone sees the marked document, and the one plugin driving the
 * operation stages. Everything Apollo-specific of the gateway is here.
 */
export async function startPartnerApi(options: PartnerApiOptions): Promise<PartnerApi> {
  const { subgraphs, operation } = options;
  const transport = createSubgraphTransport({
    timeoutMs: subgraphs.timeoutMs,
    longestTimeoutMs: Math.max(0, ...[...subgraphs.urls.keys()].map((name) => subgraphs.resilience.timeoutMs(name, subgraphs.timeoutMs))),
    allowPlainHttp: subgraphs.allowPlainHttp,
    tls: subgraphs.tls,
  });
  keepVendorTelemetryOff();
  // The data sources @apollo/gateway builds, by subgraph: compiled operations call the same ones.
  const services: ServiceMap = Object.create(null) as ServiceMap;
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    // Spans carry the operation name, never the document text (literals) or error messages.
    telemetry: { includeDocument: false, recordExceptions: false },
    buildService: ({ name, url }) =>
      (services[name] =
        name === subgraphs.local.name
          ? new LocalGraphQLDataSource(subgraphs.local.schema)
          : new AgencyDataSource({
              name,
              url: subgraphs.urls.get(name) ?? url ?? '',
              fetcher: transport.fetcherWithTimeout(subgraphs.resilience.timeoutMs(name, subgraphs.timeoutMs)),
              send: transport.senderWithTimeout(subgraphs.resilience.timeoutMs(name, subgraphs.timeoutMs)),
              ...(subgraphs.signContext ? { signContext: subgraphs.signContext } : {}),
              breaker: subgraphs.resilience.breaker(name),
              observer: subgraphs.resilience.observer,
            })),
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => {
    apiSchema = loaded;
  });
  const server = new ApolloServer<AdmittedRequest>({
    gateway: withSubjectMarkers(gateway, operation.analyse),
    introspection: options.mode === 'development',
    includeStacktraceInErrorResponses: false,
    // Outside development a partner learns nothing of the schema from errors ("Did you mean ...?").
    hideSchemaDetailsFromClientErrors: options.mode !== 'development',
    // One operation per request (the default, stated because the limits depend on it).
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: operation.maxTokens },
    // No automatic persisted queries: any caller could fill the gateway's memory with documents, and
    // documents are registered deliberately instead (trusted documents).
    persistedQueries: false,
    // Shutdown is ours (drain, then flush the log); Apollo's own SIGTERM handler would stop it first.
    stopOnTerminationSignals: false,
    formatError: (formatted) => maskUnexpectedError(formatted),
    plugins: [gatewayPlugin({ ...operation, documents: { maxTokens: operation.maxTokens, introspection: options.mode === 'development' } })],
  });
  await server.start();
  const { request: stages, trustedDocuments } = options;
  const handle = apolloRequestHandler<AdmittedRequest>({
    server,
    maxBodyBytes: options.maxBodyBytes,
    checkBody: stages.checkBody,
    context: async (request, _response, body, requestId) => stages.admit(await stages.identify(request, requestId), body),
    onError: (error) => options.refusals.countRefusal(error),
    ...(trustedDocuments ? { prepareBody: (body: unknown, context: AdmittedRequest) => resolveDocumentId(body, context.caller, trustedDocuments) } : {}),
    ...(trustedDocuments && options.compiledOperations
      ? {
          answerDirectly: compiledOperations({
            supergraphSdl: options.supergraphSdl,
            schema: () => apiSchema,
            services: () => services,
            trustedDocuments,
            maxTokens: operation.maxTokens,
            operation,
            answered: options.compiledOperations,
          }),
        }
      : {}),
  });
  return {
    handle,
    async stop() {
      await server.stop();
      await transport.close();
    },
  };
}
