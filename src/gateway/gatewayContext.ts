import type { CallerContext } from '../identity/callerContext.js';

/** Per-request context of the partner API: every request that reaches Apollo Server has a verified caller. */
export interface GatewayContext {
  readonly requestId: string;
  readonly caller: CallerContext;
}
