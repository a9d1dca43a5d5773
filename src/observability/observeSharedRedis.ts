import type { SharedRedis } from '../redis/sharedRedis.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

const EVICTION_WARNING = 'redis may evict keys: request tokens cannot be checked for replay (REPLAY_CACHE_UNAVAILABLE) until maxmemory-policy is noeviction or maxmemory is 0';

/**
 * Turns the Redis connection's events into metrics and log lines: circuit transitions (warn when it
 * opens, info when it closes), connection losses, and an eviction policy under which request-token
 * ids could be dropped (error). Unavailable commands are counted, not logged one by one. Returns an
 * unsubscribe.
 */
export function observeSharedRedis(redis: SharedRedis, options: { readonly metrics: GatewayMetrics; readonly logger: Logger }): () => void {
  const { metrics, logger } = options;
  metrics.setRedisCircuitState(redis.circuitState);
  if (redis.client.status !== 'ready') logger.warn({ status: redis.client.status }, 'redis not connected; reconnecting');
  const policy = redis.evictionPolicy;
  if (policy?.mayEvict) logger.error({ maxmemoryPolicy: policy.policy, maxmemoryBytes: policy.maxmemoryBytes }, EVICTION_WARNING);
  return redis.observe((event) => {
    switch (event.type) {
      case 'circuit':
        metrics.setRedisCircuitState(event.state);
        logger[event.state === 'closed' ? 'info' : 'warn']({ state: event.state, ...(event.cause ? { cause: event.cause } : {}) }, `redis circuit ${event.state}`);
        break;
      case 'unavailable':
        metrics.redisUnavailable.inc({ use: event.use, reason: event.reason });
        break;
      case 'connection-error':
        logger.warn({ err: event.message }, 'redis connection lost; reconnecting');
        break;
      case 'eviction-policy':
        if (event.policy.mayEvict) logger.error({ maxmemoryPolicy: event.policy.policy, maxmemoryBytes: event.policy.maxmemoryBytes }, EVICTION_WARNING);
        else logger.info({ maxmemoryPolicy: event.policy.policy, maxmemoryBytes: event.policy.maxmemoryBytes }, 'redis eviction policy keeps every key');
        break;
    }
  });
}
