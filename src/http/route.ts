import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A route mounted on the gateway's mTLS listener beside /graphql (the audit API and console, the
 * development IDE). Declared here, with the listener's other plumbing, so that the routes depend
 * on http/ and the composition root on them, never the other way round.
 */
export interface GatewayRoute {
  /** e.g. `/audit`: matches `/audit` and `/audit/...`. */
  readonly prefix: string;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}
