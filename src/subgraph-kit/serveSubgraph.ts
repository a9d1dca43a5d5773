import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { apolloRequestHandler } from '../apollo/requestHandler.js';
import { sendError, sendJson } from '../http/responses.js';
import { GatewayError } from '../errors/index.js';
import type { AgencySubgraph, SubgraphContext } from './types.js';
import type { IncomingMessage } from 'node:http';
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { CryptoKey, JWK } from 'jose';
import { verifyGatewayContext, type SubgraphRequestBody } from '../identity/gatewayContextToken.js';
import { MemoryReplayCache, type ReplayCache } from '../identity/replayCache.js';
import { utcDateClock, type Agreement } from '../policy/agreements.js';
import { guardPersonalFields } from './personalFieldGuard.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from '../config/listenerConfig.js';
import { serverTimeoutOptions } from '../http/connectionLimits.js';
import { answerClientErrors } from '../http/clientErrors.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { tracedListener } from '../observability/tracing.js';

/** The gateway's request id as it arrives (the gateway sets it; anything else shaped like an id is kept, the rest dropped). */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * One log line per answered request, in the gateway's format (pino JSON: level, time, service),
 * with the request id the gateway sent, so one id finds a request's lines in every process. The
 * id is echoed as `x-request-id`, so refusals carry it too. Never a variable or a response value.
 */
function logRequest(logger: Logger, subgraph: string, request: IncomingMessage, response: http.ServerResponse, path: string): void {
  const header = request.headers['x-request-id'];
  const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined;
  if (requestId) response.setHeader('x-request-id', requestId);
  // Both lines are info: below that level a request costs no listener and no record.
  if (!logger.isLevelEnabled('info')) return;
  const started = performance.now();
  response.once('close', () => {
    const status = response.writableFinished ? response.statusCode : 0;
    logger.info(
      {
        ...(requestId ? { requestId } : {}),
        subgraph,
        route: path === '/graphql' || path === '/healthz' ? path : 'other',
        method: request.method,
        status,
        durationMs: Math.round(performance.now() - started),
      },
      status === 0 ? 'request aborted' : 'request',
    );
  });
}

function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

export interface SubgraphServerOptions {
  readonly host?: string;
  readonly port?: number;
  /**
   * Server TLS requiring the gateway's client certificate. Absent means plain http, which the kit
   * allows only when `allowPlainHttp` says so explicitly (development and tests).
   */
  readonly tls?: {
    cert: string | Buffer;
    key: string | Buffer;
    ca: string | Buffer;
    /** The gateway's client certificate (PEM): the only one this subgraph accepts. */
    gatewayClientCertificate: string | Buffer;
  };
  readonly allowPlainHttp?: boolean;
  /** The gateway's public signing key: every call must carry a context token it signed for this subgraph. */
  readonly gatewayPublicKey?: JWK | KeyObject | CryptoKey;
  /** Development only: no gateway context at all, personal fields unguarded. Never with real data. */
  readonly allowAnonymous?: boolean;
  /**
   * Remembers context-token ids so each is accepted once. In memory by default, which holds for one
   * replica of the subgraph; a subgraph run as several replicas passes a shared one (RedisReplayCache).
   */
  readonly replayCache?: ReplayCache;
  /**
   * The agency's own copy of its disclosure agreements. Given, every personal field is also checked
   * against them (an agreement in force for the caller, the field's category and the purpose), so
   * the subgraph does not rest on the gateway's decision alone.
   */
  readonly agreements?: () => readonly Agreement[];
  /** ISO date the agreements are judged on; today (UTC) by default. */
  readonly today?: () => string;
  /**
   * Benchmarks only: accept context tokens that are reused and bound to no request, as the
   * benchmark's engines without an identity layer send them. Never in production.
   */
  readonly acceptUnboundContextTokens?: boolean;
  readonly maxBodyBytes?: number;
  /** Bounds on slow clients (handshake, headers, request, keep-alive); the gateway's defaults when absent. */
  readonly timeouts?: HttpTimeouts;
  /** Structured log (pino), one line per request with the gateway's request id; silent when absent. */
  readonly logger?: Logger;
}

/** The parts of a GraphQL-over-HTTP body a context token is bound to. */
function requestBody(body: unknown): SubgraphRequestBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { query, operationName, variables } = body as Record<string, unknown>;
  return {
    query: typeof query === 'string' ? query : undefined,
    operationName: typeof operationName === 'string' ? operationName : null,
    variables: typeof variables === 'object' && variables !== null && !Array.isArray(variables) ? (variables as Record<string, unknown>) : null,
  };
}

