import net from 'node:net';
import path from 'node:path';
import { REFERENCE_AGENCIES } from '../agencies/referenceAgencies.js';
import { loadIdentityConfig } from '../config/identityConfig.js';
import { ensureDevFederation } from '../identity/pki/devFederation.js';
import { readAgencyRegistry } from '../identity/registry.js';
import { writeStores } from '../population/index.js';
import { startService, type ServiceProcess } from './processes.js';

export interface ExchangeProcesses {
  readonly certsDir: string;
  readonly dataDir: string;
  /** Where the access log's keys are, as environment variables. */
  readonly keyEnv: { readonly AUDIT_KEYS_PATH: string; readonly GATEWAY_SIGNING_KEY_PATH: string };
  readonly gateway: ServiceProcess;
  readonly gatewayUrl: string;
  readonly subgraphs: Map<string, ServiceProcess>;
  /** Starts (or starts again) one agency's subgraph on its port; the caller puts it in `subgraphs`. */
  startSubgraph(agencyId: string): ServiceProcess;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The exchange as separate processes, as in production: a development federation and a synthetic
 * population under `dir`, every agency subgraph (REFERENCE_AGENCIES) and the gateway (development mode, so ad hoc
 * documents run; subgraphs are still reached over mutual TLS) each in its own Node process.
 */
export async function startExchangeProcesses(options: {
  readonly dir: string;
  readonly persons: number;
  readonly seed: number;
  /** More gateway environment (timeouts, limits, ...). */
  readonly gatewayEnv?: Record<string, string>;
  /** Pass the services' standard output through (default true). */
  readonly echoStdout?: boolean;
}): Promise<ExchangeProcesses> {
  const certsDir = path.join(options.dir, 'certs');
  const dataDir = path.join(options.dir, 'data');
  await ensureDevFederation({ dir: certsDir, registry: readAgencyRegistry() });
  await writeStores({ dir: dataDir, persons: options.persons, seed: options.seed });
  const ports = new Map<string, number>();
  for (const agency of REFERENCE_AGENCIES) ports.set(agency.id, await freePort());
  const gatewayPort = await freePort();
  const identity = loadIdentityConfig({ CERTS_DIR: certsDir });
  const keyEnv = { AUDIT_KEYS_PATH: identity.auditKeysPath, GATEWAY_SIGNING_KEY_PATH: identity.gatewaySigningKeyPath };
  const baseEnv = { ...process.env, DATA_DIR: dataDir, CERTS_DIR: certsDir, LOG_LEVEL: 'warn', ...keyEnv };
  // A service that hangs before it is ready must not hang the soak or the bench with it.
  const echo = { echoStdout: options.echoStdout ?? true, readyTimeoutMs: 180_000 };
  const startSubgraph = (id: string) => startService(id, 'src/cli/serveSubgraph.ts', { args: [id], env: { ...baseEnv, SUBGRAPH_PORT: String(ports.get(id)) }, ...echo });
  const subgraphs = new Map<string, ServiceProcess>(REFERENCE_AGENCIES.map((a) => [a.id, startSubgraph(a.id)]));
  await Promise.all([...subgraphs.values()].map((s) => s.ready));
  const gateway = startService('gateway', 'src/cli/serveGateway.ts', {
    env: {
      ...baseEnv,
      GATEWAY_MODE: 'development',
      GATEWAY_PORT: String(gatewayPort),
      SUBGRAPH_URLS: REFERENCE_AGENCIES.map((a) => `${a.id}=https://127.0.0.1:${ports.get(a.id)}/graphql`).join(','),
      ...options.gatewayEnv,
      // The ready line is an info line: without it the gateway never counts as started.
      LOG_LEVEL: 'info',
    },
    ...echo,
  });
  const ready = await gateway.ready;
  return { certsDir, dataDir, keyEnv, gateway, gatewayUrl: String(ready['url']), subgraphs, startSubgraph };
}
