import type { CallerContext } from '../identity/callerContext.js';
import type { FieldDecision } from '../policy/checkOperation.js';

/** Per-request context of the partner API. */
export interface GatewayContext {
  readonly requestId: string;
  /** Verified caller; null only in development mode without identity. */
  readonly caller: CallerContext | null;
  /** Filled as the request moves through the pipeline; read by the access log. */
  readonly state: RequestState;
}

export interface RequestState {
  /** The purpose check's decision per personal field coordinate of the operation. */
  decisions?: readonly FieldDecision[];
}
