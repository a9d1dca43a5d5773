import { GatewayError } from '../errors/index.js';
import type { ReplayCacheFallback } from '../config/redisConfig.js';
import { RedisUnavailableError, type SharedRedis } from '../redis/sharedRedis.js';
import { MemoryReplayCache, type ReplayCache, type ReplayClaim } from './replayCache.js';

/**
 * One round trip: the keyspace's epoch, then the claim. The epoch is the moment (on Redis's clock)
 * from which this Redis has remembered every claim; it is set afresh when the key is missing (a
 * flush, a new keyspace, an eviction) and when Redis's run_id differs from the one recorded with it
 * (a restart, which may have reloaded a snapshot older than the last claims, or a failover to a
 * replica that had not received them). A token that could have been accepted before the epoch
 * (`iat` minus the clock tolerance earlier than it) may have been claimed in the memory that was
 * lost, so it is refused; any token minted a clock tolerance after the epoch is claimed as usual.
 * `iat` is also held to Redis's clock (at most the tolerance ahead), as the gateway holds it to its
 * own: every claim then has an `iat` within the tolerance of Redis's time of claiming, so the rule
 * holds even where a gateway's clock runs ahead of Redis's.
 *
 * Returns {1, 0} claimed, {0, 0} claimed before, {2, ms} predates the epoch (ms until a token
 * minted now would be accepted), {3, 0} `iat` ahead of Redis's clock.
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or ''
local epoch = redis.call('HMGET', KEYS[1], 'at', 'run')
local at = tonumber(epoch[1])
if at == nil or epoch[2] ~= run then
  at = now
  redis.call('HSET', KEYS[1], 'at', tostring(at), 'run', run)
end
local from = tonumber(ARGV[1]) - tonumber(ARGV[2])
if from > now then return {3, 0} end
if from < at then return {2, at + tonumber(ARGV[2]) - now} end
local expiry = math.max(tonumber(ARGV[3]), now + 1000)
if redis.call('SET', KEYS[2], '1', 'PXAT', expiry, 'NX') then return {1, 0} end
return {0, 0}
`;

/** Records an epoch that predates every token, only where there is no epoch yet. */
const DECLARE_UNUSED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') or ''
redis.call('HSET', KEYS[1], 'at', '0', 'run', run)
return 1
`;

type ClaimScript = (epochKey: string, idKey: string, issuedAtMs: number, toleranceMs: number, untilMs: number) => Promise<[number, number]>;
type DeclareUnusedScript = (epochKey: string) => Promise<number>;

const CLAIMED = 1;
const CLAIMED_BEFORE = 0;
const ISSUED_IN_THE_FUTURE = 3;

export interface RedisReplayCacheOptions {
  /** Key prefix, so several exchanges (or tests) can share one Redis. */
  readonly prefix?: string;
  /** While Redis is unavailable: refuse (default), or let this replica's memory decide (one replica only). */
  readonly fallback?: ReplayCacheFallback;
}

/**
 * The replay cache shared by every replica: of two replicas receiving the same token only one
 * claims it (`SET NX PXAT`, atomic), and the key expires when the token would be refused anyway.
 *
 * Accepted once by the whole deployment, across Redis failures:
 * - This replica's memory is asked first and remembers every token it accepts, so it never accepts
 *   one twice whatever happens to Redis.
 * - A Redis that lost claims (restart, failover, flush) is recognised by its epoch (see CLAIM), and
 *   tokens that could have been claimed before are refused with REPLAY_CACHE_RESET (503, Retry-After:
 *   a token minted then is accepted).
 * - While Redis cannot answer (down, hung, open circuit) or may evict keys, requests are refused
 *   with REPLAY_CACHE_UNAVAILABLE (503, Retry-After): another replica might have accepted the token.
 *   A single-replica deployment may choose `fallback: 'local'` instead, where its memory is exact.
 * Redis must run with `maxmemory-policy noeviction` (or no memory limit): an evicted id could be
 * replayed, and evictions are not announced.
 */
export class RedisReplayCache implements ReplayCache {
  readonly #local = new MemoryReplayCache();
  readonly #claim: ClaimScript;
  readonly #declareUnused: DeclareUnusedScript;
  readonly #epochKey: string;
  readonly #idPrefix: string;

  constructor(
    private readonly redis: SharedRedis,
    private readonly options: RedisReplayCacheOptions = {},
  ) {
    // One hash tag for the whole keyspace: the script reads the epoch and writes an id together, so
    // in a Redis Cluster they must share a slot.
    const tag = `{${options.prefix ?? 'exchange:jti'}}`;
    this.#epochKey = `${tag}:epoch`;
    this.#idPrefix = `${tag}:id:`;
    redis.client.defineCommand('exchangeClaimTokenId', { numberOfKeys: 2, lua: CLAIM });
    redis.client.defineCommand('exchangeDeclareReplayKeyspaceUnused', { numberOfKeys: 1, lua: DECLARE_UNUSED });
    const commands = redis.client as unknown as { exchangeClaimTokenId: ClaimScript; exchangeDeclareReplayKeyspaceUnused: DeclareUnusedScript };
    this.#claim = commands.exchangeClaimTokenId.bind(redis.client);
    this.#declareUnused = commands.exchangeDeclareReplayKeyspaceUnused.bind(redis.client);
  }

  async claim(claim: ReplayClaim): Promise<boolean> {
    // Claimed here first (atomically within this process), so concurrent requests with one token
    // on this replica reach Redis at most once, and a replay this replica saw costs no round trip.
    if (!(await this.#local.claim(claim))) return false;
    let outcome: [number, number];
    try {
      outcome = await this.redis.run(
        'replay-cache',
        () => this.#claim(this.#epochKey, `${this.#idPrefix}${claim.id}`, claim.issuedAt.getTime(), claim.clockToleranceMs, claim.acceptableUntil.getTime()),
        { requireNoEviction: true },
      );
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      if (this.options.fallback === 'local') return true;
      this.#local.forget(claim.id);
      throw refusal('REPLAY_CACHE_UNAVAILABLE', 'Request tokens cannot be checked for replay right now; retry later.', error.retryAfterMs);
    }
    const [result, waitMs] = outcome;
    if (result === CLAIMED) return true;
    if (result === CLAIMED_BEFORE) return false;
    this.#local.forget(claim.id);
    if (result === ISSUED_IN_THE_FUTURE) throw new GatewayError('TOKEN_INVALID_CLAIM', 'Request token claim "iat" is in the future; check the client clock.', { claim: 'iat' });
    throw refusal('REPLAY_CACHE_RESET', 'The replay cache was reset and this request token may have been used before it; mint a new request token.', waitMs);
  }

  /**
   * Declares a keyspace no gateway has used yet (a new deployment, a test), so that the first
   * tokens are not refused as possibly used before. Does nothing where an epoch exists. Never for a
   * Redis that lost data: that is the case the epoch is there to catch. True when it declared.
   */
  async declareUnused(): Promise<boolean> {
    return (await this.redis.run('replay-cache', () => this.#declareUnused(this.#epochKey))) === 1;
  }
}

function refusal(code: 'REPLAY_CACHE_UNAVAILABLE' | 'REPLAY_CACHE_RESET', message: string, retryAfterMs: number): GatewayError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GatewayError(code, message, { retryAfterSeconds }, { httpHeaders: new Map([['retry-after', String(retryAfterSeconds)]]) });
}
