import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContextResponseForOperation } from '@apollo/server';
import type { GatewayError } from '../../errors/index.js';
import type { GatewayContext } from '../gatewayContext.js';

/** A check of a resolved operation; returns every problem found (empty when the operation may run). */
export type OperationCheck = (
  requestContext: GraphQLRequestContextResponseForOperation<GatewayContext>,
) => readonly GatewayError[] | Promise<readonly GatewayError[]>;

/** Called with the refusal before it is sent (the access log records denials). */
export type OperationRejectedListener = (
  requestContext: GraphQLRequestContextResponseForOperation<GatewayContext>,
  errors: readonly GatewayError[],
) => Promise<void> | void;

/**
 * Runs the checks in order once the operation is parsed, validated and resolved, and before the
 * query plan runs: a refused operation answers with one error per problem and calls no subgraph.
 * (Throwing from didResolveOperation would keep only one error; responseForOperation keeps all.)
 */
export function operationChecksPlugin(checks: readonly OperationCheck[], onRejected?: OperationRejectedListener): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation(requestContext) {
          for (const check of checks) {
            const errors = await check(requestContext);
            if (errors.length === 0) continue;
            await onRejected?.(requestContext, errors);
            return {
              http: { status: Math.max(...errors.map((e) => e.httpStatus)), headers: new HeaderMap() },
              body: { kind: 'single', singleResult: { errors: errors.map((e) => e.toFormatted()) } },
            };
          }
          return null;
        },
      };
    },
  };
}
