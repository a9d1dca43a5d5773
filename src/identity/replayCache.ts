import { GatewayError } from '../errors/index.js';

/** One request token, as the replay cache needs to know it. */
export interface ReplayClaim {
  /** Unique per issuer: `<organisation number>/<jti>`. */
  readonly id: string;
  /** The token's `iat`. */
  readonly issuedAt: Date;
  /** The last moment the token could be accepted (`exp` plus the clock tolerance): it is remembered until then. */
  readonly acceptableUntil: Date;
  /**
   * How far ahead of the gateway's clock `iat` may be: the token could be accepted from `issuedAt`
   * minus this. A shared cache that lost its memory refuses every token that could have been
   * accepted before.
   */
  readonly clockToleranceMs: number;
}

/**
 * Remembers request-token ids for as long as the tokens could still be accepted, so a token
 * captured on the way (or logged by mistake) cannot be sent a second time. `claim` is atomic:
 * it returns true for the first caller only. RedisReplayCache implements it for several replicas.
 */
export interface ReplayCache {
  /**
   * True when the token was unseen and is now remembered until `acceptableUntil`; false when it was
   * already claimed. Throws a GatewayError when it cannot tell (REPLAY_CACHE_UNAVAILABLE,
   * REPLAY_CACHE_RESET, 503), cannot remember any more (RATE_LIMITED), or finds `iat` ahead of
   * its own clock (TOKEN_INVALID_CLAIM).
   */
  claim(claim: ReplayClaim): Promise<boolean>;
}

export interface MemoryReplayCacheOptions {
  readonly now?: () => number;
  /**
   * Upper bound on remembered ids. Tokens live five minutes at most, so this is only reached
   * under a flood; new tokens are then refused (fail closed) rather than forgetting old ids.
   */
  readonly maxEntries?: number;
}

export class MemoryReplayCache implements ReplayCache {
  readonly #expiries = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #nextPrune = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.#expiries.size;
  }

  async claim(claim: ReplayClaim): Promise<boolean> {
    const now = this.#now();
    if (now >= this.#nextPrune || this.#expiries.size >= this.#maxEntries) this.#prune(now);
    const remembered = this.#expiries.get(claim.id);
    if (remembered !== undefined && remembered > now) return false;
    if (this.#expiries.size >= this.#maxEntries) {
      throw new GatewayError('RATE_LIMITED', 'Too many request tokens in flight; retry shortly.');
    }
    this.#expiries.set(claim.id, claim.acceptableUntil.getTime());
    return true;
  }

  /** Drops a claim whose request was refused before the token was accepted, so the same token may be sent again. */
  forget(id: string): void {
    this.#expiries.delete(id);
  }

  #prune(now: number): void {
    for (const [jti, expiresAt] of this.#expiries) if (expiresAt <= now) this.#expiries.delete(jti);
    this.#nextPrune = now + 10_000;
  }
}
