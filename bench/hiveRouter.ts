/**
 * Contender "bare Hive Gateway (Rust planner)": the same @graphql-hive/gateway-runtime set up exactly
 * as hiveGateway.ts (same supergraph with the bench's subgraph URLs, `customAgent` with the gateway's
 * client certificate, the start-up context token by header propagation, in-flight deduplication off),
 * but planning with `@graphql-hive/router-runtime`: Hive Router's Rust query planner
 * (`@graphql-hive/router-query-planner`, a prebuilt N-API binary shipped inside the package, no
 * install script) and its query-plan executor, plugged in as the runtime's `unifiedGraphHandler`.
 * Subgraph calls still go through the runtime's HTTP transport, so both Hive contenders differ only
 * in planning and execution. No identity, policy or log.
 *
 * The set-up is repeated from hiveGateway.ts rather than shared so that either contender's file can
 * change without moving the other's figures; keep the two in step.
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

interface HiveRuntimeModule {
  createGatewayRuntime(config: Record<string, unknown>): RequestListener & { dispose?(): Promise<void> | void };
}
interface HiveRouterRuntimeModule {
  /** Hive's `UnifiedGraphHandler`: passed through to the runtime untouched. */
  unifiedGraphHandler: unknown;
}

const { createGatewayRuntime } = (await import(HIVE_RUNTIME)) as HiveRuntimeModule;
const { unifiedGraphHandler } = (await import(HIVE_ROUTER_RUNTIME)) as HiveRouterRuntimeModule;
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
  unifiedGraphHandler,
  logging: process.env['BENCH_DEBUG'] ? 'debug' : false,
  ...(process.env['BENCH_DEBUG'] ? { maskedErrors: false } : {}),
  graphiql: false,
  landingPage: false,
  customAgent: () => agent,
  // As in hiveGateway.ts: no shortcut for a closed loop repeating one operation.
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
console.log(JSON.stringify({ msg: 'hive gateway (rust planner) ready', url: `https://localhost:${port}/graphql` }));
process.on('SIGTERM', () => {
  tokens.close();
  httpsServer.closeAllConnections();
  httpsServer.close();
  agent.destroy();
  void Promise.resolve(gateway.dispose?.()).finally(() => process.exit(0));
});
