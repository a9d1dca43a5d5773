import type { IncomingMessage } from 'node:http';
import { authenticateRequest, type RequestAuthentication } from '../identity/authenticateRequest.js';
import type { IdentifiedRequest } from './stages.js';

/** Told of each identified request's agency (the request's log line and trace). */
export interface IdentityObserver {
  annotate(request: IncomingMessage, agency: string): void;
}

/**
 * Stage 1, identity: the client certificate names the agency, the request token bound to it the
 * official, case, purpose and subjects (src/identity/authenticateRequest.ts). A request that
 * cannot be identified goes no further: the GatewayError thrown is its answer.
 */
export function requestIdentifier(authentication: RequestAuthentication, observer: IdentityObserver) {
  return async (request: IncomingMessage, requestId: string): Promise<IdentifiedRequest> => {
    const caller = await authenticateRequest(request, requestId, authentication);
    observer.annotate(request, caller.agency.id);
    return { requestId, caller };
  };
}
