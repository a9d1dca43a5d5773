import { Redis } from 'ioredis';
import { DEFAULT_REDIS_SETTINGS, type RedisSettings } from '../config/redisConfig.js';
import { CircuitBreaker, type CircuitState } from '../resilience/circuitBreaker.js';

/** The gateway's users of Redis (metric labels). */
export type RedisUse = 'replay-cache' | 'rate-limit';

/**
 * Why a command did not run or failed: it timed out, failed otherwise (connection refused or lost,
 * out of memory), was refused by the open circuit, or needs a Redis that never evicts keys and
 * this one may.
 */
export type RedisFailure = 'timeout' | 'error' | 'circuit-open' | 'eviction-policy';

export class RedisUnavailableError extends Error {
  constructor(
    readonly reason: RedisFailure,
    /** Until the circuit lets a trial command through: a fair Retry-After for the caller. */
    readonly retryAfterMs: number,
    cause?: unknown,
  ) {
    super(`Redis is unavailable (${reason}).`, cause === undefined ? undefined : { cause });
    this.name = 'RedisUnavailableError';
  }
}

/** Redis's memory limit and what it does on reaching it (INFO memory). */
export interface EvictionPolicy {
  readonly policy: string;
  readonly maxmemoryBytes: number;
  /** True when Redis may drop keys to make room: a dropped request-token id could be replayed. */
  readonly mayEvict: boolean;
}

export type SharedRedisEvent =
  /** `cause`: the failure that opened the circuit, a Redis or socket message (never a key). */
  | { readonly type: 'circuit'; readonly state: CircuitState; readonly cause?: string }
  | { readonly type: 'unavailable'; readonly use: RedisUse; readonly reason: RedisFailure }
  | { readonly type: 'connection-error'; readonly message: string }
  | { readonly type: 'eviction-policy'; readonly policy: EvictionPolicy };

export interface SharedRedisOptions {
  readonly settings?: Pick<RedisSettings, 'commandTimeoutMs' | 'breakerResetMs'>;
  /** The breaker's clock; injectable for tests. */
  readonly now?: () => number;
  /** How long connecting waits for Redis before returning anyway (the client keeps reconnecting). */
  readonly readyTimeoutMs?: number;
}

/** How often Redis's eviction policy is read again while connected, so a CONFIG SET is noticed. */
const EVICTION_POLICY_CHECK_MS = 60_000;
const TIMED_OUT = 'Command timed out';

/**
 * One Redis connection and its circuit breaker, shared by everything that uses Redis (the replay
 * cache and the rate limiter): one breaker per connection, so a hung Redis costs one command
 * timeout per breaker window in all, not one per request and user.
 *
 * The client fails fast rather than queueing: no offline queue (a command while disconnected
 * fails at once), no retries of a command across reconnections and no resending of commands left
 * unanswered by a lost connection (a claim must not run twice, or its first caller would find its
 * own token replayed), and `commandTimeout` bounds every command. The circuit opens on the first
 * failure: Redis answers within a millisecond when healthy, so one timeout is signal enough, and a
 * second would double what a hung Redis costs. Reconnection is ioredis's own; the breaker's trial
 * command closes the circuit once Redis answers again.
 */
export class SharedRedis {
  readonly #breaker: CircuitBreaker;
  readonly #listeners = new Set<(event: SharedRedisEvent) => void>();
  readonly #resetMs: number;
  readonly #policyTimer: NodeJS.Timeout;
  #lastFailure: string | undefined;
  #evictionPolicy: EvictionPolicy | undefined;
  #connectionErrorReported = false;

