import { pino, type DestinationStream, type Logger } from 'pino';
import { loadLogLevel } from '../config/observabilityConfig.js';

export type { Logger } from 'pino';

export { LOG_LEVELS } from '../config/observabilityConfig.js';

/**
 * Properties that could hold a personal value if someone logged the wrong object. Our own log
 * calls name agencies, codes, fields and request ids only; this is the second line of defence.
 */
const REDACTED = ['subject', 'subjects', 'personnummer', 'variables', 'caseId', '*.subject', '*.subjects', '*.personnummer', '*.variables', '*.caseId'];

/**
 * The gateway's operational log: one JSON object per line (pino), with the request id wherever
 * there is one, so a partner's quoted id finds every line of its request. It never holds personal
 * data; who read what about whom belongs in the access log, which is encrypted and chained.
 * Without a level, LOG_LEVEL decides (read by src/config/): a subgraph-kit user's
 * createLogger({ name }) honours it as the services do.
 */
export function createLogger(options: { readonly level?: string; readonly name?: string; readonly destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? loadLogLevel(),
      base: { service: options.name ?? 'gateway' },
      redact: { paths: REDACTED, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing (tests and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * For the line a parent process waits for ("… ready", see startService): written at info whatever
 * LOG_LEVEL says, so a quiet service still announces itself.
 */
export function announcer(logger: Logger): Logger {
  return logger.child({}, { level: 'info' });
}
