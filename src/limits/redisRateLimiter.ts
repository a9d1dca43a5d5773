import type { RateLimits } from '../config/limitsConfig.js';
import type { SharedRedis } from '../redis/sharedRedis.js';
import { agencyBucket, MemoryRateLimiter, type RateDecision, type RateLimiter, type RateLimitKey } from './rateLimiter.js';

/**
 * Both buckets refilled, checked and spent in one script, so concurrent requests on several
 * replicas cannot both take the last token. Time is Redis's own clock (TIME), so replicas with
 * skewed clocks still share one rate. Tokens are kept as strings: a Lua number handed to Redis
 * as a reply is truncated to an integer.
 */
const TAKE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, burst, rate)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(v[1])
  local at = tonumber(v[2])
  if tokens == nil or at == nil then return burst end
  return math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
end
local aBurst, aRate = tonumber(ARGV[1]), tonumber(ARGV[2])
local oBurst, oRate = tonumber(ARGV[3]), tonumber(ARGV[4])
local a = level(KEYS[1], aBurst, aRate)
local o = level(KEYS[2], oBurst, oRate)
if a >= 1 and o >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(a - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(aBurst / aRate * 1000) + 1000)
  redis.call('HSET', KEYS[2], 'tokens', tostring(o - 1), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[2], math.ceil(oBurst / oRate * 1000) + 1000)
  return {1, 0, 0}
end
local aWait, oWait = 0, 0
if a < 1 then aWait = math.ceil((1 - a) * 1000 / aRate) end
if o < 1 then oWait = math.ceil((1 - o) * 1000 / oRate) end
if aWait >= oWait then return {0, aWait, 1} end
return {0, oWait, 2}
`;

type TakeTokens = (agencyKey: string, officialKey: string, aBurst: number, aRate: number, oBurst: number, oRate: number) => Promise<[number, number, number]>;

export interface RedisRateLimiterOptions {
  /** Key prefix, so several exchanges (or tests) can share one Redis. */
  readonly prefix?: string;
  /** Called when Redis fails (or its circuit is open) and the in-process buckets decide instead. */
  readonly onFallback?: (error: unknown) => void;
}

/**
 * Token buckets shared through Redis by every replica of the gateway, so an agency's limit is
 * one limit however many replicas serve it. Keys carry the agency in a hash tag (`{agency}`) so
 * both buckets of a request live in one Redis Cluster slot, as one script requires.
 *
 * If Redis fails, or its circuit is open, this replica's in-process buckets decide: the exchange
 * keeps working with a per-replica limit rather than stopping or running unlimited, and a hung
 * Redis costs no wait while the circuit (shared with the replay cache) is open.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #take: TakeTokens;
  readonly #fallback: MemoryRateLimiter;
  readonly #prefix: string;

  constructor(
    private readonly redis: SharedRedis,
    private readonly limits: RateLimits,
    private readonly options: RedisRateLimiterOptions = {},
  ) {
    redis.client.defineCommand('exchangeTakeTokens', { numberOfKeys: 2, lua: TAKE_TOKENS });
    this.#take = (redis.client as unknown as { exchangeTakeTokens: TakeTokens }).exchangeTakeTokens.bind(redis.client);
    this.#fallback = new MemoryRateLimiter(limits);
    this.#prefix = options.prefix ?? 'exchange:rate';
  }

  async take(key: RateLimitKey): Promise<RateDecision> {
    const agency = agencyBucket(this.limits, key.agency);
    const official = this.limits.official;
    try {
      const [allowed, wait, scope] = await this.redis.run('rate-limit', () =>
        this.#take(`${this.#prefix}:{${key.agency}}:agency`, `${this.#prefix}:{${key.agency}}:official:${key.official}`, agency.burst, agency.perSecond, official.burst, official.perSecond),
      );
      return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: wait, scope: scope === 1 ? 'agency' : 'official' };
    } catch (error) {
      this.options.onFallback?.(error);
      return this.#fallback.takeNow(key);
    }
  }

  async close(): Promise<void> {
    await this.#fallback.close();
  }
}
