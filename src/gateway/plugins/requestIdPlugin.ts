import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../gatewayContext.js';

/**
 * Returns the request id in the response's `extensions` (and the transport sets `x-request-id`),
 * so the partner's log and ours can be joined on it.
 */
export function requestIdPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, requestId: contextValue.requestId };
          }
        },
      };
    },
  };
}
