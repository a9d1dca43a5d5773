import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import { requestHeaderRefusal } from './requestHeaders.js';
import { sendError, sendFailure, sendJson } from './responses.js';

/** Answers one request; `requestId` is the one the answer carries (`x-request-id`). */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse, requestId: string) => void | Promise<void>;

/** A route owning every path under a prefix (the audit API and console). */
export interface GatewayRoute {
  /** e.g. `/audit`: matches `/audit` and `/audit/...`. */
  readonly prefix: string;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}

/** Every HTTPS route of the gateway's listener: exact paths first, then prefixes. */
export interface RouteTable {
  readonly paths: Readonly<Record<string, RouteHandler>>;
  readonly prefixes: readonly GatewayRoute[];
}

/** The gateway's own operational routes (observability/gatewayOperations.ts). */
export interface OperationalRoutes {
  ready(response: ServerResponse): void;
  serveMetrics(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

/**
 * The gateway's routes, in one table: the partner API, liveness, readiness, metrics (operators
 * only), then whatever prefixes the composition root adds (the audit API and console, the
 * development IDE). Everything else is 404.
 */
export function gatewayRoutes(graphql: RouteHandler, operational: OperationalRoutes, prefixes: readonly GatewayRoute[]): RouteTable {
  return {
    paths: {
      '/graphql': graphql,
      '/healthz': readOnly((_request, response) => sendJson(response, 200, { status: 'ok' })),
      '/readyz': readOnly((_request, response) => operational.ready(response)),
      '/metrics': readOnly((request, response) => operational.serveMetrics(request, response)),
    },
    prefixes,
  };
}

/** The operational routes answer GET (and HEAD, which Node answers without the body); anything else is refused as such, not answered as if read. */
function readOnly(handler: RouteHandler): RouteHandler {
  return (request, response, requestId) => {
    if (request.method === 'GET' || request.method === 'HEAD') return handler(request, response, requestId);
    sendError(response, new GatewayError('METHOD_NOT_ALLOWED', `${request.method ?? 'This method'} is not served here; use GET.`), { allow: 'GET, HEAD' });
  };
}

/** Sees each request as it arrives (request metrics, draining), with its path and id. */
export interface RequestTracker {
  track(request: IncomingMessage, response: ServerResponse, path: string, requestId: string): void;
}

/**
 * The listener of the route table: every request gets its id (every answer names it, refusals
 * before execution included), is tracked, and goes to the one route its path names, or is
 * answered 404. A route's failure is answered as a coded error, masked unless it is one of ours.
 */
export function serveRoutes(table: RouteTable, tracker: RequestTracker): (request: IncomingMessage, response: ServerResponse) => void {
  const prefixed = (path: string): RouteHandler | undefined => {
    const route = table.prefixes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    return route ? (request, response) => route.handle(request, response) : undefined;
  };
  return (request, response) => {
    const requestId = randomUUID();
    response.setHeader('x-request-id', requestId);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    tracker.track(request, response, path, requestId);
    const refusal = requestHeaderRefusal(request);
    if (refusal) return sendError(response, refusal, { connection: 'close' });
    const handler = Object.hasOwn(table.paths, path) ? table.paths[path] : prefixed(path);
    if (!handler) return sendError(response, new GatewayError('NOT_FOUND', 'Not found.'));
    try {
      void Promise.resolve(handler(request, response, requestId)).catch((error: unknown) => sendFailure(response, error));
    } catch (error) {
      sendFailure(response, error);
    }
  };
}
