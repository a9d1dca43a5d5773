import type { LimitsConfig } from '../config/limitsConfig.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { DenialLogGapReporter } from '../audit/accessLogEntries.js';
import { admitted, type AdmittedRequest, type IdentifiedRequest } from '../pipeline/stages.js';
import type { SharedRedis } from '../redis/sharedRedis.js';
import { MemoryRateLimiter, type RateLimiter } from './rateLimiter.js';
import { RedisRateLimiter } from './redisRateLimiter.js';
import { rateLimitAdmission } from './rateLimitAdmission.js';

export { refuseBatchedRequest, refuseUnservableRequest } from './batching.js';
export { MemoryRateLimiter, type RateLimiter, type RateDecision, type RateLimitKey } from './rateLimiter.js';
export { RedisRateLimiter } from './redisRateLimiter.js';

export interface RequestAdmission {
  /** Rate-limits an identified request; throws RATE_LIMITED (logged as a denial). */
  admit(request: IdentifiedRequest, body: unknown): Promise<AdmittedRequest>;
  close(): Promise<void>;
}

/**
 * The per-agency and per-official rate limit: Redis-backed when REDIS_URL is set (one limit across
 * replicas), else in-process; none when RATE_LIMIT_ENABLED=false. The Redis connection is the one
 * the replay cache uses (`redis`), so both share one circuit breaker.
 */
export async function createRequestAdmission(options: {
  readonly limits: LimitsConfig;
  readonly log: AccessLogSink;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly reportDenialLogGap: DenialLogGapReporter;
  readonly rateLimiter?: RateLimiter | undefined;
  readonly redis?: SharedRedis | undefined;
}): Promise<RequestAdmission> {
  const rateLimits = options.limits.rateLimits;
  if (!rateLimits && !options.rateLimiter) return { admit: async (request) => admitted(request), close: async () => undefined };
  let limiter = options.rateLimiter;
  if (!limiter && rateLimits) {
    if (options.limits.redisUrl) {
      if (!options.redis) throw new Error('REDIS_URL is set but the gateway was given no Redis connection: open it with connectSharedRedis (loadGatewayDependencies does) and pass it as `redis`.');
      limiter = new RedisRateLimiter(options.redis, rateLimits, {
        prefix: `${options.limits.redisPrefix}:rate`,
        onFallback: () => options.metrics.sharedStoreFallbacks.inc({ use: 'rate-limit' }),
      });
    } else {
      limiter = new MemoryRateLimiter(rateLimits);
    }
  }
  const admit = rateLimitAdmission({
    limiter: limiter!,
    log: options.log,
    reportDenialLogGap: options.reportDenialLogGap,
    onDenied: (caller, scope) => options.logger.info({ requestId: caller.requestId, agency: caller.agency.id, scope }, 'rate limited'),
  });
  return {
    admit,
    async close() {
      await limiter?.close();
    },
  };
}