  constructor(
    readonly client: Redis,
    options: Pick<SharedRedisOptions, 'settings' | 'now'> = {},
  ) {
    this.#resetMs = options.settings?.breakerResetMs ?? DEFAULT_REDIS_SETTINGS.breakerResetMs;
    this.#breaker = new CircuitBreaker({
      failureThreshold: 1,
      resetMs: this.#resetMs,
      ...(options.now ? { now: options.now } : {}),
      onStateChange: (state) => this.#emit({ type: 'circuit', state, ...(state === 'open' && this.#lastFailure ? { cause: this.#lastFailure } : {}) }),
    });
    // Reported once per lost connection, not once per reconnection attempt.
    client.on('error', (error: Error) => {
      if (this.#connectionErrorReported) return;
      this.#connectionErrorReported = true;
      this.#emit({ type: 'connection-error', message: describe(error) });
    });
    client.on('ready', () => {
      this.#connectionErrorReported = false;
      void this.readEvictionPolicy();
    });
    this.#policyTimer = setInterval(() => {
      if (client.status === 'ready') void this.readEvictionPolicy();
    }, EVICTION_POLICY_CHECK_MS).unref();
  }

  get circuitState(): CircuitState {
    return this.#breaker.state;
  }

  /** The last eviction policy Redis reported; undefined until it has answered once. */
  get evictionPolicy(): EvictionPolicy | undefined {
    return this.#evictionPolicy;
  }

  /**
   * Runs one command through the breaker. Throws RedisUnavailableError, at once while the circuit
   * is open, or when the command fails or times out (which opens it). With `requireNoEviction`,
   * also refuses while Redis may evict keys.
   */
  async run<T>(use: RedisUse, command: (client: Redis) => Promise<T>, options: { readonly requireNoEviction?: boolean } = {}): Promise<T> {
    if (options.requireNoEviction && this.#evictionPolicy?.mayEvict) this.#unavailable(use, 'eviction-policy', this.#resetMs);
    if (!this.#breaker.tryAcquire()) this.#unavailable(use, 'circuit-open', this.#breaker.msUntilTrial());
    let result: T;
    try {
      result = await command(this.client);
    } catch (error) {
      const reason = error instanceof Error && error.message === TIMED_OUT ? 'timeout' : 'error';
      this.#lastFailure = describe(error);
      this.#breaker.failure();
      this.#unavailable(use, reason, this.#breaker.msUntilTrial() || this.#resetMs, error);
    }
    this.#breaker.success();
    return result;
  }

  /** Subscribes to circuit transitions, unavailable commands, connection errors and the eviction policy; returns an unsubscribe. */
  observe(listener: (event: SharedRedisEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads Redis's memory limit and eviction policy again (on every connection, and every minute). */
  async readEvictionPolicy(): Promise<void> {
    let info: string;
    try {
      info = await this.client.info('memory');
    } catch {
      return; // Unknown for now: the next connection or check reads it.
    }
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? 'unknown';
    const maxmemoryBytes = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? 0);
    // Without a memory limit Redis never evicts, whatever the policy says.
    const next: EvictionPolicy = { policy, maxmemoryBytes, mayEvict: maxmemoryBytes > 0 && policy !== 'noeviction' };
    const previous = this.#evictionPolicy;
    this.#evictionPolicy = next;
    if (previous?.policy !== next.policy || previous.maxmemoryBytes !== next.maxmemoryBytes) this.#emit({ type: 'eviction-policy', policy: next });
  }

  async close(): Promise<void> {
    clearInterval(this.#policyTimer);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  #unavailable(use: RedisUse, reason: RedisFailure, retryAfterMs: number, cause?: unknown): never {
    this.#emit({ type: 'unavailable', use, reason });
    throw new RedisUnavailableError(reason, retryAfterMs, cause);
  }

  #emit(event: SharedRedisEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

/** A Redis or socket message, short; these name hosts and ports, never a key or a value. */
function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

/**
 * Connects to Redis for the gateway's shared state. Resolves once connected, or after
 * `readyTimeoutMs` without (the client keeps reconnecting; until then commands fail at once).
 */
export async function connectSharedRedis(url: string, options: SharedRedisOptions = {}): Promise<SharedRedis> {
  const client = new Redis(url, {
    commandTimeout: options.settings?.commandTimeoutMs ?? DEFAULT_REDIS_SETTINGS.commandTimeoutMs,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  const shared = new SharedRedis(client, options);
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.readyTimeoutMs ?? 2000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  // Known before the first request, so a Redis that may evict request-token ids is never trusted with one.
  if (ready) await shared.readEvictionPolicy();
  return shared;
}
