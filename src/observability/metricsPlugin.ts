import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../gateway/gatewayContext.js';

/** Counts the coded errors of every response Apollo Server sends (refusals, withheld fields, faults). */
export function metricsPlugin(countError: (code: unknown) => void): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          for (const error of response.body.singleResult.errors ?? []) countError(error.extensions?.['code']);
        },
      };
    },
  };
}
