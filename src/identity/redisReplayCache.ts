import type { Redis } from 'ioredis';
import { MemoryReplayCache, type ReplayCache } from './replayCache.js';

export interface RedisReplayCacheOptions {
  readonly prefix?: string;
  /** Called when Redis fails and this replica's memory decides instead. */
  readonly onFallback?: (error: unknown) => void;
}

/**
 * The replay cache shared by every replica: `SET jti NX PXAT exp` is atomic, so of two replicas
 * receiving the same token only one claims it. The key expires with the token, so Redis holds
 * at most the tokens of the last few minutes.
 *
 * If Redis fails, this replica's memory decides: a replay is then refused on the replica that
 * saw the token, though not on another one. The token is bound to the agency's client
 * certificate, so only the holder of that certificate's key could exploit the gap; stopping the
 * whole exchange while Redis is down would be worse.
 */
export class RedisReplayCache implements ReplayCache {
  readonly #fallback = new MemoryReplayCache();
  readonly #prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisReplayCacheOptions = {},
  ) {
    this.#prefix = options.prefix ?? 'exchange:jti';
  }

  async claim(jti: string, expiresAt: Date): Promise<boolean> {
    // Remembered at least a second, so a token expiring now is still refused a second time.
    const until = Math.max(expiresAt.getTime(), Date.now() + 1000);
    try {
      const set = await this.redis.set(`${this.#prefix}:${jti}`, '1', 'PXAT', until, 'NX');
      // Also remembered locally: should Redis fail later, this replica still knows it.
      if (set === 'OK') void this.#fallback.claim(jti, expiresAt).catch(() => undefined);
      return set === 'OK';
    } catch (error) {
      this.options.onFallback?.(error);
      return this.#fallback.claim(jti, expiresAt);
    }
  }
}
