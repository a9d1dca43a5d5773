import { readFileSync } from 'node:fs';
import { ConfigError, loadSubgraphProcessConfig, requireConfiguredFiles } from '../config/index.js';
import { announcer, createLogger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import { serveSubgraph } from '../subgraph-kit/serveSubgraph.js';
import { readGatewayPublicKey } from '../identity/index.js';
import { AgencyModuleError, loadAgencySubgraphFactory } from '../agencies/agencyModules.js';
import { UnknownAgencyError } from '../agencies/referenceAgencies.js';
import { runUntilSignal } from './runUntilSignal.js';
import { loadAgreements } from '../policy/agreements.js';

/**
 * The agency id: `--agency <id>` (as `npm run serve-subgraph -- --agency <id>` passes it) or the
 * first argument (as `npm start` and the tests run it).
 */
function agencyArgument(argv: readonly string[]): string | undefined {
  const flag = argv.findIndex((arg) => arg === '--agency' || arg.startsWith('--agency='));
  if (flag === -1) return argv[0];
  const given = argv[flag]!;
  return given.includes('=') ? given.slice(given.indexOf('=') + 1) : argv[flag + 1];
}

/** Runs one reference agency's subgraph over mutual TLS: `tsx src/cli/serveSubgraph.ts <agencyId>` or `--agency <agencyId>`. */
async function main(): Promise<void> {
  // The one reading of the environment: the modules below get their slices of this tree.
  const settings = loadSubgraphProcessConfig(agencyArgument(process.argv.slice(2)), process.env);
  const config = settings.subgraph;
  requireConfiguredFiles(settings.files);
  const logger = createLogger({ level: settings.observability.logLevel, name: config.agency.id });
  const tracing = startTracing({ serviceName: `subgraph-${config.agency.id}`, config: settings.observability.tracing });
  const subgraph = (await loadAgencySubgraphFactory(config.agency.id))({ dbPath: config.dbPath });
  const agreements = loadAgreements(config.agreementsPath);
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
    agreements: () => agreements,
    acceptUnboundContextTokens: config.acceptUnboundContextTokens,
    timeouts: settings.listener.timeouts,
    logger,
  });
  if (config.acceptUnboundContextTokens) {
    logger.warn({ subgraph: running.name }, 'SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS is set: context tokens may be replayed. For benchmarks only, never in production.');
  }
  announcer(logger).info({ subgraph: running.name, url: running.url, tracing: tracing.enabled ? 'otlp' : 'off' }, 'subgraph ready');
  runUntilSignal(async () => {
    await running.close();
    await tracing.shutdown();
  });
}

main().catch((error: unknown) => {
  // A wrong agency id or a missing agency module is the caller's mistake: exit 2 with the message alone.
  if (error instanceof UnknownAgencyError || error instanceof AgencyModuleError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof ConfigError ? error.message : `Subgraph failed to start: ${(error as Error).message}`);
  process.exit(1);
});
