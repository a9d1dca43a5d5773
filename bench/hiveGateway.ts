/**
 * Contenders "bare Hive Gateway" and "bare Hive Gateway (Rust planner)": @graphql-hive/gateway-runtime
 * (the engine the @graphql-hive/gateway CLI runs, MIT) on the same supergraph, with the subgraph URLs
 * replaced by the bench's. Upstream it uses Hive's documented way to present a client certificate
 * (`customAgent`: a keep-alive https.Agent with the gateway's client certificate), and its header
 * propagation adds the context token signed at start-up (contextTokens.ts). Clients connect over
 * HTTPS (server certificate only). No identity, policy or log.
 *
 * With BENCH_HIVE_PLANNER=rust the runtime plans with `@graphql-hive/router-runtime` instead: Hive
 * Router's Rust query planner (`@graphql-hive/router-query-planner`, a prebuilt N-API binary shipped
 * inside the package, no install script) and its plan executor, plugged in as the runtime's
 * `unifiedGraphHandler`. Subgraph calls go through the same HTTP transport, so the two contenders
 * differ only in planning and execution; one file keeps the rest of their set-up the same.
 *
 * Both packages live in bench/node_modules only; the dynamic imports keep the product's typecheck
 * independent of them.
 */
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadGatewayConfig } from '../src/config/gatewayConfig.js';
import { loadIdentityConfig } from '../src/config/identityConfig.js';
import { readBenchCases, staticContextTokens } from './contextTokens.js';

const HIVE_RUNTIME = '@graphql-hive/gateway-runtime';
const HIVE_ROUTER_RUNTIME = '@graphql-hive/router-runtime';
const RUST_PLANNER = process.env['BENCH_HIVE_PLANNER'] === 'rust';

interface HiveRuntimeModule {
  createGatewayRuntime(config: Record<string, unknown>): RequestListener & { dispose?(): Promise<void> | void };
}

interface HiveRouterRuntimeModule {
  /** Hive's `UnifiedGraphHandler`: passed through to the runtime untouched. */
  unifiedGraphHandler: unknown;
}

const { createGatewayRuntime } = (await import(HIVE_RUNTIME)) as HiveRuntimeModule;
const planner = RUST_PLANNER ? { unifiedGraphHandler: ((await import(HIVE_ROUTER_RUNTIME)) as HiveRouterRuntimeModule).unifiedGraphHandler } : {};
const config = loadGatewayConfig();
const identity = loadIdentityConfig();
let supergraph = readFileSync(config.supergraphPath, 'utf8');
for (const [name, url] of config.subgraphUrlOverrides) {
  supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*(")`), `$1${url}$2`);
}
const tokens = await staticContextTokens(identity.gatewaySigningKeyPath, readBenchCases());
const agent = new https.Agent({
  keepAlive: true,
  maxSockets: 64,
  ca: readFileSync(identity.trust.caPath),
  cert: readFileSync(identity.subgraphClient.certPath),
  key: readFileSync(identity.subgraphClient.keyPath),
});
const gateway = createGatewayRuntime({
  supergraph,
  ...planner,
  logging: process.env['BENCH_DEBUG'] ? 'debug' : false,
  ...(process.env['BENCH_DEBUG'] ? { maskedErrors: false } : {}),
  graphiql: false,
  landingPage: false,
  customAgent: () => agent,
  // Hive deduplicates identical in-flight subgraph requests by default. A closed loop repeating one
  // operation would turn that into a shortcut no real traffic gets (each case has its own subjects
  // and context token), so it is off, as the other contenders have nothing like it.
  transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, subgraphName }: { request: Request; subgraphName: string }) => {
      const authorization = tokens.authorization(request.headers.get('x-bench-workload') ?? undefined, subgraphName);
      return authorization ? { authorization } : {};
    },
  },
});
const httpsServer = https.createServer({ cert: readFileSync(identity.trust.certPath), key: readFileSync(identity.trust.keyPath) }, gateway);
httpsServer.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => httpsServer.listen(config.port, config.host, resolve));
const { port } = httpsServer.address() as AddressInfo;
console.log(JSON.stringify({ msg: RUST_PLANNER ? 'hive gateway (rust planner) ready' : 'hive gateway ready', url: `https://localhost:${port}/graphql` }));
process.on('SIGTERM', () => {
  tokens.close();
  httpsServer.closeAllConnections();
  httpsServer.close();
  agent.destroy();
  void Promise.resolve(gateway.dispose?.()).finally(() => process.exit(0));
});
