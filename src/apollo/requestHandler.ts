import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { GatewayError, isGatewayError } from '../errors/index.js';
import { parseJsonBody, readBody } from '../http/readJsonBody.js';
import { sendError } from '../http/responses.js';

export interface ApolloHandlerOptions<TContext extends BaseContext> {
  readonly server: ApolloServer<TContext>;
  readonly maxBodyBytes: number;
  /** Builds the per-request context, or throws a GatewayError that is answered as JSON without executing. */
  readonly context: (request: IncomingMessage, response: ServerResponse, body: unknown, requestId: string) => Promise<TContext>;
  /**
   * Rewrites a POST body once the context is known and before Apollo Server parses it (the gateway
   * replaces a trusted document's id with its registered text); throws a GatewayError to refuse.
   */
  readonly prepareBody?: (body: unknown, context: TContext) => unknown;
  /** Refuses a request before identity is checked (a batch where batching is off, an Accept it cannot meet); throws a GatewayError. */
  readonly checkBody?: (body: unknown, request: IncomingMessage) => void;
  /** Sees every refusal answered without executing (metrics). */
  readonly onError?: (error: GatewayError) => void;
  /**
   * Answers a prepared request without Apollo Server when it can (the gateway's compiled trusted
   * operations), or returns undefined to leave it to Apollo Server.
   */
  readonly answerDirectly?: (body: unknown, context: TContext, headers: HeaderMap) => Promise<DirectAnswer | undefined>;
}

/** A complete answer written as Apollo Server would write it. */
export interface DirectAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/**
 * Bridges node:http to Apollo Server's framework-neutral executeHTTPGraphQLRequest. We keep our own
 * small bridge instead of Express so the request path (mTLS, limits, identity) stays in view.
 */
export function apolloRequestHandler<TContext extends BaseContext>(options: ApolloHandlerOptions<TContext>) {
  return async (request: IncomingMessage, response: ServerResponse, requestId = ''): Promise<void> => {
    try {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = request.url ?? '/';
      const queryIndex = url.indexOf('?');
      const method = (request.method ?? 'GET').toUpperCase();
      // A POST must say it is JSON, as Apollo Server's CSRF prevention asks of what it serves: the
      // compiled path, which answers without Apollo Server, must not take what it would refuse.
      const body = method === 'POST' ? parseJsonBody(await readBody(request, options.maxBodyBytes), request.headers['content-type'], { requireContentType: true }) : undefined;
      options.checkBody?.(body, request);
      const context = await options.context(request, response, body, requestId);
      const prepared = options.prepareBody && body !== undefined ? options.prepareBody(body, context) : body;
      const direct = method === 'POST' && options.answerDirectly ? await options.answerDirectly(prepared, context, headers) : undefined;
      if (direct) {
        for (const [key, value] of direct.headers) response.setHeader(key, value);
        response.statusCode = direct.status;
        response.end(direct.body);
        return;
      }
      const result = await options.server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: queryIndex >= 0 ? url.slice(queryIndex) : '', body: prepared },
        context: async () => context,
      });
      for (const [key, value] of result.headers) response.setHeader(key, value);
      response.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        response.end((result.status ?? 200) >= 400 ? withRequestId(result.body.string, requestId) : result.body.string);
        return;
      }
      for await (const chunk of result.body.asyncIterator) response.write(chunk);
      response.end();
    } catch (error) {
      // A client that hangs up mid-body is not a server fault.
      const refusal = isGatewayError(error)
        ? error
        : request.destroyed || request.readableAborted
          ? new GatewayError('BAD_REQUEST', 'The request body was not received completely.')
          : new GatewayError('INTERNAL_SERVER_ERROR', 'Internal server error.');
      options.onError?.(refusal);
      sendError(response, refusal);
    }
  };
}

/**
 * Apollo Server's own refusals (a method it does not serve, a body it cannot read, its CSRF
 * prevention) are answered before any plugin sees the request, so they lack the request id every
 * other answer carries in `extensions.requestId`; it is added here, the body otherwise as Apollo
 * wrote it. Anything that is not a JSON object with errors is left alone.
 */
function withRequestId(body: string, requestId: string): string {
  if (!requestId) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { errors?: unknown }).errors)) return body;
  const answer = parsed as { extensions?: Record<string, unknown> };
  if (answer.extensions?.['requestId'] !== undefined) return body;
  return `${JSON.stringify({ ...answer, extensions: { ...answer.extensions, requestId } })}\n`;
}
