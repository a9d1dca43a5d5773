/**
 * Contender "bare @apollo/gateway": the same Apollo Server + @apollo/gateway versions as ours, the
 * same HTTP bridge and the same mutual-TLS undici transport to the subgraphs, and nothing else: no
 * client identity, no purpose check, no access log. Clients connect over HTTPS (server certificate
 * only). The subgraphs still demand a context token; this gateway adds one it signed at start-up
 * (see contextTokens.ts), chosen by the `x-bench-workload` header.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { loadGatewayConfig } from '../src/config/gatewayConfig.js';
import { loadIdentityConfig } from '../src/config/identityConfig.js';
import { loadSupergraphSdl } from '../src/apollo/supergraph.js';
import { createSubgraphTransport } from '../src/apollo/subgraphTransport.js';
import { apolloRequestHandler } from '../src/apollo/requestHandler.js';
import { keepVendorTelemetryOff } from '../src/observability/tracing.js';
import { readBenchCases, staticContextTokens } from './contextTokens.js';

interface BareContext {
  readonly workload: string | undefined;
}

const config = loadGatewayConfig();
const identity = loadIdentityConfig();
const supergraph = loadSupergraphSdl(config.supergraphPath);
const tokens = await staticContextTokens(identity.gatewaySigningKeyPath, readBenchCases());
const transport = createSubgraphTransport({
  timeoutMs: config.subgraphTimeoutMs,
  tls: { ca: readFileSync(identity.trust.caPath), cert: readFileSync(identity.subgraphClient.certPath), key: readFileSync(identity.subgraphClient.keyPath) },
});

class StaticTokenDataSource extends RemoteGraphQLDataSource<BareContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<BareContext>): void {
    const authorization = tokens.authorization((context as Partial<BareContext>).workload, this.name);
    if (authorization) request.http?.headers.set('authorization', authorization);
  }
  constructor(
    readonly name: string,
    url: string,
  ) {
    super({ url, fetcher: transport.fetcher });
  }
}

// As our gateway: no usage reporting to Apollo, no cloud metadata probes off this machine.
keepVendorTelemetryOff();
const gateway = new ApolloGateway({
  supergraphSdl: supergraph.sdl,
  buildService: ({ name, url }) => new StaticTokenDataSource(name, config.subgraphUrlOverrides.get(name) ?? url ?? ''),
});
const server = new ApolloServer<BareContext>({ gateway, includeStacktraceInErrorResponses: false });
await server.start();
const handle = apolloRequestHandler<BareContext>({
  server,
  maxBodyBytes: config.maxBodyBytes,
  context: async (request) => {
    const workload = request.headers['x-bench-workload'];
    return { workload: typeof workload === 'string' ? workload : undefined };
  },
});
const httpsServer = https.createServer({ cert: readFileSync(identity.trust.certPath), key: readFileSync(identity.trust.keyPath) }, (request, response) => {
  void handle(request, response);
});
httpsServer.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => httpsServer.listen(config.port, config.host, resolve));
const { port } = httpsServer.address() as AddressInfo;
console.log(JSON.stringify({ msg: 'bare apollo ready', url: `https://localhost:${port}/graphql` }));
process.on('SIGTERM', () => {
  tokens.close();
  httpsServer.closeAllConnections();
  httpsServer.close();
  void server
    .stop()
    .then(() => transport.close())
    .then(() => process.exit(0));
});
