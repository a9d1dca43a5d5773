import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { GatewayError, isGatewayError } from '../errors/index.js';
import { parseJsonBody, readBody } from './readJsonBody.js';
import { sendError } from './responses.js';

export interface ApolloHandlerOptions<TContext extends BaseContext> {
  readonly server: ApolloServer<TContext>;
  readonly maxBodyBytes: number;
  /** Builds the per-request context, or throws a GatewayError that is answered as JSON without executing. */
  readonly context: (request: IncomingMessage, response: ServerResponse, body: unknown) => Promise<TContext>;
  /** Headers added to every answer (request id, ...). */
  readonly responseHeaders?: (request: IncomingMessage) => Record<string, string>;
  /**
   * Rewrites a POST body once the context is known and before Apollo Server parses it (the gateway
   * replaces a trusted document's id with its registered text); throws a GatewayError to refuse.
   */
  readonly prepareBody?: (body: unknown, context: TContext) => unknown;
  /** Refuses a request before identity is checked (a batch where batching is off, an Accept it cannot meet); throws a GatewayError. */
  readonly checkBody?: (body: unknown, request: IncomingMessage) => void;
  /** Admits a request once the caller is known (rate limits); throws a GatewayError to refuse. */
  readonly admit?: (body: unknown, context: TContext) => Promise<void>;
  /** Sees every refusal answered without executing (metrics). */
  readonly onError?: (error: GatewayError) => void;
}

/**
 * Bridges node:http to Apollo Server's framework-neutral executeHTTPGraphQLRequest. We keep our own
 * small bridge instead of Express so the request path (mTLS, limits, identity) stays in view.
 */
export function apolloRequestHandler<TContext extends BaseContext>(options: ApolloHandlerOptions<TContext>) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const extraHeaders = options.responseHeaders?.(request) ?? {};
    try {
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = request.url ?? '/';
      const queryIndex = url.indexOf('?');
      const method = (request.method ?? 'GET').toUpperCase();
      const body = method === 'POST' ? parseJsonBody(await readBody(request, options.maxBodyBytes), request.headers['content-type']) : undefined;
      options.checkBody?.(body, request);
      const context = await options.context(request, response, body);
      await options.admit?.(body, context);
      const prepared = options.prepareBody && body !== undefined ? options.prepareBody(body, context) : body;
      const result = await options.server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: queryIndex >= 0 ? url.slice(queryIndex) : '', body: prepared },
        context: async () => context,
      });
      for (const [key, value] of result.headers) response.setHeader(key, value);
      for (const [key, value] of Object.entries(extraHeaders)) response.setHeader(key, value);
      response.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        response.end(result.body.string);
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
      sendError(response, refusal, extraHeaders);
    }
  };
}
