import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REFERENCE_AGENCIES } from '../../src/agencies/referenceAgencies.js';
import { loadIdentityConfig } from '../../src/config/identityConfig.js';
import { loadTransparencyConfig } from '../../src/config/transparencyConfig.js';
import { loadAccessLogConfig } from '../../src/config/accessLogConfig.js';
import { loadRedisSettings } from '../../src/config/redisConfig.js';
import { loadAuditApiConfig } from '../../src/config/auditApiConfig.js';
import { loadGatewayConfig, DEV_AGREEMENTS_PATH } from '../../src/config/gatewayConfig.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { createGateway, type GatewayDependencies, type RunningGateway } from '../../src/createGateway.js';
import { loadGatewayDependencies, type LoadedDependencies } from '../../src/loadGatewayDependencies.js';
import { ensureDevFederation } from '../../src/identity/pki/devFederation.js';
import { DEV_OFFICIAL_REGISTRY_PATH, readAgencyRegistry, readGatewayPublicKey, readOfficialRegistry } from '../../src/identity/index.js';
import { writeStores, samplePersons, agencyDbPath, type SamplePersons } from '../../src/population/index.js';
import { serveSubgraph, type RunningSubgraph, type SubgraphServerOptions } from '../../src/subgraph-kit/serveSubgraph.js';
import { loadAgreements } from '../../src/policy/agreements.js';
import { loadAgencySubgraphFactory } from '../../src/agencies/agencyModules.js';
import { createAgencyClient, type AgencyClient } from '../../src/client/index.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

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
  /** The gateway's process log (pino); warnings and errors to stdout when absent. */
  readonly logger?: Logger;
}

/** Another gateway of the same exchange (see Stack.replica). */
export interface Replica {
  readonly gateway: RunningGateway;
  readonly deps: LoadedDependencies;
  close(): Promise<void>;
}

export interface Stack {
  readonly dir: string;
  readonly certsDir: string;
  readonly dataDir: string;
  readonly sample: SamplePersons;
  readonly gateway: RunningGateway;
  readonly deps: LoadedDependencies;
  readonly subgraphs: ReadonlyMap<string, RunningSubgraph>;
  /**
   * A second gateway replica: the same federation, subgraphs, agreements and Redis (REDIS_URL), its
   * own listener, Redis connection, replay memory and access-log chain; `env` adds to the stack's.
   * Closed with the stack.
   */
  replica(env?: Record<string, string>): Promise<Replica>;
  /** A partner client with the agency's development certificate (of the stack's gateway, or another's URL). */
  client(agencyId: string, claims: RequestTokenClaims, gatewayUrl?: string): AgencyClient;
  /** Store statements run so far, per agency subgraph. */
  queryCounts(): Record<string, number>;
  /** Another gateway over the same subgraphs, log and keys, with more environment (closed with the stack). */
  startGateway(env: Record<string, string>, deps?: Partial<GatewayDependencies>): Promise<RunningGateway>;
  close(): Promise<void>;
}

function collectingLogger(lines: string[], name: string) {
  return createLogger({ level: 'info', name, destination: { write: (line: string) => void lines.push(line) } });
}

