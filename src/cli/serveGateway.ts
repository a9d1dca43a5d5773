import { ConfigError, loadExchangeConfig, requireConfiguredFiles } from '../config/index.js';
import { createGateway } from '../createGateway.js';
import { loadGatewayDependencies } from '../loadGatewayDependencies.js';
import { runUntilSignal } from './runUntilSignal.js';
import { announcer, createLogger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';

/** Runs the gateway alone (its subgraphs are started elsewhere). */
async function main(): Promise<void> {
  // The one reading of the environment: every module below gets its slice of this tree.
  const exchange = loadExchangeConfig(process.env);
  const logger = createLogger({ level: exchange.observability.logLevel });
  // Registered before the gateway is built, so @apollo/gateway's spans have a provider.
  const tracing = startTracing({ serviceName: 'gateway', config: exchange.observability.tracing });
  const config = exchange.gateway;
  requireConfiguredFiles(exchange.files);
  const limits = config.limits;
  const redisSettings = exchange.redis;
  const deps = await loadGatewayDependencies({
    identity: exchange.identity,
    agreementsPath: config.agreementsPath,
    accessLog: exchange.accessLog,
    transparency: exchange.transparency,
    audit: exchange.auditApi,
    trustedDocumentsDir: config.trustedDocumentsDir,
    onWarning: (message) => logger.warn(message),
    onPartitionEvent: (event) => {
      if (event.kind === 'partition-maintenance-failed') {
        // The class and code, never the driver's message: it can quote the values of the statement.
        const errorCode = (event.error as { code?: unknown }).code;
        logger.warn(
          { event: event.kind, errorClass: event.error.constructor.name, ...(typeof errorCode === 'string' ? { errorCode } : {}) },
          'access-log partition maintenance failed: records of a month without its partition go to the DEFAULT partition until a run succeeds',
        );
      } else {
        logger.info({ event: event.kind, ...event }, `access log: ${event.kind}`);
      }
    },
    redis: limits.redisUrl ? { url: limits.redisUrl, prefix: limits.redisPrefix, settings: redisSettings } : null,
  });
  const gateway = await createGateway(config, { ...deps, logger });
  process.on('SIGHUP', () => {
    try {
      deps.reloadAgreements();
      deps.registry.reload();
      deps.officials.reload();
      deps.trust.reload();
      deps.trustedDocuments?.reload();
      logger.info('configuration reloaded');
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'reload refused; previous configuration stays in force');
    }
  });
  if (config.mode === 'development') {
    logger.warn('DEVELOPMENT MODE: introspection on, ad hoc (unregistered) documents accepted and plain-http subgraph URLs accepted; never run it with real personal data');
  } else {
    logger.info({ dir: config.trustedDocumentsDir, ...deps.trustedDocuments?.summary() }, 'trusted documents only: each agency runs the documents registered for it');
  }
  announcer(logger).info(
    {
      url: gateway.url,
      mode: config.mode,
      rateLimits: limits.rateLimits ? (limits.redisUrl ? 'redis' : 'in-process') : 'off',
      replayCache: limits.redisUrl ? `redis (${redisSettings.replayFallback} while unavailable)` : 'in-process',
      tracing: tracing.enabled ? 'otlp' : 'off',
    },
    'gateway ready',
  );
  // SIGTERM: stop accepting, let in-flight requests finish and commit their entries, then flush
  // the log (a last checkpoint anchors its tail) and exit.
  runUntilSignal(async () => {
    logger.info('shutting down: draining in-flight requests');
    await gateway.close();
    await deps.close();
    await tracing.shutdown();
    logger.info('shutdown complete: requests drained, access log flushed');
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Gateway failed to start: ${(error as Error).message}`);
  process.exit(1);
});
