import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { GatewayError } from '../../src/errors/index.js';
import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import { sharedScalarResolvers } from '../../src/subgraph-kit/scalars.js';
import { checkOperation } from '../../src/policy/checkOperation.js';
import { isInForce, type Agreement } from '../../src/policy/agreements.js';
import type { PersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { isPurpose } from '../../src/policy/purposes.js';
import type { IdentifiedRequest } from '../../src/pipeline/stages.js';

export interface ExchangeSources {
  catalogue(): PersonalFieldCatalogue;
  agreements(): readonly Agreement[];
  today(): string;
}

function callerOf(context: IdentifiedRequest) {
  if (!context.caller) throw GatewayError.field('TOKEN_MISSING', 'The catalogue answers a verified caller only.');
  return context.caller;
}

/** The gateway's own subgraph, run in-process (LocalGraphQLDataSource): the purpose catalogue. */
export function createExchangeSchema(sources: ExchangeSources): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('exchange')),
    resolvers: {
      ...sharedScalarResolvers,
      Query: {
        myPermissions: (_: unknown, args: { purpose?: string | null }, context: IdentifiedRequest) => {
          const caller = callerOf(context);
          const purpose = args.purpose ?? caller.purpose;
          if (!isPurpose(purpose)) throw GatewayError.field('BAD_USER_INPUT', 'Unknown purpose.');
          const catalogue = sources.catalogue();
          return checkOperation({
            catalogue,
            agreements: sources.agreements(),
            clientAgency: caller.agency.id,
            purpose,
            coordinates: catalogue.fields.keys(),
            today: sources.today(),
          }).flatMap((d) =>
            d.outcome === 'allowed' ? [{ field: d.field.coordinate, owner: d.field.owner, category: d.field.category, purpose, agreementId: d.agreement.id, legalBasis: d.agreement.legalBasis }] : [],
          );
        },
        myAgreements: (_: unknown, __: unknown, context: IdentifiedRequest) => {
          const caller = callerOf(context);
          const today = sources.today();
          return sources
            .agreements()
            .filter((a) => a.client === caller.agency.id)
            .map((a) => ({
              id: a.id,
              owner: a.owner,
              categories: [...a.categories],
              purposes: [...a.purposes],
              legalBasis: a.legalBasis,
              processingRegisterRecord: a.processingRegister.recordId,
              processingRegisterVersion: a.processingRegister.version,
              validFrom: a.validFrom,
              validUntil: a.validUntil,
              inForce: isInForce(a, today),
              protectedIdentityAccess: a.protectedIdentityAccess,
            }));
        },
      },
    } as never,
  });
}
