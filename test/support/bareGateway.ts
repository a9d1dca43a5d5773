import { ApolloServer } from '@apollo/server';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLFormattedError } from 'graphql';
import { createSubgraphTransport, type SubgraphTlsOptions } from '../../src/apollo/subgraphTransport.js';
import { signGatewayContext } from '../../src/identity/gatewayContextToken.js';
import type { CallerContext } from '../../src/identity/callerContext.js';
import { CATEGORIES } from '../../src/policy/purposes.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';

interface BareContext {
  readonly caller: CallerContext;
}

export interface BareGateway {
  /** Runs an operation in process, the subgraphs called as `caller`'s case. */
  query(caller: CallerContext, query: string, variables?: Record<string, unknown>): Promise<{ data?: Record<string, unknown> | null | undefined; errors?: readonly GraphQLFormattedError[] }>;
  close(): Promise<void>;
}

/**
 * Bare @apollo/gateway (ApolloServer + ApolloGateway of the project's own dependencies, nothing of
 * ours around them): the reference a conformance suite compares our gateway's data with.
 *
 * It calls the very same subgraph servers as our gateway. Serving a second, unguarded copy of the
 * subgraphs instead would compare against different subgraphs, and hide the subgraph kit's
 * withholding from the comparison. The kit admits the gateway's client certificate only and wants
 * a caller context the gateway signed for each call, so this data source presents that
 * certificate (the project's undici transport) and signs the caller context with the same key
 * (`signGatewayContext`): what AgencyDataSource sends, and nothing more. No identity check, no
 * purpose check, no subject markers, no access log. `protectedIdentityAccess` is false, as the
 * conformance agreements grant none.
 */
export async function startBareGateway(options: { supergraphSdl: string; signingKey: Parameters<typeof signGatewayContext>[0]; tls: SubgraphTlsOptions }): Promise<BareGateway> {
  const transport = createSubgraphTransport({ timeoutMs: 10_000, tls: options.tls });
  const everyPersonalField = new Set(readPersonalFieldCatalogue(options.supergraphSdl).fields.keys());

  class SigningDataSource extends RemoteGraphQLDataSource<BareContext> {
    constructor(
      readonly subgraph: string,
      url: string,
    ) {
      super({ url, fetcher: transport.fetcher });
    }

    override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<BareContext>): void {
      const caller = (context as Partial<BareContext>).caller;
      if (!caller) return;
      // Every category: bare has no policy, so the kit's guard decides as it would for our gateway with every agreement.
      const token = signGatewayContext(options.signingKey, this.subgraph, { caller, protectedIdentityAccess: false, categories: new Set(CATEGORIES), provided: everyPersonalField }, request);
      request.http?.headers.set('authorization', `Bearer ${token}`);
    }
  }

  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => new SigningDataSource(name, url ?? ''),
  });
  const server = new ApolloServer<BareContext>({ gateway, includeStacktraceInErrorResponses: false });
  await server.start();
  return {
    async query(caller, query, variables) {
      const response = await server.executeOperation({ query, ...(variables ? { variables } : {}) }, { contextValue: { caller } });
      if (response.body.kind !== 'single') throw new Error('bare gateway: expected a single result');
      const { data, errors } = response.body.singleResult;
      return { data: data as Record<string, unknown> | null | undefined, ...(errors ? { errors } : {}) };
    },
    async close() {
      await server.stop();
      await transport.close();
    },
  };
}
