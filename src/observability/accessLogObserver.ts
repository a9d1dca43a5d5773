import type { AccessLogEvent } from '../audit/accessLog.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

/** A code a driver gives (SQLITE_BUSY, PostgreSQL's SQLSTATE 55P03, ECONNREFUSED): short and never a value. */
const CODE = /^[A-Za-z0-9_.-]{1,40}$/;
const CLASS_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/**
 * What the process log says about a failed store call: the error's class and code. Never its
 * message: a driver's message can quote the values of the statement (PostgreSQL's "Key (...)=(...)"),
 * and those values are encrypted subjects, cases and officials.
 */
export function describeStoreFailure(error: unknown): { readonly errorClass?: string; readonly errorCode?: string } {
  if (!(error instanceof Error)) return {};
  const code = (error as { code?: unknown }).code;
  const className = error.constructor.name;
  return {
    errorClass: CLASS_NAME.test(className) ? className : 'Error',
    ...(typeof code === 'string' && CODE.test(code) ? { errorCode: code } : {}),
  };
}

/**
 * Follows the access log's events into metrics and the process log. An outage is logged once when
 * it starts, with its reason, and once when it ends, with its length: a log line per refused
 * request would flood the log exactly when an operator needs to read it, and say nothing more.
 * Recovery is logged at warn, not info, so that it shows wherever the outage did.
 */
export function accessLogObserver(options: { readonly metrics: GatewayMetrics; readonly logger: Logger; readonly now?: () => number }): (event: AccessLogEvent) => void {
  const now = options.now ?? Date.now;
  const downSince = new Map<string, number>();
  return (event) => {
    options.metrics.observeAccessLog(event);
    if (event.type === 'unavailable' && !downSince.has(event.chainId)) {
      downSince.set(event.chainId, now());
      options.logger.error(
        { event: 'access-log-unavailable', chainId: event.chainId, reason: event.reason, ...describeStoreFailure(event.error) },
        'access log unavailable: personal data is withheld (503 ACCESS_LOG_UNAVAILABLE) until it recovers',
      );
    } else if (event.type === 'recovered' && downSince.has(event.chainId)) {
      const unavailableMs = now() - downSince.get(event.chainId)!;
      downSince.delete(event.chainId);
      options.logger.warn({ event: 'access-log-recovered', chainId: event.chainId, unavailableMs }, 'access log recovered: commits succeed again');
    }
  };
}
