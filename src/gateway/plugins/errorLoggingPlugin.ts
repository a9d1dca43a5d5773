import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../gatewayContext.js';
import { isExposedCode, type ErrorLogger } from '../../errors/maskErrors.js';

/**
 * Unexpected errors are masked for partners; the operator sees them here, joined to the request
 * id the partner quotes. Messages are ours or a subgraph's, which never carry personal values.
 */
export function errorLoggingPlugin(log: ErrorLogger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const code = error.extensions?.['code'];
            if (isExposedCode(code)) continue;
            log({
              requestId: contextValue.requestId,
              code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR',
              message: error.originalError?.message ?? error.message,
              ...(error.path ? { path: error.path.join('.') } : {}),
              ...(typeof error.extensions?.['serviceName'] === 'string' ? { service: error.extensions['serviceName'] } : {}),
            });
          }
        },
      };
    },
  };
}
