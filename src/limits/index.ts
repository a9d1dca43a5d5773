import { Redis } from 'ioredis';
import type { LimitsConfig } from '../config/limitsConfig.js';
import type { AccessLogSink } from '../audit/accessLog.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { CallerContext } from '../identity/callerContext.js';
import { MemoryRateLimiter, type RateLimiter } from './rateLimiter.js';
import { RedisRateLimiter } from './redisRateLimiter.js';
import { rateLimitAdmission } from './rateLimitAdmission.js';

export { operationLimitCheck } from './operationLimits.js';
export { requestRefusalPlugin } from './requestRefusalPlugin.js';
export { refuseBatchedRequest, refuseUnservableRequest } from './batching.js';
export { MemoryRateLimiter, type RateLimiter, type RateDecision, type RateLimitKey } from './rateLimiter.js';
export { RedisRateLimiter } from './redisRateLimiter.js';

/**
 * A Redis client that fails fast: a slow or absent Redis must not hold requests (its users fall
 * back in-process), so commands are not queued while disconnected. Resolves once connected, or
 * after `readyTimeoutMs` without (the client keeps reconnecting; until then the fallback decides).
 */
export async function connectRedis(url: string, options: { readonly onError?: (error: Error) => void; readonly readyTimeoutMs?: number } = {}): Promise<Redis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000, connectTimeout: 2000 });
  redis.on('error', options.onError ?? (() => undefined));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.readyTimeoutMs ?? 2000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return redis;
}

export interface RequestAdmission {
  /** Rate-limits an authenticated request; throws RATE_LIMITED (logged as a denial). */
  admit(caller: CallerContext, body: unknown): Promise<void>;
  close(): Promise<void>;
}

/**
 * The per-agency and per-official rate limit: Redis-backed when REDIS_URL is set (one limit across
 * replicas), else in-process; none when RATE_LIMIT_ENABLED=false.
 */
export async function createRequestAdmission(options: {
  readonly limits: LimitsConfig;
  readonly log: AccessLogSink;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly rateLimiter?: RateLimiter;
}): Promise<RequestAdmission> {
  const rateLimits = options.limits.rateLimits;
  if (!rateLimits && !options.rateLimiter) return { admit: async () => undefined, close: async () => undefined };
  let redis: Redis | undefined;
  let limiter = options.rateLimiter;
  if (!limiter && rateLimits) {
    if (options.limits.redisUrl) {
      redis = await connectRedis(options.limits.redisUrl, {
        onError: (error) => options.logger.warn({ err: error.message }, 'redis connection error; rate limits fall back to this replica'),
      });
      limiter = new RedisRateLimiter(redis, rateLimits, {
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
    onDenied: (caller, scope) => options.logger.info({ requestId: caller.requestId, agency: caller.agency.id, scope }, 'rate limited'),
  });
  return {
    admit,
    async close() {
      await limiter?.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