/**
 * The whole exchange on loopback, as `npm start` runs it but in one process: a development
 * federation (CA, certificates, keys), a synthetic population, every agency subgraph (REFERENCE_AGENCIES) over
 * mutual TLS and the gateway over mutual TLS, with the access log in SQLite (or PostgreSQL).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'exchange-stack-'));
  const certsDir = path.join(dir, 'certs');
  const dataDir = path.join(dir, 'data');
  const registry = readAgencyRegistry();
  await ensureDevFederation({ dir: certsDir, registry, officials: readOfficialRegistry(DEV_OFFICIAL_REGISTRY_PATH, registry) });
  await writeStores({ dir: dataDir, persons: options.persons ?? 1500, seed: options.seed ?? 7 });
  const sample = samplePersons(dataDir, 10);

  const identity = loadIdentityConfig({ CERTS_DIR: certsDir });
  const gatewayPublicKey = await readGatewayPublicKey(identity.gatewaySigningKeyPath);
  const subgraphs = new Map<string, RunningSubgraph>();
  const subgraphAgreements = loadAgreements(options.agreementsPath ?? DEV_AGREEMENTS_PATH);
  for (const agency of REFERENCE_AGENCIES) {
    const subgraph = (await loadAgencySubgraphFactory(agency.id))({ dbPath: agencyDbPath(dataDir, agency.id) });
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
        // Each agency checks its own agreements too, as a real one would.
        agreements: () => subgraphAgreements,
        ...(options.today ? { today: () => options.today! } : {}),
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
  const startReplica = async (gatewayEnv: Record<string, string>): Promise<Replica> => {
    const config = loadGatewayConfig(gatewayEnv);
    const deps = await loadGatewayDependencies({
      identity,
      agreementsPath: config.agreementsPath,
      accessLog: loadAccessLogConfig(gatewayEnv),
      transparency: loadTransparencyConfig(gatewayEnv),
      audit: loadAuditApiConfig(gatewayEnv),
      onWarning: () => undefined,
      ...(options.trustedDocumentsDir === undefined ? {} : { trustedDocumentsDir: options.trustedDocumentsDir }),
      ...(config.limits?.redisUrl ? { redis: { url: config.limits.redisUrl, prefix: config.limits.redisPrefix, settings: loadRedisSettings(gatewayEnv) } } : {}),
    });
    const gateway = await createGateway(config, {
      ...deps,
      logError: (r) => console.error('GATEWAY ERROR', JSON.stringify(r)),
      ...(options.today ? { today: () => options.today! } : {}),
      ...(options.logger ? { logger: options.logger } : options.logLines ? { logger: collectingLogger(options.logLines, 'gateway') } : {}),
    });
    return {
      gateway,
      deps,
      async close() {
        await gateway.close();
        await deps.close();
      },
    };
  };
  const { gateway, deps } = await startReplica(env);
  const replicas: Replica[] = [];
  const clients: AgencyClient[] = [];
  const moreGateways: RunningGateway[] = [];
  return {
    dir,
    certsDir,
    dataDir,
    sample,
    gateway,
    deps,
    subgraphs,
    async replica(extraEnv = {}) {
      // Its own access-log file and chain: one SQLite log has one writer.
      const replicaDataDir = mkdtempSync(path.join(dir, 'replica-'));
      const replica = await startReplica({ ...env, DATA_DIR: replicaDataDir, AUDIT_CHAIN_ID: `test-${path.basename(replicaDataDir)}`, ...extraEnv });
      replicas.push(replica);
      return replica;
    },
    client(agencyId, claims, gatewayUrl) {
      const client = createAgencyClient({
        certPath: path.join(certsDir, 'agencies', `${agencyId}.crt`),
        keyPath: path.join(certsDir, 'agencies', `${agencyId}.key`),
        caPath: path.join(certsDir, 'ca.crt'),
        gatewayUrl: gatewayUrl ?? gateway.url,
        ...claims,
      });
      clients.push(client);
      return client;
    },
    queryCounts() {
      return Object.fromEntries([...subgraphs].map(([name, s]) => [name, s.subgraph.queryCount()]));
    },
    async startGateway(moreEnv, moreDeps = {}) {
      const another = await createGateway(loadGatewayConfig({ ...env, ...moreEnv }), { ...deps, ...moreDeps });
      moreGateways.push(another);
      return another;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(replicas.map((r) => r.close()));
      await Promise.all(moreGateways.map((g) => g.close()));
      await gateway.close();
      await deps.close();
      await Promise.all([...subgraphs.values()].map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * How to serve one more subgraph with the kit inside a stack's federation: mutual TLS with a
 * server certificate of the federation CA (an agency's: any one for 127.0.0.1 does, the gateway's
 * transport checks the CA), admitting the gateway's client certificate, and the gateway's key to
 * verify caller contexts.
 */
export async function kitServerOptions(stack: Stack): Promise<Required<Pick<SubgraphServerOptions, 'tls' | 'gatewayPublicKey'>>> {
  return {
    tls: {
      cert: readFileSync(path.join(stack.certsDir, 'servers', 'csn.crt')),
      key: readFileSync(path.join(stack.certsDir, 'servers', 'csn.key')),
      ca: readFileSync(path.join(stack.certsDir, 'ca.crt')),
      gatewayClientCertificate: readFileSync(path.join(stack.certsDir, 'servers', 'gateway-client.crt')),
    },
    gatewayPublicKey: await readGatewayPublicKey(path.join(stack.certsDir, 'gateway-signing.jwk.json')),
  };
}
