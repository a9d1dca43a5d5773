import type { LogVerificationEvent } from '../audit/verify.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * Follows the audit console's full verifications of the access log (src/audit-api/keptLogVerification.ts)
 * into metrics and the process log. A log that no longer verifies is an incident the operator must
 * hear of even if no officer looks at the badge: it is logged as an error when found, and again
 * when a later run passes; a run that could not complete is a warning. Chain ids and error classes
 * only, never an entry.
 */
export function logVerificationObserver(options: { readonly metrics: GatewayMetrics; readonly logger: Logger }): (event: LogVerificationEvent) => void {
  const { metrics, logger } = options;
  let broken: string | null = null;
  return (event) => {
    if (event.kind === 'failed') {
      metrics.logVerificationRuns.inc({ outcome: 'failed' });
      logger.warn({ event: 'access-log-verification-failed', error: event.error }, 'the access log could not be verified for the audit console; the previous result is kept');
      return;
    }
    if (event.kind !== 'finished') return;
    metrics.logVerificationRuns.inc({ outcome: event.ok ? 'ok' : 'broken' });
    metrics.logBroken.set(event.ok ? 0 : 1);
    const now = event.ok ? null : event.broken.join(',');
    if (now === broken) return;
    if (now !== null) logger.error({ event: 'access-log-broken', chains: event.broken }, 'the access log does not verify: run npm run audit -- verify for the first break');
    else logger.warn({ event: 'access-log-verified-again' }, 'the access log verifies again');
    broken = now;
  };
}
