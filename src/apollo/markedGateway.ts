import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import type { OperationAnalyser } from '../pipeline/operationAnalysis.js';

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];

/**
 * Field resolvers do not run in a federated gateway, so the access log learns whose data each
 * value is from the response: the query plan runs the operation with subject markers added
 * (src/audit/subjectMarkers.ts). This wraps the gateway's executor so that it, and only it, sees
 * the marked document; Apollo Server, the checks and the access log keep the partner's own.
 */
export function withSubjectMarkers(gateway: GatewayInterface, analyse: OperationAnalyser): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const { executor } = await gateway.load(options);
      if (!executor) return { executor };
      return {
        executor: (requestContext) => {
          const { schema, document, operation } = requestContext;
          return executor({ ...requestContext, document: analyse(schema, document, operation).markedDocument() });
        },
      };
    },
  };
}
