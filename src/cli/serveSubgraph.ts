import { readFileSync } from 'node:fs';
import { loadSubgraphConfig } from '../config/subgraphConfig.js';
import { ConfigError, envField, parseEnv } from '../config/parseEnv.js';
import { announcer, createLogger, LOG_LEVELS } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import { requireConfiguredFiles } from '../config/configuredFiles.js';
import { serveSubgraph } from '../subgraph-kit/serveSubgraph.js';
import { readGatewayPublicKey } from '../identity/index.js';
import { AGENCY_SUBGRAPHS } from '../../resolvers/index.js';
import { runUntilSignal } from './runUntilSignal.js';

/** Runs one reference agency's subgraph over mutual TLS: `tsx src/cli/serveSubgraph.ts <agencyId>`. */
async function main(): Promise<void> {
  const config = loadSubgraphConfig(process.argv[2]);
  requireConfiguredFiles(config.files);
  const { LOG_LEVEL } = parseEnv({ LOG_LEVEL: envField.enumOf(LOG_LEVELS, 'info') });
  const logger = createLogger({ level: LOG_LEVEL, name: config.agency.id });
  const tracing = startTracing({ serviceName: `subgraph-${config.agency.id}` });
  const subgraph = AGENCY_SUBGRAPHS[config.agency.id]({ dbPath: config.dbPath });
  const running = await serveSubgraph(subgraph, {
    host: config.host,
    port: config.port,
    tls: {
      cert: readFileSync(config.tls.certPath),
      key: readFileSync(config.tls.keyPath),
      ca: readFileSync(config.tls.caPath),
      gatewayClientCertificate: readFileSync(config.tls.gatewayClientCertPath),
    },
    gatewayPublicKey: await readGatewayPublicKey(config.gatewaySigningKeyPath),
    logger,
  });
  announcer(logger).info({ subgraph: running.name, url: running.url, tracing: tracing.enabled ? 'otlp' : 'off' }, 'subgraph ready');
  runUntilSignal(async () => {
    await running.close();
    await tracing.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Subgraph failed to start: ${(error as Error).message}`);
  process.exit(1);
});
