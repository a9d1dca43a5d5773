import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import type { GatewayContext } from './gatewayContext.js';

export interface AgencyDataSourceOptions {
  readonly name: string;
  readonly url: string;
  readonly fetcher: Fetcher;
  /** Signs the verified caller context for the subgraph; absent only in development mode. */
  readonly signContext?: (context: GatewayContext, subgraph: string) => Promise<string>;
}

/**
 * A subgraph call. The caller's identity travels as a short-lived token signed by the gateway, so
 * the subgraph never has to trust headers a client could have set.
 */
export class AgencyDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #signContext: AgencyDataSourceOptions['signContext'];

  constructor(options: AgencyDataSourceOptions) {
    super({ url: options.url, fetcher: options.fetcher });
    this.#name = options.name;
    this.#signContext = options.signContext;
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = request.http?.headers;
    // Apollo also calls data sources outside requests (health checks) with an empty context.
    const gatewayContext = context as Partial<GatewayContext>;
    if (!headers || typeof gatewayContext.requestId !== 'string') return;
    headers.set('x-request-id', gatewayContext.requestId);
    if (this.#signContext) headers.set('authorization', `Bearer ${await this.#signContext(gatewayContext as GatewayContext, this.#name)}`);
  }
}