export interface RunningSubgraph {
  readonly name: string;
  readonly url: string;
  readonly subgraph: AgencySubgraph;
  close(): Promise<void>;
}

/** Personal data is never to be kept by a cache between the gateway and a subgraph: what the hints' plugin wrote on every answer. */
function neverCached<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          response.http.headers.set('cache-control', 'no-store');
        },
      };
    },
  };
}

/** Serves one agency subgraph on its own port. */
export async function serveSubgraph<TLoaders>(subgraph: AgencySubgraph<TLoaders>, options: SubgraphServerOptions = {}): Promise<RunningSubgraph> {
  if (!options.tls && !options.allowPlainHttp) {
    throw new Error(`Subgraph ${subgraph.name}: refusing to serve without TLS; set allowPlainHttp only for development.`);
  }
  const gatewayPublicKey = options.gatewayPublicKey;
  if (!gatewayPublicKey && !options.allowAnonymous) {
    throw new Error(`Subgraph ${subgraph.name}: the gateway's public key is required to verify callers (allowAnonymous is for development only).`);
  }
  const replayCache = options.replayCache ?? new MemoryReplayCache();
  const schema = buildSubgraphSchema({ typeDefs: subgraph.typeDefs, resolvers: subgraph.resolvers as never });
  guardPersonalFields(schema, subgraph.typeDefs, {
    owner: subgraph.name,
    allowAnonymous: !gatewayPublicKey,
    ...(options.agreements ? { ownAgreements: { list: options.agreements, today: options.today ?? utcDateClock() } } : {}),
    ...(subgraph.isProtectedIdentity ? { isProtectedIdentity: subgraph.isProtectedIdentity.bind(subgraph) } : {}),
  });
  const server = new ApolloServer<SubgraphContext<TLoaders>>({
    schema,
    introspection: false,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: false,
    // Traces would leak resolver timings to whoever reads the gateway's responses; nothing uses them here.
    // Cache hints neither: the gateway sets its own policy, and the hints' plugin wraps every
    // resolver call of every request to gather them (about a tenth of a call's CPU, measured).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginCacheControlDisabled(), neverCached()],
  });
  await server.start();
  const handle = apolloRequestHandler<SubgraphContext<TLoaders>>({
    server,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    context: async (request, _response, body) => {
      const verified = gatewayPublicKey
        ? await verifyGatewayContext(bearerToken(request), {
            publicKey: gatewayPublicKey,
            subgraph: subgraph.name,
            body: requestBody(body),
            replayCache,
            acceptUnboundTokens: options.acceptUnboundContextTokens === true,
          })
        : null;
      return {
        caller: verified?.caller ?? null,
        protectedIdentityAccess: verified?.protectedIdentityAccess ?? false,
        categories: verified?.categories ?? new Set(),
        provided: verified?.provided ?? new Set(),
        loaders: subgraph.createLoaders(),
      };
    },
  });
  // Other holders of a federation certificate (any agency) must not reach a subgraph directly.
  const gatewayFingerprint = options.tls ? new X509Certificate(options.tls.gatewayClientCertificate).fingerprint256 : undefined;
  const logger = options.logger ?? silentLogger();
  const onRequest: http.RequestListener = (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    logRequest(logger, subgraph.name, request, response, path ?? '/');
    if (gatewayFingerprint && path !== '/healthz') {
      const peer = (request.socket as TLSSocket).getPeerX509Certificate?.();
      if (!peer || peer.fingerprint256 !== gatewayFingerprint) {
        return sendError(response, new GatewayError('CLIENT_CERTIFICATE_UNTRUSTED', 'This subgraph accepts calls from the gateway only.'));
      }
    }
    if (path === '/graphql') return void handle(request, response);
    if (path === '/healthz') return sendJson(response, 200, { status: 'ok' });
    sendError(response, new GatewayError('NOT_FOUND', 'Not found.'));
  };
  const timeouts = serverTimeoutOptions(options.timeouts ?? DEFAULT_HTTP_TIMEOUTS);
  // The gateway's trace continues here: its subgraph calls carry W3C trace context.
  const traced = tracedListener(() => `subgraph ${subgraph.name}`, onRequest, { parentFromHeaders: true, attributes: { 'exchange.subgraph': subgraph.name } });
  const httpServer = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ...timeouts }, traced)
    : http.createServer(timeouts, traced);
  answerClientErrors(httpServer);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    name: subgraph.name,
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}/graphql`,
    subgraph: subgraph as AgencySubgraph,
    async close() {
      httpServer.closeIdleConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await server.stop();
      subgraph.close();
    },
  };
}
