import type { DenialLogGapReporter } from '../audit/accessLogEntries.js';
import { describeStoreFailure } from './accessLogObserver.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * A refusal whose entries the access log could not take still refuses (recordDenials); the gap
 * is the operator's to see, in the process log (by request id, never the caller's case or
 * subjects) and as gateway_access_log_denial_gaps_total.
 */
export function denialLogGapReporter(options: { readonly logger: Logger; readonly metrics: GatewayMetrics }): DenialLogGapReporter {
  return (error, caller) => {
    options.metrics.accessLogDenialGaps.inc();
    options.logger.warn({ requestId: caller.requestId, ...describeStoreFailure(error) }, 'a refusal could not be logged; the refusal stands');
  };
}
