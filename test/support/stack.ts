import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REFERENCE_AGENCIES } from '../../src/agencies/referenceAgencies.js';
import { loadIdentityConfig } from '../../src/config/identityConfig.js';
import { loadAccessLogConfig } from '../../src/config/accessLogConfig.js';
import { loadAuditApiConfig } from '../../src/audit-api/config.js';
import { loadGatewayConfig, DEV_AGREEMENTS_PATH } from '../../src/config/gatewayConfig.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { createGateway, type RunningGateway } from '../../src/createGateway.js';
import { loadGatewayDependencies, type LoadedDependencies } from '../../src/gateway/loadGatewayDependencies.js';
import { ensureDevFederation } from '../../src/identity/pki/devFederation.js';
import { readAgencyRegistry, readGatewayPublicKey } from '../../src/identity/index.js';
import { writeStores, samplePersons, agencyDbPath, type SamplePersons } from '../../src/population/index.js';
import { serveSubgraph, type RunningSubgraph } from '../../src/subgraph-kit/serveSubgraph.js';
import { AGENCY_SUBGRAPHS } from '../../resolvers/index.js';
import { createAgencyClient, type AgencyClient } from '../../src/client/index.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';
import { createLogger } from '../../src/observability/logger.js';

export interface StackOptions {
  readonly persons?: number;
  readonly seed?: number;
  readonly agreementsPath?: string;
  readonly supergraphPath?: string;
  /** Extra environment for the gateway and access-log configuration (e.g. DATABASE_URL). */
  readonly env?: Record<string, string>;
  /** ISO date the agreements are judged on. */
  readonly today?: string;
  /** Per-agency trusted document manifests: given, production mode runs only registered documents. */
  readonly trustedDocumentsDir?: string;
  /** Collects the gateway's and the subgraphs' log lines (pino JSON, level info) here; warnings to stdout when absent. */
  readonly logLines?: string[];
  /** The URL the gateway uses for a subgraph (e.g. a fault-injecting proxy in front of it); the subgraph's own URL when absent. */
  readonly subgraphUrl?: (agencyId: string, url: string) => string | Promise<string>;
}

export interface Stack {
  readonly dir: string;
  readonly certsDir: string;
  readonly dataDir: string;
  readonly sample: SamplePersons;
  readonly gateway: RunningGateway;
  readonly deps: LoadedDependencies;
  readonly subgraphs: ReadonlyMap<string, RunningSubgraph>;
  /** A partner client with the agency's development certificate. */
  client(agencyId: string, claims: RequestTokenClaims): AgencyClient;
  /** Store statements run so far, per agency subgraph. */
  queryCounts(): Record<string, number>;
  close(): Promise<void>;
}

function collectingLogger(lines: string[], name: string) {
  return createLogger({ level: 'info', name, destination: { write: (line: string) => void lines.push(line) } });
}

/**
 * The whole exchange on loopback, as `npm start` runs it but in one process: a development
 * federation (CA, certificates, keys), a synthetic population, the four agency subgraphs over
 * mutual TLS and the gateway over mutual TLS, with the access log in SQLite (or PostgreSQL).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exchange-stack-'));
  const certsDir = path.join(dir, 'certs');
  const dataDir = path.join(dir, 'data');
  await ensureDevFederation({ dir: certsDir, registry: readAgencyRegistry() });
  writeStores({ dir: dataDir, persons: options.persons ?? 1500, seed: options.seed ?? 7 });
  const sample = samplePersons(dataDir, 10);

  const identity = loadIdentityConfig({ CERTS_DIR: certsDir });
  const gatewayPublicKey = await readGatewayPublicKey(identity.gatewaySigningKeyPath);
  const subgraphs = new Map<string, RunningSubgraph>();
  for (const agency of REFERENCE_AGENCIES) {
    const subgraph = AGENCY_SUBGRAPHS[agency.id]({ dbPath: agencyDbPath(dataDir, agency.id) });
    subgraphs.set(
      agency.id,
      await serveSubgraph(subgraph, {
        port: 0,
        tls: {
          cert: readFileSync(path.join(certsDir, 'servers', `${agency.id}.crt`)),
          key: readFileSync(path.join(certsDir, 'servers', `${agency.id}.key`)),
          ca: readFileSync(path.join(certsDir, 'ca.crt')),
          gatewayClientCertificate: readFileSync(identity.subgraphClient.certPath),
        },
        gatewayPublicKey,
        ...(options.logLines ? { logger: collectingLogger(options.logLines, agency.id) } : {}),
      }),
    );
  }
  const subgraphUrls: string[] = [];
  for (const s of subgraphs.values()) subgraphUrls.push(`${s.name}=${options.subgraphUrl ? await options.subgraphUrl(s.name, s.url) : s.url}`);
  const env = {
    GATEWAY_PORT: '0',
    SUPERGRAPH_PATH: options.supergraphPath ?? DEFAULT_SUPERGRAPH_PATH,
    AGREEMENTS_PATH: options.agreementsPath ?? DEV_AGREEMENTS_PATH,
    SUBGRAPH_URLS: subgraphUrls.join(','),
    DATA_DIR: dataDir,
    AUDIT_KEYS_PATH: identity.auditKeysPath,
    GATEWAY_SIGNING_KEY_PATH: identity.gatewaySigningKeyPath,
    AUDIT_CHAIN_ID: 'test-gateway',
    // Tests send bursts from one official; the rate-limit tests switch it on with their own limits.
    RATE_LIMIT_ENABLED: 'false',
    ...options.env,
  };
  const config = loadGatewayConfig(env);
  const deps = await loadGatewayDependencies({
    identity,
    agreementsPath: config.agreementsPath,
    accessLog: loadAccessLogConfig(env),
    audit: loadAuditApiConfig(env),
    onWarning: () => undefined,
    ...(options.trustedDocumentsDir === undefined ? {} : { trustedDocumentsDir: options.trustedDocumentsDir }),
    ...(config.limits?.redisUrl ? { redis: { url: config.limits.redisUrl, prefix: config.limits.redisPrefix } } : {}),
  });
  const gateway = await createGateway(config, {
    ...deps,
    logError: (r) => console.error('GATEWAY ERROR', JSON.stringify(r)),
    ...(options.today ? { today: () => options.today! } : {}),
    ...(options.logLines ? { logger: collectingLogger(options.logLines, 'gateway') } : {}),
  });
  const clients: AgencyClient[] = [];
  return {
    dir,
    certsDir,
    dataDir,
    sample,
    gateway,
    deps,
    subgraphs,
    client(agencyId, claims) {
      const client = createAgencyClient({
        certPath: path.join(certsDir, 'agencies', `${agencyId}.crt`),
        keyPath: path.join(certsDir, 'agencies', `${agencyId}.key`),
        caPath: path.join(certsDir, 'ca.crt'),
        gatewayUrl: gateway.url,
        ...claims,
      });
      clients.push(client);
      return client;
    },
    queryCounts() {
      return Object.fromEntries([...subgraphs].map(([name, s]) => [name, s.subgraph.queryCount()]));
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await gateway.close();
      await deps.close();
      await Promise.all([...subgraphs.values()].map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
