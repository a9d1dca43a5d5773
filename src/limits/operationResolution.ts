import { GatewayError } from '../errors/index.js';
import type { OperationCheck } from '../gateway/plugins/operationChecksPlugin.js';

/**
 * The operation must resolve before anything else is judged: an operationName that names no
 * operation, or a mutation or subscription where the API has none, would otherwise reach the
 * query planner, which throws (a 500) instead of answering. graphql-js 16 does not validate the
 * operation type against the schema's root types (17's KnownOperationTypesRule does), so this does.
 */
export const operationResolutionCheck: OperationCheck = ({ schema, operation, request }) => {
  if (!operation) {
    return [
      new GatewayError(
        'OPERATION_RESOLUTION_FAILURE',
        typeof request.operationName === 'string' ? 'operationName names no operation of the document.' : 'The document has several operations; say which one with operationName.',
      ),
    ];
  }
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return root ? [] : [new GatewayError('GRAPHQL_VALIDATION_FAILED', `The API has no ${operation.operation} operations.`, { operationType: operation.operation })];
};
