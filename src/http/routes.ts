import type { IncomingMessage, ServerResponse } from 'node:http';

/** A route owning every path under a prefix (the audit API and console). */
export interface GatewayRoute {
  /** e.g. `/audit`: matches `/audit` and `/audit/...`. */
  readonly prefix: string;
  handle(request: IncomingMessage, response: ServerResponse): void | Promise<void>;
}
